"""Fixtures for the viewer's Qt tests: pyqtgraph configured, synthetic documents, the window."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.model.document import Document
from viewer.model.geometry import Geometry
from viewer.model.volume import Volume


@pytest.fixture
def qapp_configured(qapp):
    from viewer.qt.app import configure_pyqtgraph

    configure_pyqtgraph()
    return qapp


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


@pytest.fixture
def phantom():
    return phantom_document()


@pytest.fixture
def window(qapp_configured, qtbot, monkeypatch):
    from viewer.qt.main_window import MainWindow

    errors: list[str] = []
    monkeypatch.setattr(
        "PyQt5.QtWidgets.QMessageBox.critical", lambda *a, **k: errors.append(a[2]) or 0
    )
    w = MainWindow()
    w.errors = errors
    qtbot.addWidget(w)
    w.resize(900, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def grab_rgb(widget) -> np.ndarray:
    from viewer.qt.screenshot import qimage_to_rgb

    return qimage_to_rgb(widget.grab().toImage())
