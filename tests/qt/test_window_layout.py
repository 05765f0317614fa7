"""Main window layout with every panel installed (as viewer.qt.app does): the slice views get
most of the window at 1280x800 and 1920x1080, the panels share one narrow right-hand column
without being cut off, the tool in use brings its panel to the front, and the saved layout
comes back; the 3D view's camera menu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets

from viewer.qt.ai_controller import install_ai
from viewer.qt.main_window import PANEL_WIDTH, MainWindow
from viewer.qt.panels import install_editing
from viewer.qt.vtk_scene import CAMERA_PRESETS

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
TABBED = ("Tools", "Segment operations", "AI segmentation")


def _settle(qapp) -> None:
    for _ in range(5):
        qapp.processEvents()


@pytest.fixture
def full_window(qapp_configured, qtbot):
    """The app's window: editing and AI panels installed, the demo study open."""
    w = MainWindow()
    qtbot.addWidget(w)
    install_editing(w, autosave=False)
    install_ai(w, engine="classic")
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(str(DEMO / "ct_abdomen_demo.nii.gz"))
    assert w.open_label(str(DEMO / "ct_abdomen_demo_label.nii.gz"))
    yield w
    w.ai.service.shutdown()


def _on_front(dock: QtWidgets.QDockWidget) -> bool:
    """The dock is shown and not behind another tab (tabs behind sit outside the window)."""
    return dock.isVisible() and dock.geometry().intersects(dock.parentWidget().rect())


def _assert_panel_usable(window, title: str) -> None:
    dock = window.docks[title]
    assert abs(dock.width() - PANEL_WIDTH) <= 20, (title, dock.width())  # a narrow column
    scroll = dock.widget()
    panel = scroll.widget()
    # nothing needs a horizontal scroll bar: every control is reachable in the column
    assert scroll.viewport().width() >= panel.minimumSizeHint().width(), title
    # vertical scrolling is allowed, but a usable part of the panel is in view
    assert scroll.viewport().height() >= 150, title


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_slice_views_get_most_of_the_window(full_window, qapp, size):
    w = full_window
    w.resize(*size)
    _settle(qapp)
    assert (w.width(), w.height()) == size  # no panel forces the window bigger
    for name, sv in w.slice_views.items():
        assert sv.width() >= 300 and sv.height() >= 250, (name, sv.size())
    if size == (1920, 1080):
        assert min(sv.width() for sv in w.slice_views.values()) >= 600
    assert w.view_3d.minimumSizeHint().width() <= 260  # its bar does not widen the grid
    central = w.centralWidget().width()
    assert central >= 0.7 * w.width()


def test_panels_share_one_narrow_column(full_window, qapp):
    w = full_window
    w.resize(1280, 800)
    _settle(qapp)
    right = QtCore.Qt.RightDockWidgetArea
    assert all(w.dockWidgetArea(d) == right for d in w.docks.values())
    assert set(w.docks) == {"Segments", *TABBED}
    assert w.tabifiedDockWidgets(w.docks["Segments"]) == []  # always in view
    group = set(w.tabifiedDockWidgets(w.docks["Tools"])) | {w.docks["Tools"]}
    assert group == {w.docks[t] for t in TABBED}
    assert _on_front(w.docks["Segments"]) and _on_front(w.docks["Tools"])
    assert not _on_front(w.docks["AI segmentation"])
    _assert_panel_usable(w, "Segments")
    segments = w.editing.segments_panel.table
    assert segments.viewport().height() >= 5 * segments.rowHeight(0)  # several rows in view
    for title in TABBED:
        w.docks[title].raise_()
        _settle(qapp)
        assert _on_front(w.docks[title]), title
        _assert_panel_usable(w, title)


def test_the_tool_in_use_brings_its_panel_to_the_front(full_window, qapp):
    w = full_window
    w.docks["Segment operations"].raise_()
    _settle(qapp)
    w.editing.select_tool("ai")
    _settle(qapp)
    assert _on_front(w.docks["AI segmentation"])
    w.editing.select_tool("brush")
    _settle(qapp)
    assert _on_front(w.docks["Tools"]) and not _on_front(w.docks["AI segmentation"])


def test_saved_layout_comes_back(qapp_configured, qtbot):
    def make():
        w = MainWindow()
        qtbot.addWidget(w)
        install_editing(w, autosave=False)
        install_ai(w, engine="classic")
        w.restore_dock_state()
        w.show()
        qtbot.waitExposed(w)
        return w

    first = make()
    first.resize(1100, 760)
    first.docks["AI segmentation"].raise_()
    first.docks["Segment operations"].close()
    _settle(qapp_configured)
    first.close()
    first.ai.service.shutdown()
    second = make()
    _settle(qapp_configured)
    assert (second.width(), second.height()) == (1100, 760)
    assert second.docks["Segment operations"].isHidden()
    assert _on_front(second.docks["AI segmentation"]) and not _on_front(second.docks["Tools"])
    second.ai.service.shutdown()


def test_state_saved_by_an_older_layout_is_ignored(qapp_configured, qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    install_editing(w, autosave=False)
    install_ai(w, engine="classic")
    w.docks["Tools"].close()
    w.settings.setValue("window_state", w.saveState())  # version 0: before the dock column
    w.docks["Tools"].show()
    w.restore_dock_state()
    assert not w.docks["Tools"].isHidden()
    w.ai.service.shutdown()


def test_3d_view_menu_moves_and_resets_the_camera(full_window):
    v = full_window.view_3d
    actions = {a.text(): a for a in v.camera_button.menu().actions() if a.text()}
    assert set(actions) == {f"From {n}" for n in CAMERA_PRESETS} | {"Reset camera"}
    camera = v.scene.renderer.GetActiveCamera()
    actions["From superior"].trigger()
    direction = np.subtract(camera.GetPosition(), camera.GetFocalPoint())
    assert direction[2] > 0.99 * np.linalg.norm(direction)  # looking down from +z (superior)
    actions["From anterior"].trigger()
    direction = np.subtract(camera.GetPosition(), camera.GetFocalPoint())
    assert direction[1] < -0.99 * np.linalg.norm(direction)  # from -y (anterior, LPS)
    actions["Reset camera"].trigger()
    assert not np.allclose(np.subtract(camera.GetPosition(), camera.GetFocalPoint()), direction)
