"""Helpers shared by the Qt tests: a synthetic phantom document and widget pixel capture."""

from __future__ import annotations

import numpy as np

from viewer.model.document import Document
from viewer.model.geometry import Geometry
from viewer.model.volume import Volume


def phantom_document(direction=None, spacing=(1.0, 1.0, 2.0), shape=(20, 40, 50)) -> Document:
    """A CT-like box: -1000 air, a 0 HU body, and bright markers that reveal orientation:
    a +1000 block at low x/low y index (patient right-anterior for an LPS grid) on every
    slice, and a label (id 1) block at high x."""
    a = np.full(shape, -1000, dtype=np.int16)
    a[:, 5:-5, 5:-5] = 0
    a[:, 8:14, 8:16] = 1000
    g = Geometry(shape, spacing, (10.0, -20.0, 30.0), np.eye(3) if direction is None else direction)
    doc = Document(Volume(a, g, "CT", name="phantom"))
    lab = np.zeros(shape, dtype=np.uint16)
    lab[5:15, 20:30, 32:42] = 1
    doc.replace_labels(lab)
    return doc


def grab_rgb(widget) -> np.ndarray:
    from viewer.qt.screenshot import qimage_to_rgb

    return qimage_to_rgb(widget.grab().toImage())
