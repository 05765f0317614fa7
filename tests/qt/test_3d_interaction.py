"""The 3D view answers the mouse (issue 13, defect 3): a left drag rotates the camera, the wheel
zooms, through real Qt events on the widget the window shows."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import phantom_document

REPO = Path(__file__).resolve().parents[2]


def _camera(window):
    cam = window.view_3d.scene.renderer.GetActiveCamera()
    return (
        np.array(cam.GetPosition()),
        np.array(cam.GetFocalPoint()),
        np.array(cam.GetViewUp()),
        cam.GetDistance(),
    )


def _drag(qtbot, widget, start: QtCore.QPoint, dx: int, dy: int, steps: int = 8) -> None:
    qtbot.mousePress(widget, QtCore.Qt.LeftButton, pos=start)
    for k in range(1, steps + 1):
        p = start + QtCore.QPoint(round(dx * k / steps), round(dy * k / steps))
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.MouseMove, QtCore.QPointF(p), QtCore.Qt.NoButton,
            QtCore.Qt.LeftButton, QtCore.Qt.NoModifier,
        )  # fmt: skip
        QtWidgets.QApplication.sendEvent(widget, ev)
    qtbot.mouseRelease(widget, QtCore.Qt.LeftButton, pos=start + QtCore.QPoint(dx, dy))


def _shown(window, qtbot):
    window.set_layout("single", "3d")
    window.set_document(phantom_document())
    picture = window.view_3d.picture
    qtbot.waitUntil(lambda: picture.width() > 200 and picture.height() > 200)
    return picture


def test_left_drag_rotates_the_camera_about_its_view_up(window, qtbot):
    picture = _shown(window, qtbot)
    pos0, focal0, up0, dist0 = _camera(window)
    w = window.view_3d.render_window.GetSize()[0]
    before = window.view_3d.grab_pixels()
    dx = w // 8
    _drag(qtbot, picture, QtCore.QPoint(picture.width() // 2, picture.height() // 2), dx, 0)
    pos1, focal1, up1, dist1 = _camera(window)
    # VTK's trackball: a horizontal drag is an azimuth of -200 degrees per window width
    d0, d1 = pos0 - focal0, pos1 - focal1
    d0 -= up0 * d0.dot(up0)
    d1 -= up0 * d1.dot(up0)
    angle = math.degrees(math.atan2(np.cross(d0, d1).dot(up0), d0.dot(d1)))
    expected = -200.0 * dx / w
    assert abs(angle - expected) < 1.0, (angle, expected)
    assert np.allclose(focal1, focal0)
    assert abs(dist1 - dist0) < 1e-6 * dist0  # rotating keeps the distance
    after = window.view_3d.grab_pixels()
    assert np.abs(after.astype(int) - before).mean() > 1  # and the picture follows


def test_vertical_drag_changes_the_elevation(window, qtbot):
    picture = _shown(window, qtbot)
    pos0, focal0, up0, _ = _camera(window)
    h = window.view_3d.render_window.GetSize()[1]
    dy = h // 8
    # dragging down (Qt y grows) tilts the camera's view-up towards the viewer: elevation -200 dy/h
    _drag(qtbot, picture, QtCore.QPoint(picture.width() // 2, picture.height() // 2), 0, dy)
    _pos1, _focal1, up1, _ = _camera(window)
    angle = math.degrees(math.acos(np.clip(up0.dot(up1), -1, 1)))
    assert abs(angle - 200.0 * dy / h) < 1.0, angle


def test_wheel_zooms_by_the_trackball_factor(window, qtbot):
    picture = _shown(window, qtbot)
    *_, dist0 = _camera(window)
    centre = QtCore.QPointF(picture.width() / 2, picture.height() / 2)

    def wheel(delta: int) -> None:
        ev = QtGui.QWheelEvent(
            centre, QtCore.QPointF(picture.mapToGlobal(centre.toPoint())),QtCore.QPoint(), QtCore.QPoint(0, delta),
            QtCore.Qt.NoButton, QtCore.Qt.NoModifier, QtCore.Qt.NoScrollPhase, False,
        )  # fmt: skip
        QtWidgets.QApplication.sendEvent(picture, ev)

    wheel(120)
    *_, dist1 = _camera(window)
    # one notch forward dollies in by 1.1 ** (0.2 * motion factor 10) = 1.21
    assert abs(dist0 / dist1 - 1.21) < 1e-3, dist0 / dist1
    wheel(-120)
    *_, dist2 = _camera(window)
    assert abs(dist2 - dist0) < 1e-6 * dist0


def test_trackball_style_and_the_bundle_list_its_module():
    from viewer.qt.vtk_interaction import trackball_style

    assert trackball_style().GetClassName() == "vtkInteractorStyleTrackballCamera"
    spec = (REPO / "build_spec" / "radlabel.spec").read_text()
    listed = set(re.findall(r'"(vtkmodules\.[\w.]+)"', spec))
    imported: set[str] = set()
    for path in (REPO / "viewer").rglob("*.py"):
        text = path.read_text()
        imported |= set(re.findall(r"^\s*(?:from|import) (vtkmodules\.[\w.]+)", text, re.M))
    assert "vtkmodules.vtkInteractionStyle" in imported
    assert imported <= listed, sorted(imported - listed)
