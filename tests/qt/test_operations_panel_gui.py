"""The segment operations panel, driven by clicks on its buttons in the main window: each
operation changes exactly the voxels it should, as one undo step."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtWidgets


def _button(panel, text):
    (b,) = [b for b in panel.findChildren(QtWidgets.QPushButton) if b.text() == text]
    return b


def test_keep_largest_and_remove_small_by_button(window, editing, qtbot):
    ctl, doc = editing
    panel = ctl.operations_panel
    sid = ctl.state.active_segment_id
    lab = doc.labels.array
    big = lab == sid  # the phantom's 10x10x10 block
    assert int(big.sum()) == 1000
    lab[2, 2:4, 2:4] = sid  # a 4-voxel island, away from the block
    before = lab.copy()
    window.docks["Segment operations"].raise_()
    qtbot.mouseClick(_button(panel, "Keep largest"), QtCore.Qt.LeftButton)
    assert np.array_equal(doc.labels.array == sid, big)
    assert ctl.history.undo_names()[-1] == f"Keep largest island of {doc.segments.get(sid).name}"
    ctl.history.undo()
    assert np.array_equal(doc.labels.array, before)
    panel.min_voxels.setValue(5)  # the island (4) goes, the block (1000) stays
    qtbot.mouseClick(_button(panel, "Remove"), QtCore.Qt.LeftButton)
    assert np.array_equal(doc.labels.array == sid, big)
    panel.min_voxels.setValue(1001)
    ctl.history.undo()
    qtbot.mouseClick(_button(panel, "Remove"), QtCore.Qt.LeftButton)
    assert int((doc.labels.array == sid).sum()) == 0


def test_fill_between_slices_by_button(window, editing, qtbot):
    ctl, doc = editing
    panel = ctl.operations_panel
    sid = ctl.state.active_segment_id
    lab = doc.labels.array
    lab[:] = 0
    lab[4, 10:20, 10:20] = sid
    lab[8, 10:20, 10:20] = sid
    panel.axis.setCurrentIndex(0)  # axial: the drawn slices are z = 4 and z = 8
    qtbot.mouseClick(_button(panel, "Fill between"), QtCore.Qt.LeftButton)
    filled = doc.labels.array == sid
    assert np.flatnonzero(filled.any(axis=(1, 2))).tolist() == [4, 5, 6, 7, 8]
    assert np.array_equal(filled[6], filled[4])  # equal squares interpolate to the same square


def test_split_islands_refused_for_specks_says_why_in_the_status_bar(window, editing, qtbot):
    from viewer.tools.islands import MAX_SPLIT_SEGMENTS

    ctl, doc = editing
    sid = ctl.state.active_segment_id
    lab = doc.labels.array
    free = np.argwhere(lab == 0)
    spots = free[(free % 2 == 0).all(axis=1)]  # even coordinates: never touching each other
    spots = [p for p in spots if not np.any(lab[tuple(slice(max(0, c - 1), c + 2) for c in p)])]
    for p in spots[: MAX_SPLIT_SEGMENTS + 5]:
        lab[tuple(p)] = sid
    before, undo_before = lab.copy(), ctl.history.undo_names()
    window.docks["Segment operations"].raise_()
    qtbot.mouseClick(_button(ctl.operations_panel, "Split islands"), QtCore.Qt.LeftButton)
    assert np.array_equal(doc.labels.array, before)
    assert ctl.history.undo_names() == undo_before
    name = doc.segments.get(sid).name
    assert window.statusBar().currentMessage() == (
        f"{name} has {MAX_SPLIT_SEGMENTS + 6} islands: splitting would make "
        f"{MAX_SPLIT_SEGMENTS + 5} segments (at most {MAX_SPLIT_SEGMENTS}). "
        "Remove the small islands first."
    )
