"""Main window: layouts and maximise, crosshair linking, scrolling, status bar, tools, errors,
recent files and settings."""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt5 import QtCore
from qt_helpers import grab_rgb, phantom_document

from viewer.commands import Command
from viewer.model.display_frame import DisplayFrame
from viewer.tools.base import Tool


def _click_scene(qtbot, sv, x, y, button=QtCore.Qt.LeftButton):
    pos = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))
    qtbot.mouseClick(sv.canvas.viewport(), button, pos=pos)


def test_layouts_and_double_click_maximise(window):
    assert sorted(window.grid.visible_views()) == ["3d", "axial", "coronal", "sagittal"]
    window.set_layout("1x3")
    assert sorted(window.grid.visible_views()) == ["axial", "coronal", "sagittal"]
    window.set_layout("1+3", "coronal")
    big = window.slice_views["coronal"]
    small = window.slice_views["axial"]
    assert big.height() > 2 * small.height()
    window.set_layout("2x2")
    window.slice_views["sagittal"].sigMaximise.emit("sagittal")
    assert window.grid.visible_views() == ["sagittal"]
    window.slice_views["sagittal"].sigMaximise.emit("sagittal")
    assert len(window.grid.visible_views()) == 4


def test_click_moves_crosshair_and_other_views_follow(window, phantom, qtbot):
    window.set_document(phantom)
    ax, co, sa = (window.slice_views[v] for v in ("axial", "coronal", "sagittal"))
    target = phantom.geometry.index_to_world([10, 30, 40])
    x, y, _ = ax.world_to_scene(target)
    _click_scene(qtbot, ax, x, y)
    world = window.state.cursor_world
    assert np.allclose(world[:2], target[:2], atol=1.0)
    f = DisplayFrame.from_geometry(phantom.geometry)
    assert co.slice_index == int(round(f.world_to_view(target, "coronal")[0]))
    assert sa.slice_index == int(round(f.world_to_view(target, "sagittal")[0]))
    # The coronal view's vertical line sits at the clicked x.
    assert abs(co.v_line.value() - co.world_to_scene(target)[0]) < 1.0


def test_wheel_and_keys_scroll_slices(window, phantom, qtbot):
    window.set_document(phantom)
    ax = window.slice_views["axial"]
    start = ax.slice_index
    ax.canvas.setFocus()
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_PageUp)
    assert ax.slice_index == start + 1
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Down)
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Down)
    assert ax.slice_index == start - 1
    for _ in range(100):
        ax.scroll(1)
    assert ax.slice_index == phantom.geometry.shape_zyx[0] - 1  # clamped
    assert "Axial 20/20" in ax.canvas.caption.replace("  ", " ")


def test_status_bar_shows_voxel_world_and_hu(window, phantom, qtbot):
    window.set_document(phantom)
    ax = window.slice_views["axial"]
    world = phantom.geometry.index_to_world([ax.slice_index, 11, 12])
    x, y, _ = ax.world_to_scene(world)
    info = ax.hover_info(x, y)
    assert info["voxel"] == (ax.slice_index, 11, 12)
    # a real mouse move over that voxel fills the status bar
    at = ax.canvas.mapFromScene(ax.viewbox.mapViewToScene(pg.Point(x, y)))
    window.show()
    assert "HU" not in window.status_label.text()
    qtbot.mouseMove(ax.canvas.viewport(), at)
    qtbot.waitUntil(lambda: "HU" in window.status_label.text(), timeout=5000)
    text = window.status_label.text()
    assert "voxel (12, 11," in text and "1000 HU" in text and "mm" in text


class _RecordingTool(Tool):
    captures_left_drag = True

    def __init__(self):
        super().__init__()
        self.events = []

    def on_press(self, event):
        self.events.append(("press", event))

    def on_release(self, event):
        self.events.append(("release", event))
        return _Paint(event.voxel)


class _Paint(Command):
    name = "Paint"

    def __init__(self, voxel):
        self.voxel = voxel

    def do(self, doc):
        self.old = int(doc.labels.array[self.voxel])
        doc.labels.array[self.voxel] = 2
        doc.notify_labels_changed(None)

    def undo(self, doc):
        doc.labels.array[self.voxel] = self.old
        doc.notify_labels_changed(None)


