"""Editing in the GUI, driven by synthetic mouse and key events (offscreen)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from mask_reference import in_plane, within_mm
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import phantom_document

from viewer.qt.panels import install_editing, offer_recovery
from viewer.services.autosave import AutosaveService, find_recoverable


def viewport_pos(sv, index_zyx, doc):
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(index_zyx))
    return sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))


def drag(qtbot, sv, points):
    vp = sv.canvas.viewport()
    qtbot.mousePress(vp, QtCore.Qt.LeftButton, pos=points[0])
    for p in points[1:]:
        # QTest's mouseMove carries no button state: send the move with the left button held
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.MouseMove,
            QtCore.QPointF(p),
            QtCore.Qt.NoButton,
            QtCore.Qt.LeftButton,
            QtCore.Qt.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(vp, ev)
    qtbot.mouseRelease(vp, QtCore.Qt.LeftButton, pos=points[-1])


def test_brush_drag_paints_one_undo_step_and_keys_undo_redo(window, editing, qtbot):
    ctl, doc = editing
    assert window.history is ctl.history
    ctl.segments_panel.add_segment("Lesion")
    sid = ctl.state.active_segment_id
    assert doc.segments.get(sid).name == "Lesion"
    ctl.select_tool("brush")
    assert window.active_tool is ctl.tools["brush"]
    ctl.tools_panel.options_for("brush").size.setValue(6.0)
    ax = window.slice_views["axial"]
    z = ax.slice_index
    before = doc.labels.array.copy()
    pts = [viewport_pos(ax, (z, 12, x), doc) for x in (10, 15, 20, 25, 30)]
    drag(qtbot, ax, pts)
    painted = doc.labels.array == sid
    # size 6 is the diameter: exactly the 3 mm band around the drag, on the shown slice only
    expected = in_plane(within_mm(doc.geometry, [(z, 12, 10), (z, 12, 30)], 3.0), z)
    np.testing.assert_array_equal(painted, expected)
    assert ctl.history.undo_names()[-1] == "Brush on Lesion"
    assert ctl.edit_menu.undo_action.text() == "Undo Brush on Lesion"
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert np.array_equal(doc.labels.array, before)
    qtbot.keyClick(window, QtCore.Qt.Key_Y, QtCore.Qt.ControlModifier)
    assert np.array_equal(doc.labels.array == sid, painted)
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    assert np.array_equal(doc.labels.array == sid, painted)


def test_locked_segment_survives_gui_brush_and_panel_commands_undo(window, editing, qtbot):
    ctl, doc = editing
    panel = ctl.segments_panel
    assert panel.table.rowCount() == 1  # the phantom's segment 1
    lock_item = panel.table.item(0, 3)
    lock_item.setCheckState(QtCore.Qt.Checked)
    assert doc.segments.get(1).locked and ctl.history.undo_names() == ["Lock Segment 1"]
    panel.add_segment("Other")
    ctl.tools_panel.overwrite.setChecked(True)
    ctl.tools_panel.options_for("brush").size.setValue(30.0)
    ctl.select_tool("brush")
    sa = window.slice_views["axial"]
    z = 10
    while sa.slice_index != z:
        sa.scroll(1 if sa.slice_index < z else -1)
    locked_before = doc.labels.array == 1
    drag(qtbot, sa, [viewport_pos(sa, (z, 25, x), doc) for x in range(30, 43, 3)])
    assert np.array_equal(doc.labels.array == 1, locked_before)
    # size 30: a 15 mm dab at each mouse position (3 voxels apart, under the dab spacing of half
    # the smallest radius in voxels, 3.5: no dabs in between) on slice z, overwriting all but
    # the locked segment
    dabs = [within_mm(doc.geometry, [(z, 25, x)], 15.0) for x in range(30, 43, 3)]
    expected = in_plane(np.logical_or.reduce(dabs), z) & ~locked_before
    np.testing.assert_array_equal(doc.labels.array == ctl.state.active_segment_id, expected)
    # statistics and colour/rename through the panel
    panel.refresh_stats()
    assert panel.table.item(0, 4).text() == str(int(locked_before.sum()))
    panel.table.item(0, 1).setText("Liver")
    assert doc.segments.get(1).name == "Liver"
    ctl.history.undo()
    assert doc.segments.get(1).name == "Segment 1"


def test_close_prompt_and_save(window, editing, qtbot, monkeypatch, tmp_path):
    ctl, doc = editing
    from viewer.commands.segment_commands import RenameSegment

    ctl.execute(RenameSegment(1, "Changed"))
    assert ctl.has_unsaved_changes() and window.isWindowModified()
    answers = [QtWidgets.QMessageBox.Cancel]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: answers.pop(0))
    window.close()
    assert window.isVisible()  # cancelled
    doc.label_path = str(tmp_path / "labels.nii.gz")
    answers.append(QtWidgets.QMessageBox.Save)
    window.close()
    assert not window.isVisible()
    assert (tmp_path / "labels.nii.gz").stat().st_size > 0
    assert not ctl.has_unsaved_changes()


def test_recovery_prompt_restores_autosaved_labels(window, qtbot, monkeypatch):
    doc = phantom_document()
    doc.volume.source_path = "/nonexistent/phantom.nii.gz"
    crashed = AutosaveService(doc)
    doc.labels.array[2:4, 2:4, 2:4] = 1
    doc.segments.get(1).name = "Recovered"
    crashed.save_now()
    crashed.stop(clean=False)  # as after a crash: files stay, lock released
    assert len(find_recoverable()) == 1
    fresh = phantom_document()
    fresh.volume.source_path = "/nonexistent/phantom.nii.gz"
    ctl = install_editing(window, autosave=False)
    window.set_document(fresh)
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.Yes
    )
    assert offer_recovery(window)
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.Discard
    )
    assert np.array_equal(window.document.labels.array, doc.labels.array)
    assert window.document.segments.get(1).name == "Recovered"
    assert find_recoverable() == []
    ctl.history.undo()  # recovery is one undoable step
    assert not (window.document.labels.array[2:4, 2:4, 2:4] == 1).any()


def test_brush_cursor_outline_follows_mouse(window, editing, qtbot):
    ctl, doc = editing
    ctl.select_tool("brush")
    ctl.tools_panel.options_for("brush").size.setValue(8.0)
    ax = window.slice_views["axial"]
    pos = viewport_pos(ax, (ax.slice_index, 20, 20), doc)
    qtbot.mouseMove(ax.canvas.viewport(), pos=pos)
    item = ctl.brush_cursor.items["axial"]
    assert item.isVisible()
    assert abs(item.rect().width() - 8.0) < 1e-6  # diameter in mm (view coordinates)
    assert not ctl.brush_cursor.items["coronal"].isVisible()
    ctl.select_tool(None)
    assert not item.isVisible()


def test_opening_a_label_file_resets_history(window, editing):
    ctl, doc = editing
    from viewer.commands.segment_commands import RenameSegment

    ctl.execute(RenameSegment(1, "Changed"))
    assert ctl.history.can_undo()
    doc.replace_labels(np.zeros_like(doc.labels.array))  # what MainWindow.open_label does
    assert not ctl.history.can_undo() and not ctl.has_unsaved_changes()


def test_ctrl_s_on_a_full_disk_keeps_the_old_file_and_the_unsaved_state(
    window, editing, qtbot, small_fs, fill_disk
):
    """Ctrl+S with no space left: one error message naming the file, the labels stay unsaved,
    the file saved before is byte-identical and nothing temporary is left."""
    from viewer.commands.segment_commands import RenameSegment

    ctl, doc = editing
    target = small_fs / "labels.nii.gz"
    doc.label_path = str(target)
    window.activateWindow()
    ctl.execute(RenameSegment(1, "Changed"))
    qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    assert not ctl.has_unsaved_changes() and window.errors == []
    old = target.read_bytes()
    ctl.execute(RenameSegment(1, "Changed again"))
    filler = fill_disk(small_fs, 0)
    qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    assert len(window.errors) == 1 and str(target) in window.errors[0]
    assert "save failed, previous file kept" in window.errors[0] and ".tmp" not in window.errors[0]
    assert ctl.has_unsaved_changes() and window.isWindowModified()
    filler.unlink()
    assert target.read_bytes() == old and sorted(p.name for p in small_fs.iterdir()) == [
        "labels.nii.gz"
    ]


# a sagittal acquisition stored as is (dcm2niix keeps the order): array x runs posterior,
# array y inferior, array z left; the axial view then cuts array axis 1, not 0
SAGITTAL_STACK = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def test_tools_paint_in_the_shown_plane_of_a_sagittal_stack(window, qtbot):
    from viewer.model.display_frame import DisplayFrame

    ctl = install_editing(window, autosave=False)
    doc = phantom_document(direction=SAGITTAL_STACK, spacing=(1.0, 1.0, 1.0), shape=(30, 40, 50))
    window.set_document(doc)
    axis = DisplayFrame.from_geometry(doc.geometry).array_axis("axial")
    assert axis == 1
    voxel = (15, 20, 25)
    window.state.set_cursor(doc.geometry.index_to_world(voxel))
    ax = window.slice_views["axial"]
    ctl.segments_panel.add_segment("Lesion")
    sid = ctl.state.active_segment_id
    ctl.select_tool("brush")
    ctl.tools_panel.options_for("brush").size.setValue(6.0)
    drag(qtbot, ax, [viewport_pos(ax, voxel, doc)] * 2)
    painted = np.argwhere(doc.labels.array == sid)
    assert set(painted[:, axis].tolist()) == {voxel[axis]}  # one axial slice: the shown one
    # a 6 mm disk on 1 mm pixels, in the axial plane (array axes 0 and 2 here)
    expected = within_mm(doc.geometry, [voxel], 3.0) & in_plane_axis(doc, axis, voxel[axis])
    np.testing.assert_array_equal(doc.labels.array == sid, expected)


def in_plane_axis(doc, axis, index):
    mask = np.zeros(doc.labels.array.shape, bool)
    sl = [slice(None)] * 3
    sl[axis] = index
    mask[tuple(sl)] = True
    return mask


def test_an_image_with_nan_voxels_gets_a_finite_threshold_histogram(window, qtbot):
    from viewer.model.document import Document
    from viewer.model.geometry import Geometry
    from viewer.model.volume import Volume

    ctl = install_editing(window, autosave=False)
    a = np.linspace(0, 100, 8 * 10 * 12, dtype=np.float32).reshape(8, 10, 12)
    a[:, :2] = np.nan
    a[0, 5, 5] = np.inf
    window.set_document(Document(Volume(a, Geometry(a.shape), "MR")))
    threshold = ctl.tools_panel.threshold
    assert np.isfinite(threshold.lo.value()) and np.isfinite(threshold.hi.value())
    edges, counts = threshold.hist_curve.getData()
    assert np.all(np.isfinite(edges)) and counts.sum() > 0
