"""Time and peak memory to open DICOM series with RadLabel's loader vs plain SimpleITK.

Each measurement runs in a fresh subprocess (so caches and allocator state do not leak between
them) and reports wall time, CPU time and the peak RSS growth over the interpreter's baseline.
The loaders take turns (SimpleITK, RadLabel, SimpleITK, ...) so that a busy machine slows both
alike; the best of REPEATS runs is shown. Both run with ITK limited to one thread, as plain
ImageSeriesReader decodes one file at a time; 'radlabel-mt' is RadLabel with ITK's default
thread count (it decodes compressed files in parallel batches), for information.
Run: .venv/bin/python benchmarks/bench_loading.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
CASES = {
    "mr_head_120_slices": DATA / "dicom/mr_head_120_slices",
    "ct_abdomen_dicom": DATA / "seg/ct_abdomen_dicom/dicom",
}
REPEATS = 5

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import numpy as np, SimpleITK as sitk
from viewer.io import load_volume
path, which = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
c = time.process_time()
if which.startswith("radlabel"):
    arr = load_volume(path).array
else:
    r = sitk.ImageSeriesReader()
    r.SetFileNames(r.GetGDCMSeriesFileNames(path))
    arr = sitk.GetArrayFromImage(r.Execute())
dt = time.perf_counter() - t
cpu = time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"time": dt, "cpu": cpu, "peak_kb": peak - base, "nbytes": arr.nbytes,
                  "shape": list(arr.shape), "dtype": str(arr.dtype)}}))
"""


def measure(path: Path, which: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS="1")
    if which == "radlabel-mt":
        del env["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"]
    code = _CHILD.format(repo=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), which],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if not DATA.is_dir():
        print("bench_loading: ../shared/data is absent, nothing to measure")
        return 0
    loaders = ("simpleitk", "radlabel", "radlabel-mt")
    print(
        f"{'series':22} {'loader':11} {'time s':>7} {'CPU s':>6} {'extra MB':>9} "
        f"{'volume MB':>10} {'x vol':>6}  shape / dtype"
    )
    for name, path in CASES.items():
        runs: dict[str, list[dict]] = {w: [] for w in loaders}
        for _ in range(REPEATS):
            for which in loaders:  # take turns: load on the machine hits every loader alike
                runs[which].append(measure(path, which))
        best = {}
        for which in loaders:
            b = dict(min(runs[which], key=lambda r: r["time"]))
            b["cpu"] = min(r["cpu"] for r in runs[which])
            b["peak_kb"] = min(r["peak_kb"] for r in runs[which])
            best[which] = b
            vol_mb = b["nbytes"] / 2**20
            extra_mb = b["peak_kb"] / 1024
            print(
                f"{name:22} {which:11} {b['time']:7.3f} {b['cpu']:6.3f} {extra_mb:9.1f} "
                f"{vol_mb:10.1f} {extra_mb / vol_mb:6.2f}  {b['shape']} {b['dtype']}"
            )
        sitk_b, ours = best["simpleitk"], best["radlabel"]
        print(
            f"{name:22} radlabel / SimpleITK: time {ours['time'] / sitk_b['time']:.2f} "
            f"(target <= 1.3), CPU {ours['cpu'] / sitk_b['cpu']:.2f}; radlabel-mt time "
            f"{best['radlabel-mt']['time'] / sitk_b['time']:.2f}"
        )
    print(
        f"(best of {REPEATS} fresh processes each, loaders taking turns; 'extra MB' = peak RSS "
        f"growth while loading; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
