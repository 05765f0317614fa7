"""The 3D view widget: a narrow bar (volume preset, camera menu) over a VTK picture.

With a real display it embeds QVTKRenderWindowInteractor. Without one (offscreen Qt: tests, the
screenshot command) it renders into an off-screen EGL window and shows the captured picture in a
QLabel, so `grab()` of the main window shows real 3D pixels too.
"""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.view_state import ViewState
from viewer.qt.surface_worker import SurfaceUpdater
from viewer.qt.vtk_interaction import OffscreenInteractor, trackball_style
from viewer.qt.vtk_offscreen import capture, headless, make_offscreen_window
from viewer.qt.vtk_scene import CAMERA_PRESETS, VOLUME_PRESETS, Scene3D


class _OffscreenPicture(QtWidgets.QLabel):
    """Shows the off-screen render window's pixels; re-renders at the label's size."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.render_window = make_offscreen_window(256, 256)
        self.setMinimumSize(64, 64)
        self.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Ignored)
        self.setAlignment(QtCore.Qt.AlignCenter)
        self.setStyleSheet("background: black")
        # Qt mouse events -> VTK interactor events (drag rotates, wheel zooms), as on screen
        self.interactor = OffscreenInteractor(self.render_window, self.render)

    def render(self) -> None:  # noqa: A003 (Qt-style name)
        w, h = max(self.width(), 16), max(self.height(), 16)
        if tuple(self.render_window.GetSize()) != (w, h):
            self.render_window.SetSize(w, h)
        rgb = capture(self.render_window)
        img = QtGui.QImage(
            rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QtGui.QImage.Format_RGB888
        )
        self.setPixmap(QtGui.QPixmap.fromImage(img.copy()))

    def resizeEvent(self, ev) -> None:  # noqa: N802
        super().resizeEvent(ev)
        if self.isVisible():
            self.render()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        if not self.interactor.mouse_press(ev, self.height()):
            super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        self.interactor.mouse_move(ev, self.height())

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        if not self.interactor.mouse_release(ev, self.height()):
            super().mouseReleaseEvent(ev)

    def wheelEvent(self, ev) -> None:  # noqa: N802
        if not self.interactor.wheel(ev, self.height()):
            super().wheelEvent(ev)


class VolumeView3D(QtWidgets.QWidget):
    """3D view of the document, following the shared crosshair with its slice planes."""

    sigMaximise = QtCore.pyqtSignal(str)

    def __init__(self, state: ViewState, parent=None, offscreen: bool | None = None) -> None:
        super().__init__(parent)
        self.view = "3d"
        self.state = state
        self.offscreen = headless() if offscreen is None else offscreen
        if self.offscreen:
            self.picture = _OffscreenPicture(self)
            self.render_window = self.picture.render_window
            self.interactor = self.picture.interactor
        else:
            from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor

            self.interactor = QVTKRenderWindowInteractor(self)
            self.picture = self.interactor
            self.render_window = self.interactor.GetRenderWindow()
            self.interactor.SetInteractorStyle(trackball_style())
        self.scene = Scene3D(self.render_window)
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.addItems(VOLUME_PRESETS)
        self.preset_box.setToolTip("Volume rendering preset")
        self.preset_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLength)
        self.preset_box.setMinimumContentsLength(8)  # a narrow bar: the 3D view may be small
        self.preset_box.currentTextChanged.connect(self._on_preset)
        # camera directions in one drop-down button, so the bar stays narrow
        self.camera_button = QtWidgets.QToolButton()
        self.camera_button.setText("View")
        self.camera_button.setToolTip("Camera: view from a direction, or reset (menu 3D)")
        self.camera_button.setPopupMode(QtWidgets.QToolButton.InstantPopup)
        menu = QtWidgets.QMenu(self.camera_button)
        for name in CAMERA_PRESETS:
            menu.addAction(f"From {name}", lambda _=False, n=name: self.camera_preset(n))
        menu.addSeparator()
        menu.addAction("Reset camera", lambda _=False: self.reset_camera())
        self.camera_button.setMenu(menu)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(2, 2, 2, 2)
        bar.addWidget(QtWidgets.QLabel("3D"))
        bar.addWidget(self.preset_box)
        bar.addWidget(self.camera_button)
        bar.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.picture, 1)
        self.document = None
        self._render_timer = _single_shot(self, 15, self.render)
        # label surfaces follow the edits on a worker thread, segment by segment
        self.surfaces = SurfaceUpdater(self.scene, self)
        self.surfaces.finished.connect(self._surfaces_shown)
        state.events.cursor.connect(self._on_cursor)
        self._preset_chosen = False  # the user picked a volume preset for this document
        self._had_surfaces = False
        if not self.offscreen:
            self.interactor.Initialize()
        watch_interaction(self.interactor.GetInteractorStyle(), self.scene, self.render)

    def set_document(self, document) -> None:
        self.surfaces.set_document(None)  # waits for a rebuild in flight
        self.document = document
        self._preset_chosen = False
        self.scene.set_document(document)
        self._had_surfaces = self.scene.surface_actor is not None
        self.surfaces.set_document(document)
        if document is not None:
            self.scene.set_planes(self.state.cursor_world)
            self.preset_box.blockSignals(True)
            self.preset_box.setCurrentText(self.scene.preset)
            self.preset_box.blockSignals(False)
        self.render()

    def release(self) -> None:
        """Free the render window's GL context now (the window is closing), not whenever the
        garbage collector gets to it."""
        self.state.events.cursor.disconnect(self._on_cursor)
        self._render_timer.stop()
        self.surfaces.set_document(None)
        self.surfaces.shutdown()
        if not self.offscreen:
            self.interactor.Finalize()
        else:
            self.render_window.Finalize()

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:  # noqa: N802 (a view shown on its own)
        super().closeEvent(ev)
        self.release()

    def render(self) -> None:  # noqa: A003
        if self.offscreen:
            if self.picture.isVisible() or self.picture.pixmap() is None:
                self.picture.render()
        else:
            self.render_window.Render()

    def grab_pixels(self) -> np.ndarray:
        """The current 3D picture, (h, w, 3) uint8, read from the render window itself."""
        return capture(self.render_window)

    def set_preset(self, name: str) -> None:
        self.preset_box.setCurrentText(name)
        self._on_preset(name)

    def _on_preset(self, name: str) -> None:
        self._preset_chosen = True
        self.scene.set_preset(name)
        self.render()

    def camera_preset(self, name: str) -> None:
        self.scene.camera_preset(name)
        self.render()

    def reset_camera(self) -> None:
        self.scene.reset_camera()
        self.render()

    def _on_cursor(self) -> None:
        if self.document is not None:
            self.scene.set_planes(self.state.cursor_world)
            self._render_timer.start()

    def _surfaces_shown(self) -> None:
        """New label surfaces are in the scene (the worker finished)."""
        self._first_surfaces()
        self.render()

    def _rebuild_surfaces(self) -> None:
        """Rebuild all surfaces now, on this thread."""
        self.scene.update_surfaces()
        self._first_surfaces()
        self.render()

    def _first_surfaces(self) -> None:
        had_surfaces = self._had_surfaces
        self._had_surfaces = self.scene.surface_actor is not None
        if not had_surfaces and not self._preset_chosen and self.scene.volume is not None:
            # The first label surfaces of a document: show them clear, as at open.
            self.preset_box.blockSignals(True)
            self.preset_box.setCurrentText(self.scene.default_preset())
            self.preset_box.blockSignals(False)
            self.scene.set_preset(self.scene.default_preset())

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802
        self.sigMaximise.emit(self.view)


def watch_interaction(style, scene: Scene3D, render) -> None:
    """While the camera moves (mouse held on the VTK interactor style) draw the scene in its
    'interactive' quality (coarse surfaces, coarser ray casting); render full quality on release."""

    def still(*_args) -> None:
        scene.set_quality("still")
        render()

    style.AddObserver("StartInteractionEvent", lambda *_: scene.set_quality("interactive"))
    style.AddObserver("EndInteractionEvent", still)


def _single_shot(parent, ms: int, slot) -> QtCore.QTimer:
    t = QtCore.QTimer(parent)
    t.setSingleShot(True)
    t.setInterval(ms)
    t.timeout.connect(slot)
    return t
