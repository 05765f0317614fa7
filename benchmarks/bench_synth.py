"""Seconds per generated image (SynthSeg-style generator, segmentation_core.synth) on a 256^3
label map, one core: the whole grid and the head crop, and the peak memory of one image
(tracemalloc: numpy's allocations) beside the process's peak RSS.

Uses ../shared/data/labelmaps/synthseg_brain/training_seg_01.nii.gz when present, otherwise a
synthetic 256^3 head made in code.

Run: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_synth.py [--images N]`
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from segmentation_core.synth import SynthParams, generate_detailed  # noqa: E402

MAP = REPO.parent / "shared" / "data" / "labelmaps" / "synthseg_brain" / "training_seg_01.nii.gz"


def label_map() -> tuple[np.ndarray, tuple[float, float, float], str]:
    if MAP.is_file():
        from viewer.io import load_volume

        vol = load_volume(str(MAP))
        return vol.array.astype(np.int32), vol.geometry.spacing_zyx, MAP.name
    n = 256
    z, y, x = np.ogrid[:n, :n, :n]
    r = np.sqrt((z - 128.0) ** 2 + (y - 128.0) ** 2 + (x - 128.0) ** 2)
    m = np.zeros((n, n, n), np.int32)
    for radius, value in ((95, 510), (85, 3), (60, 2), (20, 10)):
        m[r < radius] = value
    return m, (1.0, 1.0, 1.0), "synthetic 256^3 head"


def seconds(labels, spacing, params: SynthParams, n: int) -> list[float]:
    out = []
    for seed in range(n):
        t0 = time.perf_counter()
        generate_detailed(labels, spacing, np.random.default_rng(seed), params)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=5)
    args = ap.parse_args()
    labels, spacing, name = label_map()
    print(f"label map: {name}, shape {labels.shape}, spacing {spacing} mm")
    for title, params in (
        ("whole grid", SynthParams()),
        ("head crop (10 mm margin)", replace(SynthParams(), crop_margin_mm=10.0)),
    ):
        t = seconds(labels, spacing, params, args.images)
        print(
            f"{title:26s} s/image: median {statistics.median(t):.2f}  "
            f"min {min(t):.2f}  max {max(t):.2f}  (n={len(t)})"
        )
    tracemalloc.start()
    r = generate_detailed(labels, spacing, np.random.default_rng(0), SynthParams())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del r
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak numpy memory during one whole-grid image: {peak / 2**20:.0f} MB")
    print(f"process peak RSS: {rss_mb:.0f} MB (includes the label map and interpreter)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
