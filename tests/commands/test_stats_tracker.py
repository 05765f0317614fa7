"""StatisticsTracker equals a full `segment_statistics` pass after every edit, undo and redo,
for integer images (histogram min/max) and float images (min/max recomputed when removed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.commands import History, LabelEdit
from viewer.model.document import Document
from viewer.model.geometry import Geometry
from viewer.model.statistics import segment_statistics
from viewer.model.stats_tracker import StatisticsTracker
from viewer.model.volume import Volume


def _same(rows, want) -> None:
    assert [r.segment_id for r in rows] == [w.segment_id for w in want]
    for r, w in zip(rows, want):
        assert r.voxels == w.voxels
        for name in ("volume_ml", "mean", "std", "min", "max"):
            a, b = getattr(r, name), getattr(w, name)
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), name


@pytest.mark.parametrize(
    ("dtype", "max_entries"),
    [
        (np.int16, None),  # histogram min/max
        (np.float32, None),  # no histogram: stale min/max recomputed
        (np.int16, 1),  # many label values: no histogram from the start
        (np.int16, "grow"),  # the histogram is dropped when a new label value needs a row
    ],
)
def test_random_edits_keep_every_column_exact(dtype, max_entries, monkeypatch):
    import viewer.model.stats_tracker as st

    if max_entries == 1:
        monkeypatch.setattr(st, "MAX_HIST_ENTRIES", 1)
    rng = np.random.default_rng(7)
    shape = (12, 30, 40)
    img = (rng.normal(0, 300, shape)).astype(dtype)
    doc = Document(Volume(img, Geometry(shape, (0.7, 0.7, 2.0)), "CT"))
    lab = np.zeros(shape, np.uint16)
    lab[2:8, 5:20, 5:25] = 1
    lab[4:10, 15:28, 20:38] = 2
    doc.replace_labels(lab)
    doc.segments.add("Third")  # id 3, empty for now
    tracker = StatisticsTracker(doc)
    _same(tracker.rows(), segment_statistics(doc))
    assert tracker.full_passes == 1
    if max_entries == "grow":  # room for labels 0..2 only: label 3 drops the histogram
        monkeypatch.setattr(st, "MAX_HIST_ENTRIES", 3 * tracker._bins)
    history = History(doc)
    for _ in range(25):
        z0, y0, x0 = (int(rng.integers(0, n - 4)) for n in shape)
        z1, y1, x1 = z0 + 4, y0 + int(rng.integers(2, 10)), x0 + int(rng.integers(2, 10))
        box = (z0, y0, x0, z1, min(y1, shape[1]), min(x1, shape[2]))
        new = doc.labels.array[z0 : box[3], y0 : box[4], x0 : box[5]].copy()
        new[rng.random(new.shape) < 0.6] = rng.integers(0, 4)
        history.push(LabelEdit.from_box("edit", doc.labels.array, box, new))
        _same(tracker.rows(), segment_statistics(doc))
        if rng.random() < 0.3:
            history.undo()
            _same(tracker.rows(), segment_statistics(doc))
            history.redo()
            _same(tracker.rows(), segment_statistics(doc))
    assert tracker.full_passes == 1  # everything after the first pass came from the boxes


def test_replaced_labels_start_afresh():
    shape = (4, 6, 8)
    doc = Document(Volume(np.arange(np.prod(shape), dtype=np.int16).reshape(shape),
                          Geometry(shape, (1.0, 1.0, 1.0)), "CT"))  # fmt: skip
    tracker = StatisticsTracker(doc)
    tracker.rows()
    lab = np.zeros(shape, np.uint16)
    lab[1:3, 2:4, 2:6] = 5
    doc.replace_labels(lab)
    _same(tracker.rows(), segment_statistics(doc))
    assert tracker.full_passes == 2
    assert tracker.rows()[0].min == float(doc.volume.array[1, 2, 2])


def test_an_edit_of_many_label_values_is_followed_by_one_full_pass():
    shape = (6, 20, 20)
    rng = np.random.default_rng(3)
    doc = Document(Volume(rng.integers(-100, 100, shape).astype(np.int16),
                          Geometry(shape, (1.0, 1.0, 1.0)), "CT"))  # fmt: skip
    tracker = StatisticsTracker(doc)
    tracker.rows()
    history = History(doc)
    new = rng.integers(0, 200, shape).astype(np.uint16)  # 200 values at once (a label file)
    doc.segments.ensure(np.unique(new))
    history.push(LabelEdit.from_box("open", doc.labels.array, (0, 0, 0, *shape), new))
    _same(tracker.rows(), segment_statistics(doc))
    assert tracker.full_passes == 2


def test_nan_voxels_count_for_the_volume_and_not_for_the_intensities():
    shape = (6, 10, 12)
    img = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    img[:, :3] = np.nan  # no data there (outside a field of view)
    img[0, 5, 5] = np.inf
    doc = Document(Volume(img, Geometry(shape), "MR"))
    lab = np.zeros(shape, np.uint16)
    lab[1:4, 1:6, 2:8] = 1  # partly over the NaN rows
    doc.replace_labels(lab)
    tracker = StatisticsTracker(doc)
    (row,) = segment_statistics(doc)
    inside = img[1:4, 1:6, 2:8]
    finite = inside[np.isfinite(inside)].astype(np.float64)
    assert row.voxels == inside.size
    assert row.mean == pytest.approx(finite.mean()) and row.std == pytest.approx(finite.std())
    assert (row.min, row.max) == (finite.min(), finite.max())
    _same(tracker.rows(), [row])
    history = History(doc)
    new = lab.copy()
    new[0:2, 0:4, 0:4] = 1  # paint over NaN voxels, then take it back
    history.push(LabelEdit.from_box("Paint", lab, (0, 0, 0, *shape), new))
    _same(tracker.rows(), segment_statistics(doc))
    history.undo()
    _same(tracker.rows(), [row])
    assert tracker.full_passes == 1
