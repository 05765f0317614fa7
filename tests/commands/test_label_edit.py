"""LabelEdit stores only changed voxels and restores them exactly."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.commands import LabelEdit
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document


def make_doc(shape=(20, 30, 40), seed=0) -> Document:
    rng = np.random.default_rng(seed)
    geo = Geometry(shape, spacing=(0.5, 0.7, 2.0), origin=(1, 2, 3))
    vol = Volume(rng.normal(size=shape).astype(np.float32), geo)
    labels = rng.integers(0, 4, size=shape).astype(np.uint16)
    return Document(vol, LabelMap(geo, labels))


def test_sparse_edit_roundtrip_and_bbox_is_tight():
    doc = make_doc()
    before = doc.labels.array.copy()
    new = doc.labels.array[2:10, 3:20, 5:30].copy()
    new[0, 1, 0] = 9
    new[7, 16, 23] = 9
    e = LabelEdit.from_box("x", doc.labels.array, (2, 3, 5, 10, 20, 30), new)
    assert e is not None and e.count == 2
    assert e.flat_index is not None  # two voxels: stored as indices
    assert e.bbox == (2, 4, 5, 10, 20, 29)
    seen = []
    doc.labels_changed.connect(seen.append)
    e.do(doc)
    assert doc.labels.array[2, 4, 5] == 9 and doc.labels.array[9, 19, 28] == 9
    assert seen == [e.bbox]
    e.undo(doc)
    assert np.array_equal(doc.labels.array, before)


def test_dense_edits_roundtrip_as_xor_groups_or_packed_mask():
    doc = make_doc()
    before = doc.labels.array.copy()
    full = (0, 0, 0, *doc.labels.array.shape)
    new = (doc.labels.array + 1) % 5  # few distinct old^new values: XOR groups
    e = LabelEdit.from_box("all", doc.labels.array, full, new)
    assert e.xor_groups is not None and e.flat_index is None and e.packed_mask is None
    assert len(e.xor_groups) <= 8
    e.do(doc)
    assert np.array_equal(doc.labels.array, new)
    e.undo(doc)
    assert np.array_equal(doc.labels.array, before)
    e.do(doc)
    assert np.array_equal(doc.labels.array, new)
    e.undo(doc)
    rng = np.random.default_rng(3)
    new2 = rng.integers(0, 1000, size=before.shape).astype(np.uint16)  # many distinct values
    e2 = LabelEdit.from_box("noise", doc.labels.array, full, new2)
    assert e2.xor_groups is None and e2.packed_mask is not None
    e2.do(doc)
    assert np.array_equal(doc.labels.array, new2)
    e2.undo(doc)
    assert np.array_equal(doc.labels.array, before)


def test_no_change_gives_none_and_uniform_values_are_compact():
    doc = make_doc()
    arr = doc.labels.array
    assert LabelEdit.from_box("n", arr, (0, 0, 0, 2, 2, 2), arr[:2, :2, :2].copy()) is None
    arr[:] = 0
    new = np.full((4, 4, 4), 3, np.uint16)
    e = LabelEdit.from_box("u", arr, (0, 0, 0, 4, 4, 4), new)
    assert e.nbytes() < 64 + 300  # a bit mask, not 2 x 2 bytes per voxel
    arr[0:20:19, 0:30:29, 0:40:39] = 5
    new = np.zeros((20, 30, 40), np.uint16)  # clear a few scattered voxels
    e = LabelEdit.from_box("u", arr, (0, 0, 0, 20, 30, 40), new)
    assert e.flat_index is not None and e.old == 5 and e.new == 0


def test_shape_mismatch_is_an_error():
    doc = make_doc()
    with pytest.raises(ValueError):
        LabelEdit.from_box("bad", doc.labels.array, (0, 0, 0, 2, 2, 2), np.zeros((3, 3, 3)))


def test_dense_edit_in_odd_sub_box_roundtrips():
    doc = make_doc(shape=(9, 13, 11))
    before = doc.labels.array.copy()
    new = doc.labels.array[1:8, 2:11, 3:10].copy()
    new[::2] = 7  # dense, a few distinct changes, plane of 9 x 7 (not a multiple of 8)
    e = LabelEdit.from_box("odd", doc.labels.array, (1, 2, 3, 8, 11, 10), new)
    assert e.xor_groups is not None
    e.do(doc)
    assert np.array_equal(doc.labels.array[1:8, 2:11, 3:10], new)
    e.undo(doc)
    assert np.array_equal(doc.labels.array, before)
