"""The automatic model's training step (issue 15/16): where the patches are drawn, side by side.

Runs `main.py train-auto` on images generated afresh from ../shared/data/labelmaps/synthseg_brain
(subjects 1-15, T1 prior, the 12 subcortical structures; 2 mm, patch 32^3, batch 2: the
configuration of the issue-15 brain benchmark) for a fixed number of steps, once per variant,
and prints seconds per step of the training loop (the stage's `elapsed_s` / steps, which counts
waiting for a batch):
- eager, in-process, 2 threads: the step before the static graph (`--engine eager`), patches
  drawn between steps (`--no-prefetch`);
- in-process, 2 threads: the static-graph step, patches drawn between steps;
- in-process, 1 thread;
- worker, 2 threads: a worker process draws batches ahead; the net gets 1 thread, the worker
  the other core (the default).
Variants alternate over `--repeats` rounds so that a change in the machine's load hits all
of them; the median is printed.

Run: `.venv/bin/python benchmarks/bench_auto_step.py [--steps 150] [--repeats 2]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABELMAPS = REPO.parent / "shared" / "data" / "labelmaps" / "synthseg_brain"
LABELS = "17,53,18,54,11,50,12,51,13,52,10,49"
VARIANTS = {
    "eager, in-process, 2 thr": ["--threads", "2", "--no-prefetch", "--engine", "eager"],
    "in-process, 2 threads": ["--threads", "2", "--no-prefetch"],
    "in-process, 1 thread": ["--threads", "1", "--no-prefetch"],
    "worker, 2 threads (net 1)": ["--threads", "2"],
}


def seconds_per_step(extra: list[str], steps: int, out: Path) -> float:
    cmd = [
        sys.executable, "main.py", "train-auto", "--synth-labelmaps", str(LABELMAPS),
        "--synth-subjects", "1-15", "--synth-contrast", "t1", "--labels", LABELS,
        "--steps", str(steps), "--minutes", "30", "--out", str(out), "--fold", "all",
        "--max-patch", "32", "--spacing", "2", "--foreground", "0.5", *extra,
    ]  # fmt: skip
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"train-auto failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    state = json.loads((out / "fold_all" / "fullres" / "checkpoint.json").read_text())
    return float(state["elapsed_s"]) / int(state["step"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    if not LABELMAPS.is_dir():
        print("../shared/data/labelmaps/synthseg_brain is absent: nothing to benchmark")
        return 0
    print(
        f"# bench_auto_step: {args.steps} steps x {args.repeats} rounds, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for i, (name, extra) in enumerate(VARIANTS.items()):
                times[name].append(seconds_per_step(extra, args.steps, Path(tmp) / f"{r}_{i}"))
    base = statistics.median(times["eager, in-process, 2 thr"])
    print(f"{'variant':28s} {'s/step':>8s} {'steps/s':>8s} {'speed-up':>9s}  runs")
    for name, ts in times.items():
        m = statistics.median(ts)
        runs = " ".join(f"{t:.3f}" for t in ts)
        print(f"{name:28s} {m:8.3f} {1 / m:8.2f} {base / m:8.2f}x  {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
