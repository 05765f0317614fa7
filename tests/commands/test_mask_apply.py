"""The shared mask rules: locks, overwrite option, erase only the active segment, threshold."""

from __future__ import annotations

import numpy as np

from viewer.commands import History, MaskMode, PaintOptions, edit_from_mask
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document


def make_doc() -> Document:
    shape = (4, 10, 10)
    geo = Geometry(shape)
    img = np.tile(np.arange(10, dtype=np.float32), (4, 10, 1))  # intensity = x
    labels = np.zeros(shape, np.uint16)
    labels[:, :, 0:3] = 1
    labels[:, :, 3:5] = 2
    doc = Document(Volume(img, geo), LabelMap(geo, labels))
    doc.segments.add("C", segment_id=3)
    return doc


FULL = (0, 0, 0, 4, 10, 10)


def test_locked_segment_is_never_overwritten():
    doc = make_doc()
    doc.segments.get(2).locked = True
    e = edit_from_mask(doc, FULL, np.ones((4, 10, 10), bool), 3)
    e.do(doc)
    assert (doc.labels.array[:, :, 3:5] == 2).all()
    assert (doc.labels.array[:, :, 0:3] == 3).all()  # unlocked others are overwritten
    assert (doc.labels.array[:, :, 5:] == 3).all()


def test_locked_active_segment_cannot_be_painted_or_erased():
    doc = make_doc()
    doc.segments.get(1).locked = True
    m = np.ones((4, 10, 10), bool)
    assert edit_from_mask(doc, FULL, m, 1) is None
    assert edit_from_mask(doc, FULL, m, 1, MaskMode.REMOVE) is None
    assert edit_from_mask(doc, FULL, np.zeros_like(m), 1, MaskMode.SET) is None


def test_no_overwrite_paints_background_only():
    doc = make_doc()
    e = edit_from_mask(doc, FULL, np.ones((4, 10, 10), bool), 3, options=PaintOptions(False))
    e.do(doc)
    assert (doc.labels.array[:, :, 0:3] == 1).all() and (doc.labels.array[:, :, 3:5] == 2).all()
    assert (doc.labels.array[:, :, 5:] == 3).all()


def test_erase_removes_only_active_segment():
    doc = make_doc()
    e = edit_from_mask(doc, FULL, np.ones((4, 10, 10), bool), 1, MaskMode.REMOVE)
    e.do(doc)
    assert (doc.labels.array[:, :, 0:3] == 0).all() and (doc.labels.array[:, :, 3:5] == 2).all()


def test_set_mode_and_threshold_and_box_outside_image():
    doc = make_doc()
    h = History(doc)
    before = doc.labels.array.copy()
    mask = np.zeros((4, 10, 10), bool)
    mask[:, :, 1] = True
    h.push(edit_from_mask(doc, FULL, mask, 1, MaskMode.SET))
    assert (doc.labels.array == 1).sum() == 40
    h.undo()
    assert np.array_equal(doc.labels.array, before)
    # threshold: only intensities 6..7 are painted; the box sticks out of the image
    opts = PaintOptions(intensity_range=(6, 7))
    box = (-2, -2, 4, 6, 12, 14)
    h.push(edit_from_mask(doc, box, np.ones((8, 14, 10), bool), 3, options=opts))
    painted = doc.labels.array == 3
    assert painted[:, :, 6:8].all() and painted.sum() == 80
