"""Mouse interaction of the 3D view: the trackball-camera style, and a bridge that feeds Qt mouse
events of the off-screen picture to a VTK interactor.

`vtkRenderWindowInteractor` picks its default style through VTK's object factory; without
`vtkmodules.vtkInteractionStyle` imported that default is a style that ignores every event, so
the 3D view would not move. The module is imported here, where the view is
built (and listed as a hidden import in build_spec/radlabel.spec), and the style is set
explicitly.

Off screen (tests, the screenshot command) the view is a QLabel showing a captured picture:
`OffscreenInteractor` translates the label's Qt events into the same VTK interactor events that
QVTKRenderWindowInteractor sends, so a drag rotates and the wheel zooms there too.
"""

from __future__ import annotations

from collections.abc import Callable

import vtkmodules.vtkInteractionStyle  # noqa: F401 (registers the interactor styles)
from PyQt5 import QtCore, QtGui
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera
from vtkmodules.vtkRenderingCore import vtkRenderWindow
from vtkmodules.vtkRenderingUI import vtkGenericRenderWindowInteractor

_PRESS = {
    QtCore.Qt.LeftButton: "LeftButtonPressEvent",
    QtCore.Qt.RightButton: "RightButtonPressEvent",
    QtCore.Qt.MiddleButton: "MiddleButtonPressEvent",
}
_RELEASE = {
    QtCore.Qt.LeftButton: "LeftButtonReleaseEvent",
    QtCore.Qt.RightButton: "RightButtonReleaseEvent",
    QtCore.Qt.MiddleButton: "MiddleButtonReleaseEvent",
}


def trackball_style() -> vtkInteractorStyleTrackballCamera:
    """Left drag rotates, middle (or Shift+left) drag pans, right drag and the wheel zoom."""
    return vtkInteractorStyleTrackballCamera()


class OffscreenInteractor:
    """A VTK interactor driven by the Qt mouse events of a widget showing an off-screen window.

    The style moves the camera; `render` (the widget's capture-and-show) draws the result, so
    the interactor itself never renders (that would draw each frame twice)."""

    def __init__(self, render_window: vtkRenderWindow, render: Callable[[], None]) -> None:
        self.iren = vtkGenericRenderWindowInteractor()
        self.iren.SetRenderWindow(render_window)
        self.iren.SetInteractorStyle(trackball_style())
        self.iren.EnableRenderOff()
        self.iren.Enable()
        self._render = render

    def GetInteractorStyle(self):  # noqa: N802 (VTK naming, like the Qt widget's interactor)
        return self.iren.GetInteractorStyle()

    def _set_position(self, ev: QtGui.QMouseEvent | QtGui.QWheelEvent, height: int) -> None:
        pos = ev.pos() if hasattr(ev, "pos") else ev.position().toPoint()
        mods = ev.modifiers()
        # the window is exactly the widget's size (see _OffscreenPicture.render); VTK's y is up
        self.iren.SetSize(*self.iren.GetRenderWindow().GetSize())
        self.iren.SetEventInformation(
            int(pos.x()),
            int(height - 1 - pos.y()),
            1 if mods & QtCore.Qt.ControlModifier else 0,
            1 if mods & QtCore.Qt.ShiftModifier else 0,
            chr(0),
            0,
            None,
        )

    def mouse_press(self, ev: QtGui.QMouseEvent, height: int) -> bool:
        name = _PRESS.get(ev.button())
        if name is None:
            return False
        self._set_position(ev, height)
        self.iren.InvokeEvent(name)
        return True

    def mouse_move(self, ev: QtGui.QMouseEvent, height: int) -> bool:
        self._set_position(ev, height)
        self.iren.InvokeEvent("MouseMoveEvent")
        if ev.buttons() != QtCore.Qt.NoButton:
            self._render()
        return True

    def mouse_release(self, ev: QtGui.QMouseEvent, height: int) -> bool:
        name = _RELEASE.get(ev.button())
        if name is None:
            return False
        self._set_position(ev, height)
        self.iren.InvokeEvent(name)
        self._render()
        return True

    def wheel(self, ev: QtGui.QWheelEvent, height: int) -> bool:
        dy = ev.angleDelta().y()
        if dy == 0:
            return False
        self._set_position(ev, height)
        self.iren.InvokeEvent("MouseWheelForwardEvent" if dy > 0 else "MouseWheelBackwardEvent")
        self._render()
        return True
