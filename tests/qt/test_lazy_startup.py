"""Start-up: the window paints before VTK loads; the 3D view is built right after the first
paint (showing the study opened meanwhile), and Paddle never loads in the GUI process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PyQt5 import QtWidgets, sip
from qt_helpers import phantom_document

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys
from viewer.qt.app import ensure_app, create_main_window
heavy = lambda: [m for m in ("paddle", "vtkmodules") if m in sys.modules]
app = ensure_app()
w = create_main_window(sys.argv[1])
print("created", heavy(), w.document is None)
import time
t = time.time()
while (w.document is None or vars(w)["_view_3d"] is None) and time.time() - t < 60:
    app.processEvents()
print("ready", heavy(), w.document is not None, type(w.grid.views["3d"]).__name__)
sys.stdout.flush()
w.close()
"""


def test_paddle_and_vtk_wait_until_after_the_first_paint():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    demo = REPO / "resources" / "demo" / "ct_abdomen_demo.nii.gz"
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(demo)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = r.stdout.splitlines()
    assert lines[:2] == [
        "created [] True",  # window shown: no VTK, no Paddle, the study not read yet
        "ready ['vtkmodules'] True VolumeView3D",  # after the first paint; still no Paddle
    ], r.stderr


def test_3d_view_replaces_its_placeholder_after_the_first_paint(qapp_configured, qtbot):
    from viewer.qt.main_window import MainWindow
    from viewer.qt.volume_view_3d import VolumeView3D

    w = MainWindow()
    qtbot.addWidget(w)
    placeholder = w.grid.views["3d"]
    assert isinstance(placeholder, QtWidgets.QLabel) and vars(w)["_view_3d"] is None
    doc = phantom_document()
    w.set_document(doc)  # opened before the 3D view exists
    w.resize(900, 800)
    w.show()
    qtbot.waitUntil(lambda: vars(w)["_view_3d"] is not None, timeout=60_000)
    view = w.grid.views["3d"]
    assert isinstance(view, VolumeView3D) and view is w.view_3d
    assert view.isVisible() and view.document is doc
    assert w.grid.grid.indexOf(view) >= 0
    qtbot.waitUntil(lambda: sip.isdeleted(placeholder))  # the placeholder is gone
    w.set_layout("1x3")  # slices only: the 3D view hides like before
    assert not view.isVisible()
    w.set_layout("2x2")
    assert view.isVisible()
    w.close()


def test_window_without_3d_has_none(qapp_configured, qtbot):
    from viewer.qt.main_window import MainWindow

    w = MainWindow(with_3d=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.view_3d is None and isinstance(w.grid.views["3d"], QtWidgets.QLabel)
    assert "&3D" not in [a.text() for a in w.menuBar().actions()]
