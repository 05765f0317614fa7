"""Headless pictures of what the window shows: the real SliceView / 3D view / main-window grid,
rendered offscreen. Used by `main.py screenshot`, the tests and the docs."""

from __future__ import annotations

import os
import tempfile

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.document import Document

VIEW_CHOICES = ("axial", "coronal", "sagittal", "3d", "all")


def qimage_to_rgb(image: QtGui.QImage) -> np.ndarray:
    """(h, w, 3) uint8 copy of a QImage."""
    img = image.convertToFormat(QtGui.QImage.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits().asstring(bpl * h), dtype=np.uint8).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def rgb_to_qimage(rgb: np.ndarray) -> QtGui.QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QtGui.QImage(rgb.data, w, h, rgb.strides[0], QtGui.QImage.Format_RGB888).copy()


def save_png(rgb: np.ndarray, path: str) -> None:
    """Write a PNG atomically (beside, checked, renamed): a full disk keeps the old picture."""
    from viewer.errors import SaveError
    from viewer.io.atomic_save import atomic_write
    from viewer.io.write_check import WriteCheckError

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SaveError("folder does not exist", path)
    image = rgb_to_qimage(rgb)

    def write(tmp: str) -> None:
        if not image.save(tmp, "PNG"):
            raise SaveError("could not write the PNG file", path)

    def verify(tmp: str) -> None:
        back = QtGui.QImage(tmp, "PNG")
        if back.isNull() or back.width() != image.width() or back.height() != image.height():
            raise WriteCheckError("the written PNG file does not read back")

    atomic_write(path, write, verify)


def _process(app) -> None:
    for _ in range(3):
        app.processEvents()


class ScreenshotRenderer:
    """Builds the real main window offscreen on a document and grabs its views."""

    def __init__(self, document: Document, size: int = 512, cursor_world=None) -> None:
        from viewer.qt.app import ensure_app
        from viewer.qt.main_window import MainWindow

        self.app = ensure_app()
        self._tmp = tempfile.TemporaryDirectory(prefix="radlabel-shot-")
        settings = QtCore.QSettings(
            os.path.join(self._tmp.name, "s.ini"), QtCore.QSettings.IniFormat
        )
        self.window = MainWindow(settings=settings)
        self.window.resize(2 * size + 40, 2 * size + 140)
        self.window.show()
        self.size = size
        self.window.set_document(document)
        if cursor_world is not None:
            self.window.state.set_cursor(cursor_world)
        _process(self.app)

    def slice_view(self, view: str) -> np.ndarray:
        self.window.set_layout("single", view)
        sv = self.window.slice_views[view]
        self.window.grid.setFixedSize(self.size, self.size)
        _process(self.app)
        sv.reset_zoom()
        _process(self.app)
        return qimage_to_rgb(sv.canvas.grab().toImage())

    def view_3d(self) -> np.ndarray:
        v = self.window.view_3d
        v.render_window.SetSize(self.size, self.size)
        v.scene.set_planes(self.window.state.cursor_world)
        return v.grab_pixels()

    def all_views(self) -> np.ndarray:
        self.window.grid.setFixedSize(2 * self.size, 2 * self.size)
        self.window.set_layout("2x2")
        _process(self.app)
        for sv in self.window.slice_views.values():
            sv.reset_zoom()
        self.window.view_3d.render()
        _process(self.app)
        return qimage_to_rgb(self.window.grid.grab().toImage())

    def render(self, view: str) -> np.ndarray:
        if view == "3d":
            return self.view_3d()
        if view == "all":
            return self.all_views()
        return self.slice_view(view)

    def close(self) -> None:
        self.window.close()
        self.window.deleteLater()
        self._tmp.cleanup()


def parse_slice(text: str | None, document: Document, view: str) -> np.ndarray | None:
    """Crosshair for `--slice`: 'x,y,z' is a world (LPS mm) point; one integer N is slice N
    (0-based, in display order) of `view` (axial for 'all'/'3d'), through the volume centre."""
    if not text:
        return None
    from viewer.model.display_frame import DisplayFrame

    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"--slice must be 'x,y,z' (mm) or a slice number, got {text!r}") from None
    if not all(np.isfinite(numbers)):
        raise ValueError(f"--slice must be finite numbers, got {text!r}")
    if len(numbers) == 3:
        return np.array(numbers)
    if len(numbers) != 1 or numbers[0] != int(numbers[0]):
        raise ValueError(f"--slice must be 'x,y,z' (mm) or a slice number, got {text!r}")
    frame = DisplayFrame.from_geometry(document.geometry)
    v = view if view in ("axial", "coronal", "sagittal") else "axial"
    n = frame.slice_count(v)
    k = int(numbers[0])
    if not 0 <= k < n:
        raise ValueError(f"slice {k} is outside 0..{n - 1} of the {v} view")
    centre = frame.world_to_view(
        document.geometry.index_to_world((np.asarray(document.geometry.shape_zyx) - 1) / 2.0), v
    )
    centre[0] = k
    return frame.view_to_world(centre, v)


def ensure_headless() -> None:
    """Screenshots never need a screen: use Qt's offscreen platform unless one was chosen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_app() -> QtWidgets.QApplication:
    from viewer.qt.app import ensure_app

    ensure_headless()
    return ensure_app()
