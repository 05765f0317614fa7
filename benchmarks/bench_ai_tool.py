"""AI tool in the window: click-to-preview latency as the user sees it, and the longest stall of
the UI event loop during predictions (a timer ticks every 10 ms; a long gap = a frozen window).

Runs offscreen on ../shared/data/seg/ct_abdomen_small, liver clicks, for the classic engine and
the Paddle engine (the shipped model, or an untrained export when none is shipped: then only
the runtime is measured, not accuracy). Usage: python benchmarks/bench_ai_tool.py [--clicks N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CASE = REPO.parent / "shared" / "data" / "seg" / "ct_abdomen_small"


def model_dir_or_untrained(tmp: Path) -> tuple[Path, str]:
    from segmentation_core.model_store import default_model_dir, model_files_present

    d = default_model_dir()
    if model_files_present(d):
        return d, "shipped model"
    import paddle

    from segmentation_core.model_store import export_inference_model
    from segmentation_core.network import InteractiveUNet3D

    paddle.seed(0)
    out = tmp / "untrained"
    export_inference_model(InteractiveUNet3D(), out, {"note": "untrained benchmark export"})
    return out, "untrained export (runtime only)"


def run(engine: str, clicks: int, label: str) -> None:
    import numpy as np
    from PyQt5 import QtCore
    from scipy import ndimage

    from viewer.io import load_label_for
    from viewer.qt.ai_controller import install_ai
    from viewer.qt.app import ensure_app
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing

    app = ensure_app()
    window = MainWindow(settings=QtCore.QSettings(tempfile.mktemp(suffix=".ini"), 1))
    install_editing(window, autosave=False)
    ai = install_ai(window, engine=engine)
    window.show()
    window.open_path(str(CASE / "image.nii.gz"))
    doc = window.document
    liver = load_label_for(doc.volume, str(CASE / "label.nii.gz")).array == 5
    window.editing.segments_panel.add_segment("Liver")
    ai.activate(True)
    t0 = time.perf_counter()
    while ai.busy() or not ai.service.wait(0.001):
        app.processEvents()
    ready = time.perf_counter() - t0

    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    rng = np.random.default_rng(0)
    inside = np.argwhere(ndimage.binary_erosion(liver, iterations=2))
    latencies, engine_s, stalls = [], [], []
    for _ in range(clicks):
        voxel = tuple(int(v) for v in inside[rng.integers(len(inside))])
        ai.tool.reject()
        while ai.busy():
            app.processEvents()
        ticks.clear()
        t = time.perf_counter()
        ai.tool.add_click(voxel, True)
        while ai.busy():
            app.processEvents()
            time.sleep(0.001)
        latencies.append(time.perf_counter() - t)
        engine_s.append(ai.tool.latency_s or 0.0)
        gaps = np.diff([t, *ticks, time.perf_counter()])
        stalls.append(float(gaps.max()))
    timer.stop()
    ai.service.shutdown()
    window.history.mark_clean()  # no "unsaved changes" prompt
    window.close()
    p = np.percentile
    print(
        f"{engine:8s} {label:34s} ready {ready:5.2f} s  click->preview p50 {p(latencies, 50):.3f}"
        f" s p95 {p(latencies, 95):.3f} s  (engine {p(engine_s, 50):.3f} s)"
        f"  UI stall p50 {p(stalls, 50) * 1000:4.0f} ms max {max(stalls) * 1000:4.0f} ms"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=8)
    args = ap.parse_args()
    if not CASE.is_dir():
        print(f"skipped: {CASE} is absent")
        return 0
    run("classic", args.clicks, "")
    with tempfile.TemporaryDirectory() as tmp:
        mdir, label = model_dir_or_untrained(Path(tmp))
        os.environ["RADLABEL_MODEL_DIR"] = str(mdir)
        run("paddle", args.clicks, label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
