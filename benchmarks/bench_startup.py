"""Start-up as a user sees it: a fresh process from interpreter start to the first paint of the
main window, and to "ready" (the demo study open in the slice views and the 3D view built).
Run alone: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RADLABEL_DATA_DIR", tempfile.mkdtemp(prefix="radlabel-bench-"))
REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "ct_abdomen_demo.nii.gz"
RUNS = 5

# The child measures from the wall time its parent stamped just before starting it.
CHILD = r"""
import sys, time
t0 = float(sys.argv[1])
from PyQt5 import QtCore
from viewer.qt.app import ensure_app, create_main_window
marks = {}
class FirstPaint(QtCore.QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QtCore.QEvent.Paint and "paint" not in marks:
            marks["paint"] = time.time() - t0
        return False
app = ensure_app()
spy = FirstPaint()
app.installEventFilter(spy)  # the first widget paint of the window, wherever it happens
w = create_main_window(sys.argv[2])
def ready():
    built = vars(w).get("_view_3d") or vars(w).get("view_3d")
    if w.document is not None and built is not None and "paint" in marks:
        marks["ready"] = time.time() - t0
        timer.stop()
        print(marks["paint"], marks["ready"], "paddle" in sys.modules, flush=True)
        w.close()  # releases the views' GL resources in order, as a user's quit does
        app.quit()
timer = QtCore.QTimer()
timer.timeout.connect(ready)
timer.start(5)
app.exec_()
"""


def one_run() -> tuple[float, float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(time.time()), str(DEMO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # the numbers are printed before the window closes: what happens at exit does not count
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"start-up child failed (exit {out.returncode}): {out.stderr[-2000:]}")
    paint, ready, paddle = lines[-1].split()
    return float(paint), float(ready), paddle == "True"


def main() -> int:
    import numpy as np

    runs = [one_run() for _ in range(RUNS)]
    paint = np.array([r[0] for r in runs])
    ready = np.array([r[1] for r in runs])
    print(f"start-up over {RUNS} fresh processes (demo CT {DEMO.name}):")
    print(f"  first paint  median {np.median(paint):.2f} s  max {paint.max():.2f} s")
    print(f"  ready        median {np.median(ready):.2f} s  max {ready.max():.2f} s")
    print(f"  paddle imported in the GUI process: {any(r[2] for r in runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
