"""Screenshots for docs/guide.md, made with the application's own window and screenshot code
(viewer/qt/screenshot.py) on the demo study, headless, so the guide's pictures stay true:

- guide_welcome.png: the window at first start, with the welcome page;
- guide_ai_click.png: the axial view after one AI click on the liver (the shipped Paddle model;
  the classic engine when the model is missing), preview and click marker shown.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/guide_screenshots.py
(`docs/make_screenshots.sh` runs it with the other screenshot commands.)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
DEMO = REPO / "resources" / "demo" / "ct_abdomen_demo.nii.gz"
LIVER = 5


def _settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["RADLABEL_DATA_DIR"] = tempfile.mkdtemp(prefix="radlabel-shot-")  # fresh settings
    sys.path.insert(0, str(REPO))
    import numpy as np
    import pyqtgraph as pg
    from PyQt5 import QtCore
    from PyQt5.QtTest import QTest
    from scipy import ndimage

    from viewer.io import load_label_for
    from viewer.qt.app import create_main_window, ensure_app
    from viewer.qt.screenshot import qimage_to_rgb, save_png

    app = ensure_app()
    window = create_main_window()  # as at a first start: the welcome page is up
    window.resize(1100, 720)
    _settle(app, 1.0)
    save_png(qimage_to_rgb(window.grab().toImage()), str(OUT / "guide_welcome.png"))

    window.welcome.page.demo_button.click()
    doc = window.document
    truth = load_label_for(doc.volume, str(DEMO).replace(".nii.gz", "_label.nii.gz")).array
    dist = ndimage.distance_transform_edt(
        np.pad(truth == LIVER, 1), sampling=doc.geometry.spacing_zyx
    )
    voxel = np.unravel_index(np.argmax(dist[1:-1, 1:-1, 1:-1]), truth.shape)
    window.editing.segments_panel.add_segment("Liver")
    window.ai.activate(True)
    window.set_layout("single", "axial")
    window.state.set_cursor(doc.geometry.index_to_world(voxel))
    _settle(app, 0.5)
    sv = window.slice_views["axial"]
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(voxel))
    pos = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))
    QTest.mouseClick(sv.canvas.viewport(), QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, pos)
    end = time.monotonic() + 120
    while not (window.ai.tool.clicks[0].done and not window.ai.busy()):
        if time.monotonic() > end:
            print("the AI answer did not come", file=sys.stderr)
            return 1
        app.processEvents()
        time.sleep(0.02)
    _settle(app, 0.3)
    rgb = qimage_to_rgb(sv.canvas.grab().toImage())
    save_png(rgb, str(OUT / "guide_ai_click.png"))
    print(f"wrote guide_welcome.png, guide_ai_click.png ({window.ai.service.engine} engine)")
    window.editing.history.mark_clean()  # nothing to save: no prompt at close
    window.ai.service.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
