"""Segment > Auto-segment in the window (offscreen): wall time from the key to the result in the
labels, and the longest stall of the UI event loop meanwhile (a timer ticks every 10 ms; a long
gap = a frozen window). The model: --model DIR, else a tiny one trained here for two steps
(tests/auto_model_factory.py; its accuracy is meaningless, the runtime path is the real one).
The image: a noise volume of --shape Z Y X (default 48 128 128) at 1 x 1 x 2 mm.
Usage: python benchmarks/bench_auto_segment_gui.py [--model DIR] [--shape Z Y X]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", help="an automatic model folder (default: train a tiny one)")
    ap.add_argument("--shape", type=int, nargs=3, default=(48, 128, 128))
    args = ap.parse_args()
    import numpy as np
    from PyQt5 import QtCore

    from viewer.model import Geometry, Volume
    from viewer.model.document import Document
    from viewer.qt.app import ensure_app
    from viewer.qt.auto_segment import install_auto_segment
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing

    tmp = Path(tempfile.mkdtemp(prefix="bench-auto-gui-"))
    os.environ["RADLABEL_DATA_DIR"] = str(tmp / "user")
    model = args.model
    if model is None:
        from auto_model_factory import train_tiny_auto_model

        model = train_tiny_auto_model(tmp / "model")
    app = ensure_app()
    window = MainWindow(with_3d=False)
    install_editing(window, autosave=False)
    auto = install_auto_segment(window)
    window.resize(1200, 800)
    window.show()
    shape = tuple(args.shape)
    image = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    window.set_document(Document(Volume(image, Geometry(shape, (1.0, 1.0, 2.0)), "MR")))
    if not auto.set_model_dir(model):
        raise SystemExit(f"{model}: not a usable automatic model")
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    done: list[object] = []
    auto.finished.connect(done.append)
    t0 = time.perf_counter()
    auto.action.trigger()
    while not done:
        app.processEvents(QtCore.QEventLoop.AllEvents, 50)
        time.sleep(0.002)
    t1 = time.perf_counter()
    timer.stop()
    gaps = np.diff([t0, *[t for t in ticks if t >= t0], t1])
    report = done[0]
    print(f"image {shape[2]} x {shape[1]} x {shape[0]} voxels, model {auto.model().version}")
    print(
        f"auto-segment: {t1 - t0:.1f} s from the action to the labels; changed {report.changed:,}"
    )
    print(f"UI stall: max {gaps.max() * 1000:.0f} ms, p99 {np.percentile(gaps, 99) * 1000:.0f} ms")
    window.history.mark_clean()  # no unsaved-labels question at the close
    window.document.dirty = False
    window.close()


if __name__ == "__main__":
    main()
