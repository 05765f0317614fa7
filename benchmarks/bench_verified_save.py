"""What verifying a save costs: write only, atomic (beside + stream check + fsync + rename), and
the full verified save (plus a read-back of voxels and grid), on the demo label
(resources/demo, 512x512x? CT label) and a synthetic 512x512x400 label. Median of 5 runs.

Run: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_verified_save.py`
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from viewer.io.atomic_save import atomic_write  # noqa: E402
from viewer.io.labels.load_save import load_labels  # noqa: E402
from viewer.io.write_check import check_stream, verify_image  # noqa: E402
from viewer.io.writer import save_volume, write_volume  # noqa: E402
from viewer.model.geometry import Geometry  # noqa: E402

DEMO = REPO / "resources" / "demo" / "ct_abdomen_demo_label.nii.gz"


def median_s(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def synthetic() -> tuple[np.ndarray, Geometry]:
    g = Geometry((400, 512, 512), spacing=(0.8, 0.8, 1.0))
    z, y, x = np.ogrid[:400, :512, :512]
    a = np.zeros(g.shape_zyx, np.uint8)
    a[((z - 200) ** 2 / 150**2 + (y - 256) ** 2 / 180**2 + (x - 256) ** 2 / 200**2) < 1] = 1
    a[((z - 150) ** 2 + (y - 200) ** 2 + (x - 300) ** 2) < 60**2] = 2
    return a, g


def bench(name: str, array: np.ndarray, geometry: Geometry, folder: Path) -> None:
    for suffix in (".nii.gz", ".nrrd"):
        p = folder / f"label{suffix}"
        plain = median_s(lambda: write_volume(array, geometry, p))  # noqa: B023
        atomic = median_s(lambda: atomic_write(p, lambda t: write_volume(array, geometry, t)))  # noqa: B023
        stream = median_s(lambda: check_stream(str(p)))  # noqa: B023
        back = median_s(lambda: verify_image(str(p), array, geometry))  # noqa: B023
        full = median_s(lambda: save_volume(array, geometry, p))  # noqa: B023
        print(
            f"{name:<28} {suffix:<7} {p.stat().st_size / 1e6:7.2f} MB  write {plain:6.3f} s  "
            f"atomic {atomic:6.3f} s (stream check {stream:6.3f} s)  "
            f"read-back {back:6.3f} s  verified save {full:6.3f} s  (+{full / plain - 1:4.0%})"
        )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="radlabel-bench-") as tmp:
        demo = load_labels(DEMO)
        array, geometry = demo.labelmap.array, demo.source_geometry
        shape = "x".join(str(s) for s in geometry.size_xyz)
        bench(f"demo label {shape}", array.astype(np.uint8), geometry, Path(tmp))
        array, geometry = synthetic()
        bench("synthetic 512x512x400", array, geometry, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
