"""The window/level readout in the slice views' corner, preset entries with their values, and the
number keys that pick presets, driven by real key and mouse events."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import phantom_document

from viewer.model.document import Document
from viewer.model.geometry import Geometry
from viewer.model.view_state import WindowLevel, auto_window
from viewer.model.volume import Volume
from viewer.qt.slice_view import window_drag


def readouts(window) -> list[str]:
    return [sv.canvas.window_text for sv in window.slice_views.values()]


def test_preset_keys_show_width_and_level_in_every_view(window, qtbot):
    assert readouts(window) == ["", "", ""]  # nothing open
    window.set_document(phantom_document())
    assert readouts(window) == ["W 400 L 50 HU"] * 3  # CT opens with Abdomen
    ax = window.slice_views["axial"]
    ax.canvas.setFocus()
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_4)  # the 4th preset: Lung
    assert window.state.window == WindowLevel(1500.0, -600.0)
    assert readouts(window) == ["W 1500 L -600 HU"] * 3
    assert window.preset_box.currentText() == "Lung (W 1500 / L -600)"
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_1)
    assert readouts(window) == ["W 80 L 40 HU"] * 3
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_8)
    assert readouts(window) == ["W 1800 L 400 HU"] * 3
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_0)  # the image's own window
    auto = auto_window(window.document.volume.array)
    assert window.state.window == auto
    assert readouts(window) == [f"W {auto.width:.0f} L {auto.level:.0f} HU"] * 3


def test_readout_follows_a_right_drag_live(window, qtbot):
    window.set_document(phantom_document())
    co = window.slice_views["coronal"]
    vp = co.canvas.viewport()
    start = QtCore.QPoint(vp.width() // 2, vp.height() // 2)
    seen = []
    qtbot.mousePress(vp, QtCore.Qt.RightButton, pos=start)
    for dx, dy in ((20, 8), (40, 20)):
        qtbot.wait(20)  # pyqtgraph drops moves closer than 10 ms
        pos = start + QtCore.QPoint(dx, dy)
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.MouseMove,
            QtCore.QPointF(pos),
            QtCore.QPointF(vp.window().mapFromGlobal(vp.mapToGlobal(pos))),
            QtCore.QPointF(vp.mapToGlobal(pos)),  # the W/L drag reads screen positions
            QtCore.Qt.NoButton,
            QtCore.Qt.RightButton,
            QtCore.Qt.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(vp, ev)
        seen.append(co.canvas.window_text)
    qtbot.mouseRelease(vp, QtCore.Qt.RightButton, pos=start + QtCore.QPoint(40, 20))
    # from W 400 L 50: 400/256 HU per pixel, twice that for the width
    first = window_drag(WindowLevel(400, 50), 20, 8)
    assert (first.width, first.level) == (462.5, 62.5)
    assert seen == ["W 462 L 62 HU", "W 525 L 81 HU"]  # updated during the drag
    assert readouts(window) == ["W 525 L 81 HU"] * 3


def test_preset_menu_entries_list_their_values(window, qtbot):
    window.set_document(phantom_document())
    texts = [a.text() for a in window.preset_menu.actions()]
    assert texts == [
        "Brain (W 80 / L 40)",
        "Subdural (W 215 / L 75)",
        "Stroke (W 40 / L 40)",
        "Lung (W 1500 / L -600)",
        "Mediastinum (W 350 / L 50)",
        "Abdomen (W 400 / L 50)",
        "Liver (W 150 / L 30)",
        "Bone (W 1800 / L 400)",
        "Auto (1st-99th percentile)",
    ]
    window.preset_menu.actions()[2].trigger()
    assert readouts(window) == ["W 40 L 40 HU"] * 3
    box = window.preset_box
    assert [box.itemText(i) for i in range(box.count())] == texts
    box.activated[int].emit(6)  # what choosing an entry of the combo box sends
    assert window.state.window == WindowLevel(150.0, 30.0)


def test_mr_readout_has_no_hu_and_ct_keys_do_nothing(window, qtbot):
    a = np.linspace(0.0, 1.0, 10 * 20 * 30, dtype=np.float32).reshape(10, 20, 30)
    window.set_document(Document(Volume(a, Geometry(a.shape), "MR", name="mr")))
    auto = window.state.window
    assert readouts(window) == [f"W {auto.width:.3g} L {auto.level:.3g}"] * 3
    sa = window.slice_views["sagittal"]
    sa.canvas.setFocus()
    qtbot.keyClick(sa.canvas, QtCore.Qt.Key_3)
    assert window.state.window == auto
    assert window.statusBar().currentMessage() == "Key 3: no such preset for this image"
    window.state.set_window(WindowLevel(250.0, 120.0))
    assert readouts(window) == ["W 250 L 120"] * 3
    qtbot.keyClick(sa.canvas, QtCore.Qt.Key_0)
    assert window.state.window == auto


def test_readout_is_painted_in_the_bottom_left_corner(window, qtbot):
    from qt_helpers import grab_rgb

    window.set_document(phantom_document())
    ax = window.slice_views["axial"]
    with_text = grab_rgb(ax.canvas).astype(int)
    ax.canvas.window_text = ""
    without = grab_rgb(ax.canvas).astype(int)
    changed = np.argwhere(np.abs(with_text - without).sum(axis=2) > 0)
    h, w = without.shape[:2]
    assert len(changed) > 20  # the text's pixels
    assert changed[:, 0].min() > h - 30 and changed[:, 1].max() < w // 2
