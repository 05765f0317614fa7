"""An automatic result lands as one undoable step: mapped onto the document's segments by
name/value, locked segments untouched (voxels and values), segments made where needed."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.commands import History
from viewer.commands.auto_result import auto_result_command, plan_labels
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document
from viewer.model.segments import SegmentTable, default_colour

MODEL = {1: "Liver", 2: "Spleen", 3: "Kidney"}


def _doc(labels: np.ndarray) -> Document:
    geo = Geometry(labels.shape, spacing=(0.8, 0.9, 2.5), origin=(3.0, -4.0, 7.0))
    return Document(Volume(np.zeros(labels.shape, np.float32), geo), LabelMap(geo, labels))


def _table(doc):
    return [(s.id, s.name, s.colour, s.locked) for s in doc.segments]


def test_plan_maps_by_name_then_default_name_value_then_new_value():
    t = SegmentTable()
    t.add("spleen ", segment_id=5)  # name match, case and spaces ignored
    t.add("Segment 1", segment_id=1)  # default name: taken by value, renamed
    t.add("Tumour", segment_id=3)  # value 3 taken by another name: Kidney gets a new value
    plan = plan_labels(t, MODEL)
    assert plan.targets == {1: 1, 2: 5, 3: 2}
    assert plan.renamed == [(1, "Liver")]
    assert plan.new == [(2, "Kidney", default_colour(2))]
    assert plan.locked == []


def test_plan_never_targets_a_locked_segment_nor_its_value():
    t = SegmentTable()
    t.add("Liver", segment_id=4).locked = True
    t.add("Segment 2", segment_id=2).locked = True  # default-named but locked: not by value
    plan = plan_labels(t, MODEL)
    assert plan.locked == ["Liver"]
    assert 1 not in plan.targets
    assert plan.targets == {2: 1, 3: 3}
    assert plan.new == [(1, "Spleen", default_colour(1)), (3, "Kidney", default_colour(3))]


def test_result_is_one_undo_step_with_new_segments_and_exact_voxels():
    old = np.zeros((4, 5, 6), np.uint16)
    old[0, 0, :3] = 7  # another structure the model knows nothing about
    doc = _doc(old.copy())
    doc.segments.get(7).name = "Lesion"
    before_table = _table(doc)
    geometry = doc.volume.geometry
    result = np.zeros(old.shape, np.int32)
    result[1:3, 1:4, 1:4] = 1  # Liver
    result[3, :, 4:] = 3  # Kidney
    result[0, 0, 0] = 2  # Spleen over the lesion: the model claims it
    history = History(doc)
    command, report = auto_result_command(doc, result, MODEL, "v7")
    history.push(command)

    expected = old.copy()
    expected[1:3, 1:4, 1:4] = 1
    expected[3, :, 4:] = 3
    expected[0, 0, 0] = 2
    assert np.array_equal(doc.labels.array, expected)
    assert [(s.id, s.name) for s in doc.segments] == [
        (7, "Lesion"), (1, "Liver"), (2, "Spleen"), (3, "Kidney"),
    ]  # fmt: skip
    assert history.undo_names() == ["Auto-segment (v7)"]
    assert report.voxels == {"Liver": 18, "Spleen": 1, "Kidney": 10}
    assert report.created == ["Liver", "Spleen", "Kidney"]
    assert report.changed == 29
    assert report.text() == (
        "Auto-segmented with model v7: Liver 18 voxels, Spleen 1 voxels, Kidney 10 voxels; "
        "new segments 'Liver', 'Spleen', 'Kidney'."
    )
    history.undo()
    assert np.array_equal(doc.labels.array, old)
    assert _table(doc) == before_table
    assert doc.volume.geometry is geometry and doc.labels.geometry.same_grid(geometry)
    history.redo()
    assert np.array_equal(doc.labels.array, expected)


def test_locked_segments_keep_every_voxel_and_their_value():
    old = np.zeros((3, 6, 6), np.uint16)
    old[:, :2, :2] = 1  # "Liver", locked: the model's Liver is left out
    old[:, 4:, 4:] = 2  # "Bone", locked: the model's Spleen must not take its voxels
    old[0, 3, 3] = 3  # "Spleen" (unlocked): the model's answer replaces it
    doc = _doc(old.copy())
    for sid, name, locked in ((1, "Liver", True), (2, "Bone", True), (3, "Spleen", False)):
        doc.segments.get(sid).name = name
        doc.segments.get(sid).locked = locked
    result = np.zeros(old.shape, np.int64)
    result[:, :3, :3] = 1  # Liver over the locked liver and beyond
    result[:, 3:, 3:] = 2  # Spleen over the locked bone and beyond
    command, report = auto_result_command(doc, result, {1: "Liver", 2: "Spleen"}, "v1")
    History(doc).push(command)
    expected = old.copy()
    expected[0, 3, 3] = 0
    region = np.zeros(old.shape, bool)
    region[:, 3:, 3:] = True
    expected[region & (old != 2)] = 3  # Spleen's segment value, never Bone's voxels
    assert np.array_equal(doc.labels.array, expected)
    assert report.locked == ["Liver"]
    assert report.voxels == {"Spleen": 3 * 9 - 3 * 4}
    assert [(s.id, s.name, s.locked) for s in doc.segments] == [
        (1, "Liver", True), (2, "Bone", True), (3, "Spleen", False),
    ]  # fmt: skip


def test_same_result_twice_changes_nothing_and_bad_results_are_refused():
    doc = _doc(np.zeros((2, 3, 3), np.uint16))
    result = np.zeros((2, 3, 3), np.uint8)
    result[1] = 2
    History(doc).push(auto_result_command(doc, result, MODEL, "v1")[0])
    command, report = auto_result_command(doc, result, MODEL, "v1")
    assert command is None
    assert report.text() == (
        "Auto-segmented with model v1: Spleen 9 voxels; the labels were already so."
    )
    with pytest.raises(ValueError, match="not on the image grid"):
        auto_result_command(doc, np.zeros((2, 3, 4), np.uint8), MODEL, "v1")
