"""Real input events on the window: a right-drag on a slice view changes window/level and the
rendered pixels; dropping a file on the window opens it (bad files give an error, no crash)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import grab_rgb, phantom_document

from viewer.model.view_state import WindowLevel


def _pixel_of_voxel(sv, index_zyx) -> tuple[int, int]:
    x, y, _ = sv.world_to_scene(sv.frame.geometry.index_to_world(index_zyx))
    p = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))
    return int(p.y()), int(p.x())


def _mouse(widget, kind, pos: QtCore.QPoint, button, buttons) -> None:
    """Send one mouse event as the window system would (with its global position)."""
    local = QtCore.QPointF(pos)
    ev = QtGui.QMouseEvent(
        kind,
        local,
        local,
        QtCore.QPointF(widget.mapToGlobal(pos)),
        button,
        buttons,
        QtCore.Qt.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, ev)


def _right_drag(qtbot, widget, start: QtCore.QPoint, delta: QtCore.QPoint, steps: int = 8) -> None:
    right = QtCore.Qt.RightButton
    _mouse(widget, QtCore.QEvent.MouseButtonPress, start, right, right)
    for i in range(1, steps + 1):
        qtbot.wait(5)
        _mouse(
            widget, QtCore.QEvent.MouseMove, start + delta * i / steps, QtCore.Qt.NoButton, right
        )
    _mouse(widget, QtCore.QEvent.MouseButtonRelease, start + delta, right, QtCore.Qt.NoButton)


def test_right_drag_with_the_mouse_changes_window_level_and_pixels(window, qtbot):
    doc = phantom_document()
    window.set_document(doc)
    window.set_layout("single", "axial")
    sv = window.slice_views["axial"]
    sv.reset_zoom()
    window.state.set_window(WindowLevel(400, 40))
    qtbot.wait(20)
    body = _pixel_of_voxel(sv, (10, 20, 25))  # 0 HU soft tissue
    before = grab_rgb(sv.canvas)[body].astype(int)
    assert abs(before[0] - (0 - 40 + 200) / 400 * 255) <= 3  # 0 HU in a 400/40 window
    vp = sv.canvas.viewport()
    centre = QtCore.QPoint(vp.width() // 2, vp.height() // 2)

    _right_drag(qtbot, vp, centre, QtCore.QPoint(128, 0))  # right: wider window
    wider = window.state.window
    assert wider.width > 600 and wider.level == 40
    grey_wide = grab_rgb(sv.canvas)[body].astype(int)
    assert grey_wide[0] > before[0] + 10  # 0 HU moves towards mid-grey in the wider window

    _right_drag(qtbot, vp, centre, QtCore.QPoint(0, 100))  # down: higher level, darker body
    assert window.state.window.level > 40 + 50 and window.state.window.width == wider.width
    grey_high = grab_rgb(sv.canvas)[body].astype(int)
    assert grey_high[0] < grey_wide[0] - 10
    assert window.state.cursor_world is not None
    # the drag is over: moves with no button and a left click leave the window alone, and the
    # click moves the cursor to the clicked voxel
    level, cursor = window.state.window, window.state.cursor_world
    target = _pixel_of_voxel(sv, (10, 12, 40))
    point = QtCore.QPoint(target[1], target[0])
    _mouse(vp, QtCore.QEvent.MouseMove, point, QtCore.Qt.NoButton, QtCore.Qt.NoButton)
    qtbot.mouseClick(vp, QtCore.Qt.LeftButton, pos=point)
    assert window.state.window == level
    clicked = doc.geometry.world_to_index(window.state.cursor_world)
    assert np.allclose(clicked[1:], (12, 40), atol=0.5)
    assert not np.allclose(cursor, window.state.cursor_world)


def _drop(widget, paths: list[str], mime: QtCore.QMimeData | None = None) -> bool:
    """Drag enter + drop of `paths` at the widget's centre; True when the drag was accepted."""
    if mime is None:
        mime = QtCore.QMimeData()
        mime.setUrls([QtCore.QUrl.fromLocalFile(p) for p in paths])
    pos = widget.rect().center()
    enter = QtGui.QDragEnterEvent(
        pos, QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier
    )
    QtWidgets.QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QtGui.QDropEvent(
        QtCore.QPointF(pos), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier
    )
    QtWidgets.QApplication.sendEvent(widget, drop)
    return True


def test_dropping_a_file_on_the_window_opens_it(window, qtbot, tmp_path):
    from viewer.io import write_volume

    doc = phantom_document()
    path = tmp_path / "dropped.nii.gz"
    write_volume(doc.volume, None, path)
    assert window.document is None
    assert _drop(window, [str(path)])
    assert window.document is not None and not window.errors
    g, ref = window.document.geometry, doc.geometry
    assert g.shape_zyx == ref.shape_zyx
    assert np.allclose(g.spacing, ref.spacing) and np.allclose(g.origin, ref.origin)
    np.testing.assert_array_equal(window.document.volume.array, doc.volume.array)
    sv = window.slice_views["axial"]
    window.set_layout("single", "axial")
    sv.reset_zoom()
    qtbot.wait(20)
    bright = _pixel_of_voxel(sv, (10, 10, 10))  # the +1000 HU block is drawn
    assert grab_rgb(sv.canvas)[bright].mean() > 200


def test_dropping_a_bad_file_or_text_keeps_the_document(window, tmp_path):
    doc = phantom_document()
    window.set_document(doc)
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not an image")
    assert _drop(window, [str(bad)])
    assert window.document is doc
    assert window.errors and "broken.nii.gz" in window.errors[-1]
    text = QtCore.QMimeData()
    text.setText("hello")
    assert not _drop(window, [], mime=text)  # plain text is refused at drag enter
    assert window.document is doc
