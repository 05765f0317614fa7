"""Segment-table changes are commands: each undoes exactly."""

from __future__ import annotations

import numpy as np

from viewer.commands import History
from viewer.commands.segment_commands import (
    AddSegment,
    LockSegment,
    MoveSegment,
    RecolourSegment,
    RemoveSegment,
    RenameSegment,
    ReplaceSegmentTable,
    ShowSegment,
)
from viewer.model import Geometry, LabelMap, Segment, Volume
from viewer.model.document import Document


def snapshot(doc):
    return [(s.id, s.name, s.colour, s.visible, s.locked) for s in doc.segments]


def test_all_segment_commands_undo():
    geo = Geometry((3, 5, 5))
    labels = np.zeros((3, 5, 5), np.uint16)
    labels[1, 1:3, 1:3] = 1
    labels[2] = 2
    doc = Document(Volume(np.zeros((3, 5, 5), np.float32), geo), LabelMap(geo, labels))
    h = History(doc)
    events = []
    doc.segments_changed.connect(lambda: events.append(1))
    states = [(snapshot(doc), doc.labels.array.copy())]
    cmds = [
        AddSegment("Spleen", (1, 2, 3)),
        RenameSegment(1, "Liver"),
        RecolourSegment(1, (9, 9, 9)),
        LockSegment(2),
        ShowSegment(2, False),
        MoveSegment(3, 0),
        RemoveSegment(1),
        ReplaceSegmentTable([Segment(2, "Kidney", (5, 5, 5))]),
    ]
    for c in cmds:
        h.push(c)
        states.append((snapshot(doc), doc.labels.array.copy()))
    assert snapshot(doc) == [(2, "Kidney", (5, 5, 5), True, False)]
    assert "Rename Segment 1" in h.undo_names() and "Remove segment Liver" in h.undo_names()
    assert len(events) == len(cmds)
    for i in range(len(cmds), 0, -1):
        h.undo()
        assert snapshot(doc) == states[i - 1][0]
        assert np.array_equal(doc.labels.array, states[i - 1][1])
    for i in range(1, len(cmds) + 1):
        h.redo()
        assert snapshot(doc) == states[i][0]
        assert np.array_equal(doc.labels.array, states[i][1])
    assert not (doc.labels.array == 1).any()
