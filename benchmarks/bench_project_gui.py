"""Project panel during a retrain: how long the retrain takes when started from the panel, and the
longest stall of the UI event loop meanwhile (a timer ticks every 10 ms; a long gap = a frozen
window). The retrain runs in its own process (RetrainJob); the panel polls it.

Offscreen, on a generated project (N finished cases: a bright cube labelled 1 in noise).
Usage: python benchmarks/bench_project_gui.py [--cases N] [--minutes M] [--threads T]
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
sys.path.insert(0, str(REPO / "tests" / "qt"))  # the generated cases of the GUI tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=0.25)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    from project_gui_helpers import make_cases, make_label
    from PyQt5 import QtCore

    from viewer.project import LabelDef, Project
    from viewer.qt.ai_controller import install_ai
    from viewer.qt.app import ensure_app
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing
    from viewer.qt.project_controller import install_project

    app = ensure_app()  # kept: the QApplication must outlive the window
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RADLABEL_DATA_DIR"] = tmp  # settings of this run only
        folder = Path(tmp) / "proj"
        project = Project.create(folder, "bench", [LabelDef(1, "Cube", (255, 48, 48))])
        images = make_cases(Path(tmp) / "images", args.cases)
        for i, image in enumerate(images):
            project.add_case(image, make_label(Path(tmp) / f"label{i}.nii.gz"), final=True)
        project.update_settings(retrain_minutes=args.minutes, retrain_threads=args.threads)

        window = MainWindow(with_3d=False)
        install_editing(window, autosave=False)
        install_ai(window, engine="classic")
        ctl = install_project(window, user="bench")
        window.resize(1200, 800)
        window.show()
        assert ctl.open_project(folder)
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QtCore.QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        timer.start()
        t0 = time.perf_counter()
        assert ctl.retrain_now(), "the retrain did not start"
        loop = QtCore.QEventLoop()
        ctl.monitor.ended.connect(lambda *_: loop.quit())
        loop.exec_()
        seconds = time.perf_counter() - t0
        timer.stop()
        result = ctl.monitor.result
        window.ai.service.shutdown()
        window.close()
        app.processEvents()
    g = np.array(gaps) * 1000
    print(
        f"retrain from the panel ({args.cases} cases, {args.minutes} min budget, "
        f"{args.threads} thread(s)): {result.get('type')} in {seconds:.1f} s"
    )
    print(
        f"event loop during it: {len(g)} ticks, gap median {np.median(g):.0f} ms, "
        f"p99 {np.percentile(g, 99):.0f} ms, max {g.max():.0f} ms (10 ms timer)"
    )
    return 0 if result.get("type") == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
