"""Runs every benchmarks/bench_*.py in turn with the same interpreter (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# One line per benchmark; append yours.
BENCHMARKS = [
    "bench_loading.py",
    "bench_editing.py",
    "bench_engine.py",
    "bench_viewer.py",
    "bench_export.py",
    "bench_ai_tool.py",
    "bench_startup.py",
    "bench_pacs.py",
    "bench_stroke.py",
    "bench_training.py",
    "bench_synth.py",
    "bench_project.py",
]


def main() -> int:
    names = list(BENCHMARKS) + sorted(
        p.name for p in HERE.glob("bench_*.py") if p.name not in BENCHMARKS
    )
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / name)]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
