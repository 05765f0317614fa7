"""Start-up of the built bundle (dist/radlabel/radlabel) as a user sees it: a fresh process to
the main window shown (first paint) and to the demo study open, off-screen, median of 3 runs.
Skips (exit 0, says so) when no bundle is built (`make bundle`). The window reports the times
itself (RADLABEL_STARTUP_PROBE, viewer/qt/app.py), since the bundle cannot run a probe script.
Run alone: `python benchmarks/bench_bundle_startup.py [BUNDLE_EXECUTABLE]`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "ct_abdomen_demo.nii.gz"
RUNS = 3


def one_run(app: Path) -> tuple[float, float]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "OMP_NUM_THREADS": "1",
        "RADLABEL_DATA_DIR": tempfile.mkdtemp(prefix="radlabel-bench-"),
        "RADLABEL_STARTUP_PROBE": repr(time.time()),
    }
    out = subprocess.run(
        [str(app), str(DEMO)], capture_output=True, text=True, timeout=300, env=env
    )
    marks = dict(
        line.split()[1:3] for line in out.stdout.splitlines() if line.startswith("startup-probe ")
    )
    if "shown" not in marks or "ready" not in marks:
        raise RuntimeError(
            f"{app} exited {out.returncode} without start-up marks: {out.stderr[-800:]}"
        )
    return float(marks["shown"]), float(marks["ready"])


def main(argv: list[str]) -> int:
    app = Path(argv[0]) if argv else REPO / "dist" / "radlabel" / "radlabel"
    if not app.is_file():
        print(f"bench_bundle_startup: skipped, no bundle at {app} (build it with `make bundle`)")
        return 0
    runs = [one_run(app) for _ in range(RUNS)]
    shown = [r[0] for r in runs]
    ready = [r[1] for r in runs]
    print(f"bundle start-up over {RUNS} fresh processes ({app}):")
    print(f"  window shown  median {statistics.median(shown):.2f} s  max {max(shown):.2f} s")
    print(f"  demo open     median {statistics.median(ready):.2f} s  max {max(ready):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
