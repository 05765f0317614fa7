"""Whole-segment operations: interpolation, islands, holes, smoothing, margins, logic, locks."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.masks import dice
from viewer.commands import History
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document
from viewer.tools import islands, logical, morphology
from viewer.tools.interpolate import fill_between_slices


def _drop_slices(truth, axis, step):
    idx = np.flatnonzero(truth.any(axis=tuple(a for a in range(3) if a != axis)))
    keep = set(idx[::step].tolist()) | {int(idx[-1])}
    missing = [i for i in idx if i not in keep]
    drawn = truth.copy()
    sl = [slice(None)] * 3
    sl[axis] = missing
    drawn[tuple(sl)] = False
    return drawn, missing, sorted(keep)


def test_interpolation_sagittal_slices_of_brain_tumour(brain_tumour):
    doc = brain_tumour
    truth = doc.labels.array == 1
    drawn, missing, keep = _drop_slices(truth, 2, 3)  # every third sagittal slice drawn
    doc.labels.array[:] = drawn.astype(np.uint16)
    h = History(doc)
    before = doc.labels.array.copy()
    h.push(fill_between_slices(doc, 1, axis=2))
    result = doc.labels.array == 1
    assert h.undo_names() == ["Fill between slices of Segment 1"]
    assert dice(result[:, :, missing], truth[:, :, missing]) > 0.85
    assert np.array_equal(result[:, :, keep], drawn[:, :, keep])  # drawn slices untouched
    h.undo()
    assert np.array_equal(doc.labels.array, before)


def test_interpolation_axial_thick_slices_follows_moving_tumour(brain_tumour):
    doc = brain_tumour
    truth = doc.labels.array == 1
    drawn, missing, _ = _drop_slices(truth, 0, 2)  # 6.5 mm slices; the tumour moves ~30 mm
    doc.labels.array[:] = drawn.astype(np.uint16)
    fill_between_slices(doc, 1, axis=0).do(doc)
    result = doc.labels.array == 1
    area = truth.sum(axis=(1, 2))
    for z in missing:
        # every gap slice is filled with an area between its drawn neighbours' areas
        lo, hi = sorted((area[z - 1], area[z + 1]))
        assert lo <= result[z].sum() <= hi, (z, result[z].sum(), lo, hi)


def make_doc(labels, spacing=(1.0, 1.0, 1.0)):
    geo = Geometry(labels.shape, spacing=spacing)
    doc = Document(Volume(np.zeros(labels.shape, np.float32), geo), LabelMap(geo, labels))
    return doc


def blobs():
    lab = np.zeros((20, 40, 40), np.uint16)
    lab[5:15, 5:20, 5:20] = 1  # big
    lab[5:8, 30:33, 30:33] = 1  # 27 voxels
    lab[10, 35, 5] = 1  # 1 voxel
    return lab


def test_islands_keep_largest_remove_small_split():
    doc = make_doc(blobs())
    h = History(doc)
    before = doc.labels.array.copy()
    h.push(islands.keep_largest(doc, 1))
    assert (doc.labels.array == 1).sum() == 10 * 15 * 15
    h.undo()
    h.push(islands.remove_small(doc, 1, 10))
    assert (doc.labels.array == 1).sum() == 10 * 15 * 15 + 27
    h.undo()
    assert np.array_equal(doc.labels.array, before)
    h.push(islands.split_islands(doc, 1))
    assert [s.name for s in doc.segments] == ["Segment 1", "Segment 1 2", "Segment 1 3"]
    assert (doc.labels.array == 2).sum() == 27 and (doc.labels.array == 3).sum() == 1
    assert h.undo_names()[-1] == "Split islands of Segment 1"
    h.undo()
    assert np.array_equal(doc.labels.array, before) and len(doc.segments) == 1


def _specks(n_specks: int) -> np.ndarray:
    """A 4x4x4 block (value 1) and `n_specks` single voxels of 1, two voxels apart."""
    lab = np.zeros((4, 40, 40), np.uint16)
    lab[0:4, 0:4, 0:4] = 1
    spots = [(z, y, x) for z in (0, 2) for y in range(6, 40, 2) for x in range(0, 40, 2)]
    for z, y, x in spots[:n_specks]:
        lab[z, y, x] = 1
    return lab


def test_split_into_the_most_segments_allowed_gives_each_island_its_own_value():
    lab = _specks(islands.MAX_SPLIT_SEGMENTS)
    doc = make_doc(lab.copy())
    doc.segments.add("Other", segment_id=7)  # a used value is skipped
    h = History(doc)
    h.push(islands.split_islands(doc, 1))
    out = doc.labels.array
    assert int((out == 1).sum()) == 64  # the largest island keeps its value
    new = [s.id for s in doc.segments if s.id not in (1, 7)]
    assert len(new) == islands.MAX_SPLIT_SEGMENTS and 7 not in new
    assert sorted(np.unique(out[lab == 1]).tolist()) == sorted([1, *new])
    assert all(int((out == v).sum()) == 1 for v in new)
    h.undo()
    assert np.array_equal(doc.labels.array, lab)


def test_splitting_thousands_of_specks_is_refused_with_the_way_out():
    lab = _specks(islands.MAX_SPLIT_SEGMENTS + 1)
    doc = make_doc(lab.copy())
    with pytest.raises(islands.TooManyIslands) as e:
        islands.split_islands(doc, 1)
    assert e.value.message == (
        f"Segment 1 has {islands.MAX_SPLIT_SEGMENTS + 2} islands: splitting would make "
        f"{islands.MAX_SPLIT_SEGMENTS + 1} segments (at most {islands.MAX_SPLIT_SEGMENTS}). "
        "Remove the small islands first."
    )
    assert np.array_equal(doc.labels.array, lab) and len(doc.segments) == 1


def test_fill_holes_smoothing_and_margin_in_mm():
    lab = np.zeros((30, 30, 30), np.uint16)
    lab[5:25, 5:25, 5:25] = 1
    lab[12:18, 12:18, 12:18] = 0  # a cavity
    lab[15, 2, 2] = 1  # speck
    doc = make_doc(lab, spacing=(1.0, 1.0, 2.0))  # z is 2 mm
    h = History(doc)
    h.push(morphology.fill_holes(doc, 1))
    assert (doc.labels.array[12:18, 12:18, 12:18] == 1).all()
    assert h.undo_names() == ["Fill holes in Segment 1"]
    h.push(morphology.smooth(doc, 1, "opening", 3.0))
    assert doc.labels.array[15, 2, 2] == 0 and doc.labels.array[15, 15, 15] == 1
    h.undo()
    h.push(morphology.smooth(doc, 1, "median", 3.0))
    assert doc.labels.array[15, 2, 2] == 0
    h.undo()
    n0 = (doc.labels.array == 1).sum()
    h.push(morphology.margin(doc, 1, 4.0))
    grown = doc.labels.array == 1
    # 4 mm is 4 voxels in x/y but only 2 slices in z
    assert grown[15, 15, 1] and not grown[15, 15, 0]
    assert grown[3, 15, 15] and not grown[2, 15, 15]
    h.undo()
    h.push(morphology.margin(doc, 1, -2.0))
    shrunk = doc.labels.array == 1
    assert shrunk.sum() < n0 and not shrunk[5, 15, 15] and shrunk[6, 15, 15]
    assert not shrunk[15, 5, 15] and not shrunk[15, 6, 15] and shrunk[15, 7, 15]
    with pytest.raises(ValueError):
        morphology.smooth(doc, 1, "blur")


def test_logical_ops_and_locks_never_overwritten_by_any_op():
    lab = np.zeros((10, 10, 10), np.uint16)
    lab[2:5, 2:5, 2:5] = 1
    lab[5:8, 2:5, 2:5] = 2
    lab[0, 0, 0] = 3
    doc = make_doc(lab)
    h = History(doc)
    box = np.zeros(lab.shape, bool)
    box[3:10, :, :] = True
    h.push(logical.logical_op(doc, 1, box, "intersect", "box"))
    assert (doc.labels.array == 1).sum() == 2 * 9
    h.push(logical.logical_op(doc, 1, box, "subtract", "box"))
    assert not (doc.labels.array == 1).any()
    h.undo()
    h.undo()
    h.push(logical.segment_logical(doc, 1, 2, "union"))
    assert (doc.labels.array == 1).sum() == 54 and not (doc.labels.array == 2).any()
    h.undo()
    # lock 2 and try everything that could touch it
    doc.segments.get(2).locked = True
    locked_before = doc.labels.array == 2
    h.push(logical.segment_logical(doc, 1, 2, "union"))
    h.push(morphology.margin(doc, 1, 5.0))
    h.push(morphology.smooth(doc, 1, "closing", 5.0))
    h.push(morphology.fill_holes(doc, 1))
    assert np.array_equal(doc.labels.array == 2, locked_before)
    assert islands.split_islands(doc, 2) is None
    assert morphology.margin(doc, 2, -1.0) is None and morphology.fill_holes(doc, 2) is None
    with pytest.raises(ValueError):
        logical.logical_op(doc, 1, box, "xor")


def test_all_segment_ops_on_ct_liver_keep_locks_and_undo_exactly(ct):
    """Every whole-segment operation on the real CT liver, with its neighbours locked."""
    doc = ct
    for s in doc.segments:
        s.locked = s.id != 5
    locked_before = (doc.labels.array != 5) & (doc.labels.array != 0)
    before = doc.labels.array.copy()
    h = History(doc)
    liver0 = (doc.labels.array == 5).sum()
    ops = [
        morphology.margin(doc, 5, 6.0),
    ]
    h.push(ops[0])
    grown = (doc.labels.array == 5).sum()
    assert grown > liver0
    for make in (
        lambda: morphology.fill_holes(doc, 5),
        lambda: morphology.smooth(doc, 5, "closing", 6.0),
        lambda: morphology.smooth(doc, 5, "median", 6.0),
        lambda: morphology.margin(doc, 5, -3.0),
        lambda: islands.remove_small(doc, 5, 50),
        lambda: islands.keep_largest(doc, 5),
        lambda: logical.segment_logical(doc, 5, 1, "union"),  # spleen is locked: no change
        lambda: fill_between_slices(doc, 5, axis=0),
    ):
        h.push(make())
        assert np.array_equal((doc.labels.array != 5) & (doc.labels.array != 0), locked_before)
    assert len(h.undo_names()) >= 4
    while h.undo():
        pass
    assert np.array_equal(doc.labels.array, before)


@pytest.mark.parametrize("method", ["median", "opening", "closing"])
def test_smoothing_keeps_a_segment_that_runs_out_of_the_image(method):
    lab = np.zeros((20, 40, 40), np.uint16)
    z, y, x = np.mgrid[:20, :40, :40]
    lab[(y - 20) ** 2 + (x - 20) ** 2 <= 64] = 1  # a cylinder through every slice
    doc = make_doc(lab)
    per_slice = (lab == 1).sum(axis=(1, 2))
    History(doc).push(morphology.smooth(doc, 1, method, 3.0))
    after = (doc.labels.array == 1).sum(axis=(1, 2))
    # the first and last slices are not eaten as if the image ended in background
    assert after[0] == after[10] == after[19] and after[0] >= 0.9 * per_slice[0]


@pytest.mark.parametrize("method", ["median", "opening", "closing"])
def test_smoothing_and_fill_holes_work_on_a_one_slice_image(method):
    lab = np.zeros((1, 60, 60), np.uint16)
    y, x = np.mgrid[:60, :60]
    disk = (y - 30) ** 2 + (x - 30) ** 2 <= 225
    lab[0][disk] = 1
    doc = make_doc(lab, spacing=(0.5, 0.5, 1.0))
    History(doc).push(morphology.smooth(doc, 1, method, 3.0))
    assert (doc.labels.array == 1).sum() >= 0.95 * disk.sum()
    ring = disk & ((y - 30) ** 2 + (x - 30) ** 2 > 4)
    lab[0] = np.where(ring, 1, 0)
    doc = make_doc(lab, spacing=(0.5, 0.5, 1.0))
    History(doc).push(morphology.fill_holes(doc, 1))
    assert np.array_equal(doc.labels.array[0] == 1, disk)


def test_median_of_a_large_kernel_keeps_a_solid_block():
    lab = np.zeros((50, 50, 50), np.uint16)
    lab[5:45, 5:45, 5:45] = 1
    doc = make_doc(lab, spacing=(0.25, 0.25, 0.25))
    # a 10 mm ball at 0.25 mm: about 33,500 voxels, past the 16-bit vote count
    History(doc).push(morphology.smooth(doc, 1, "median", 10.0))
    assert doc.labels.array[25, 25, 25] == 1
    assert (doc.labels.array[15:35, 15:35, 15:35] == 1).all()
