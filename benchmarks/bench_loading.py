"""Time and peak memory to open DICOM series with RadLabel's loader vs plain SimpleITK.

Each measurement runs in a fresh subprocess (so caches and allocator state do not leak between
them) and reports wall time and the peak RSS growth over the interpreter's baseline.
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
REPEATS = 3

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import numpy as np, SimpleITK as sitk
from viewer.io import load_volume
path, which = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if which == "radlabel":
    arr = load_volume(path).array
else:
    r = sitk.ImageSeriesReader()
    r.SetFileNames(r.GetGDCMSeriesFileNames(path))
    arr = sitk.GetArrayFromImage(r.Execute())
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"time": dt, "peak_kb": peak - base, "nbytes": arr.nbytes,
                  "shape": list(arr.shape), "dtype": str(arr.dtype)}}))
"""


def measure(path: Path, which: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS="1")
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
    print(
        f"{'series':22} {'loader':10} {'time s':>8} {'extra MB':>9} {'volume MB':>10} "
        f"{'x vol':>6}  shape / dtype"
    )
    for name, path in CASES.items():
        results = {}
        for which in ("simpleitk", "radlabel"):
            runs = [measure(path, which) for _ in range(REPEATS)]
            best = min(runs, key=lambda r: r["time"])
            best["peak_kb"] = min(r["peak_kb"] for r in runs)
            results[which] = best
            vol_mb = best["nbytes"] / 2**20
            extra_mb = best["peak_kb"] / 1024
            print(
                f"{name:22} {which:10} {best['time']:8.3f} {extra_mb:9.1f} {vol_mb:10.1f} "
                f"{extra_mb / vol_mb:6.2f}  {best['shape']} {best['dtype']}"
            )
        ratio = results["radlabel"]["time"] / results["simpleitk"]["time"]
        print(f"{name:22} time ratio radlabel / SimpleITK = {ratio:.2f} (target <= 1.3)")
    print(f"(best of {REPEATS} fresh processes each; 'extra MB' = peak RSS growth while loading)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