def test_active_tool_gets_view_events_and_commands_run(window, phantom, qtbot):
    window.set_document(phantom)
    tool = _RecordingTool()
    window.set_active_tool(tool)
    assert tool.document is phantom
    ax = window.slice_views["axial"]
    before = window.state.cursor_world.copy()
    world = phantom.geometry.index_to_world([ax.slice_index, 12, 20])
    x, y, _ = ax.world_to_scene(world)
    _click_scene(qtbot, ax, x, y)
    assert [k for k, _ in tool.events] == ["press", "release"]
    assert tool.events[0][1].voxel == (ax.slice_index, 12, 20)
    assert tool.events[0][1].axis == 0
    assert phantom.labels.array[ax.slice_index, 12, 20] == 2
    assert np.array_equal(window.state.cursor_world, before)  # the tool took the click
    assert window.history.undo_names() == ["Paint"]  # the window's own history took it
    _click_scene(qtbot, ax, x, y)
    assert window.history.undo_names() == ["Paint", "Paint"]
    window.set_active_tool(None)
    _click_scene(qtbot, ax, x, y)
    assert not np.array_equal(window.state.cursor_world, before)


def test_markers_show_on_their_slice_only(window, phantom):
    window.set_document(phantom)
    ax = window.slice_views["axial"]
    p = phantom.geometry.index_to_world([ax.slice_index, 20, 20])
    q = phantom.geometry.index_to_world([ax.slice_index + 3, 20, 20])
    ax.set_markers("clicks", [p, q], (0, 255, 0))
    start = ax.slice_index

    def green_at_the_marker() -> bool:
        x, y, _ = ax.world_to_scene(phantom.geometry.index_to_world([ax.slice_index, 20, 20]))
        at = ax.canvas.mapFromScene(ax.viewbox.mapViewToScene(pg.Point(x, y)))
        r, g, b = grab_rgb(ax.canvas)[at.y(), at.x()].astype(int)
        assert g > 200 or abs(g - r) < 10, (r, g, b)  # a green dot or the grey body, no blend
        return bool(g > 200 and r < 60)

    assert green_at_the_marker()  # p, on this slice
    for step, shown in ((1, False), (1, False), (1, True), (1, False)):
        ax.scroll(step)
        assert green_at_the_marker() is shown, ax.slice_index - start  # q at +3 only


def test_open_error_keeps_document_and_shows_message(window, phantom, tmp_path):
    window.set_document(phantom)
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not an image")
    assert window.open_path(str(bad)) is False
    assert window.document is phantom
    assert window.errors and "broken.nii.gz" in window.errors[0]


def test_open_path_recent_files_and_settings(window, test_data, qapp_configured, qtbot):
    from viewer.qt.main_window import MainWindow
    from viewer.qt.settings import recent_files

    demo = test_data.parent.parent / "resources" / "demo" / "ct_abdomen_demo.nii.gz"
    assert window.open_path(str(demo))
    assert window.document.geometry.shape_zyx == (30, 101, 122)
    assert recent_files(window.settings)[0] == str(demo)
    assert window.modality() == "CT"  # HU values in a header-less NIfTI
    window.set_layout("1x3")
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)  # deleted by Qt at teardown, not whenever the garbage collector runs
    assert again.grid.layout_name == "1x3"
    assert str(demo) in recent_files(again.settings)
    assert again.settings.fileName().startswith(os.environ["RADLABEL_DATA_DIR"])  # not home
    again.close()


def test_add_panel_docks_widget(window):
    from PyQt5 import QtWidgets

    dock = window.add_panel(QtWidgets.QLabel("hello"), "Segments")
    assert window.dockWidgetArea(dock) == QtCore.Qt.RightDockWidgetArea
    assert dock.toggleViewAction() in window.panels_menu.actions()


def test_oblique_and_flipped_documents_render(window):
    t = np.radians(20)
    rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    window.set_document(phantom_document(direction=rot @ np.diag([-1.0, -1, 1])))
    for sv in window.slice_views.values():
        assert sv.image_item.image is not None and sv.image_item.image.max() > 0
    assert window.slice_views["axial"].canvas.letters["top"] == "A"


def test_closing_the_window_frees_the_views_at_once(window, phantom, qtbot):
    """The scenes are cleared on close, not left to the garbage collector (which once tore
    pyqtgraph items down in a crashing order during CI)."""
    window.set_document(phantom)
    scenes = [sv.canvas.scene() for sv in window.slice_views.values()]
    assert all(len(s.items()) > 0 for s in scenes)
    window.close()
    assert all(sv.canvas.closed for sv in window.slice_views.values())
    assert all(len(s.items()) == 0 for s in scenes)
    window.close()  # a second close (pytest-qt's teardown does one) is harmless


def test_parts_are_installed_once_through_typed_points(window, phantom):
    from viewer.qt.panels import install_editing

    assert (window.editing, window.ai, window.measure, window.pacs) == (None, None, None, None)
    window.set_document(phantom)
    assert window.history.document is phantom  # the window's own history, from construction
    ctl = install_editing(window, autosave=False)
    assert window.editing is ctl and install_editing(window) is ctl
    assert ctl.history is window.history
    with pytest.raises(RuntimeError, match="editing installed already"):
        window.set_editing(object())
    assert window.editing is ctl
