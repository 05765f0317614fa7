"""Issue 13, defect 2: what the window shows follows the data. The slice captions ("Axial
11/20") repaint while scrolling with the wheel and the keys in every view, and the status bar
drops the previous image's voxel readout and the "Open an image" hint when an image opens.

A caption is checked as text and as pixels: the window's on-screen (backing store) pixels of the
caption's corner must equal a fresh paint of that corner. Only the open-file dialog is patched.
"""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import phantom_document
from test_editing_gui import viewport_pos
from test_unsaved_guard_gui import ctrl_o

from viewer.io import write_volume

CAPTION_CORNER = QtCore.QRect(0, 0, 200, 26)  # px of the viewport: the caption's corner


def on_screen(sv) -> QtGui.QImage:
    """The caption corner as the screen shows it now (the window's backing store)."""
    vp = sv.canvas.viewport()
    top = vp.window()
    at = vp.mapTo(top, CAPTION_CORNER.topLeft())
    screen = QtWidgets.QApplication.primaryScreen()
    img = screen.grabWindow(top.winId(), at.x(), at.y(), CAPTION_CORNER.width(), 26).toImage()
    return img.convertToFormat(QtGui.QImage.Format_RGB32)


def freshly_painted(sv) -> QtGui.QImage:
    return (
        sv.canvas.viewport()
        .grab(CAPTION_CORNER)
        .toImage()
        .convertToFormat(QtGui.QImage.Format_RGB32)
    )


def wheel(sv, notches: int) -> None:
    """One real wheel event per notch over the view's centre (no modifier: scroll slices)."""
    vp = sv.canvas.viewport()
    pos = QtCore.QPointF(vp.rect().center())
    for _ in range(abs(notches)):
        ev = QtGui.QWheelEvent(
            pos,
            QtCore.QPointF(vp.mapToGlobal(pos.toPoint())),
            QtCore.QPoint(0, 0),
            QtCore.QPoint(0, 120 if notches > 0 else -120),
            QtCore.Qt.NoButton,
            QtCore.Qt.NoModifier,
            QtCore.Qt.NoScrollPhase,
            False,
        )
        QtWidgets.QApplication.sendEvent(vp, ev)


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_captions_follow_wheel_and_keys_on_screen(window, qtbot, view):
    # wider than tall in every view (x > y > z in mm): the image leaves the caption's corner
    # uncovered, as the series did in two of the views
    doc = phantom_document(shape=(20, 80, 150))
    window.set_document(doc)
    sv = window.slice_views[view]
    n = {"axial": 20, "coronal": 80, "sagittal": 150}[view]
    title = view.capitalize()
    qtbot.wait(50)
    start = sv.slice_index
    expected = start
    # the sequence (20 up, 50 down), then the keys
    for step, do in [
        (20, lambda: wheel(sv, 20)),
        (-50, lambda: wheel(sv, -50)),
        (1, lambda: qtbot.keyClick(sv.canvas, QtCore.Qt.Key_PageUp)),
        (1, lambda: qtbot.keyClick(sv.canvas, QtCore.Qt.Key_Up)),
        (-1, lambda: qtbot.keyClick(sv.canvas, QtCore.Qt.Key_Down)),
    ]:
        do()
        expected = int(np.clip(expected + step, 0, n - 1))
        assert sv.canvas.caption == f"{title}  {expected + 1}/{n}"
        qtbot.waitUntil(lambda: on_screen(sv) == freshly_painted(sv), timeout=2000)
    assert expected != start


def _write(path, shape):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_volume(phantom_document(shape=shape).volume, None, path)
    return path


def test_status_bar_follows_the_open_image(window, qtbot, monkeypatch, tmp_path):
    a = _write(tmp_path / "a" / "image.nii.gz", (12, 30, 40))
    b = _write(tmp_path / "b" / "image.nii.gz", (10, 24, 32))
    status = window.status_label
    assert status.text() == "Open an image: File > Open, or drop a file here"
    ctrl_o(qtbot, window, monkeypatch, a)
    assert status.text() == f"{a}: 40 x 30 x 12 voxels of 1 x 1 x 2 mm"
    ax = window.slice_views["axial"]
    qtbot.mouseMove(
        ax.canvas.viewport(), viewport_pos(ax, (ax.slice_index, 11, 12), window.document)
    )
    assert status.text().startswith(f"voxel (12, 11, {ax.slice_index})")
    ctrl_o(qtbot, window, monkeypatch, b)
    assert status.text() == f"{b}: 32 x 24 x 10 voxels of 1 x 1 x 2 mm"
