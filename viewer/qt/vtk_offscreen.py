"""Render windows that work without a display, and pixel capture from any VTK render window.

Under QT_QPA_PLATFORM=offscreen the stock QVTKRenderWindowInteractor hands Qt's fake window id to
VTK and renders garbage (see ../shared/STACK-NOTES.md). We render into an off-screen EGL window
instead (OSMesa when EGL is missing) and read the pixels back with vtkWindowToImageFilter.
"""

from __future__ import annotations

import os

import numpy as np
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401 (registers the OpenGL back-end)
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkRenderingCore import vtkRenderWindow, vtkWindowToImageFilter


def _egl_class():
    try:
        from vtkmodules.vtkRenderingOpenGL2 import vtkEGLRenderWindow
    except ImportError:
        return None

    class OffscreenEGLRenderWindow(vtkEGLRenderWindow):
        """EGL window that ignores the window id a Qt widget tries to give it."""

        def SetWindowInfo(self, info) -> None:  # noqa: N802 (VTK naming)
            pass

    return OffscreenEGLRenderWindow


def headless() -> bool:
    """True when Qt has no real screen to draw on (tests, the screenshot command, CI)."""
    return os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal") or (
        os.name == "posix"
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def make_offscreen_window(width: int = 512, height: int = 512) -> vtkRenderWindow:
    """An off-screen render window that produces real pixels without a display."""
    cls = _egl_class()
    rw = cls() if cls is not None else None
    if rw is None:
        from vtkmodules.vtkRenderingOpenGL2 import vtkOSOpenGLRenderWindow

        rw = vtkOSOpenGLRenderWindow()
    rw.SetOffScreenRendering(1)
    rw.SetSize(int(width), int(height))
    return rw


def is_software_renderer(rw: vtkRenderWindow) -> bool:
    """True on Mesa llvmpipe/softpipe/OSMesa (then CPU ray casting beats the 'GPU' mapper)."""
    caps = (rw.ReportCapabilities() or "").lower()
    if "renderer string" not in caps:  # the context exists only after a first render
        rw.Render()
        caps = (rw.ReportCapabilities() or "").lower()
    if "renderer string" not in caps:
        return True  # cannot tell: the CPU mapper is the safe choice
    return any(word in caps for word in ("llvmpipe", "softpipe", "swrast", "osmesa"))


def capture(rw: vtkRenderWindow) -> np.ndarray:
    """The window's current picture as an (height, width, 3) uint8 array, top row first."""
    rw.Render()
    f = vtkWindowToImageFilter()
    f.SetInput(rw)
    f.SetInputBufferTypeToRGB()
    f.ReadFrontBufferOff()
    f.Update()
    img = f.GetOutput()
    w, h, _ = img.GetDimensions()
    arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return np.ascontiguousarray(arr[::-1, :, :3])
