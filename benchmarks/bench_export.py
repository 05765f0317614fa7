"""Export timings on ct_abdomen_dicom (512x512x20 CT, 31 segments): label files, DICOM SEG,
meshes and an nnU-Net dataset. Prints median (and best) of 3 runs, and output sizes.

Run: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_export.py`
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

from viewer.io import load_volume  # noqa: E402
from viewer.io.dataset_export import ExportCase, export_nnunet  # noqa: E402
from viewer.io.dicom_seg import export_dicom_seg  # noqa: E402
from viewer.io.dicom_seg_import import read_dicom_seg  # noqa: E402
from viewer.io.labels.load_save import load_labels, save_labels  # noqa: E402
from viewer.io.mesh_export import export_meshes  # noqa: E402

CASE = REPO.parent / "shared" / "data" / "seg" / "ct_abdomen_dicom"


def timed(label: str, fn, repeats: int = 3):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    print(f"{label:<42} median {statistics.median(times):7.3f} s   best {min(times):7.3f} s")
    return result


def size(path: Path) -> str:
    total = (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )
    return f"{total / 1e6:.2f} MB"


def main() -> int:
    if not CASE.is_dir():
        print(f"{CASE} is absent: nothing to measure")
        return 0
    volume = timed("load DICOM series (20 slices)", lambda: load_volume(CASE / "dicom"), 1)
    loaded = timed(
        "label onto image grid (y-flipped NIfTI)",
        lambda: load_labels(CASE / "label.nii.gz", volume.geometry),
    )
    labels, table = loaded.labelmap, loaded.segments
    print(f"  {len(labels.values())} segments, grid {list(labels.geometry.size_xyz)}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in ("l.nii.gz", "l.nrrd", "l.seg.nrrd"):
            p = timed(f"save {name}", lambda n=name: save_labels(out / n, labels, table))
            timed(f"load {name} onto the image", lambda p=p: load_labels(p, volume.geometry))
            print(f"  size {size(p)}")
        seg = timed(
            "DICOM SEG export (highdicom)",
            lambda: export_dicom_seg(volume, labels, out / "seg.dcm", table),
        )
        print(f"  {seg.frames} frames, size {size(seg.path)}")
        timed("DICOM SEG import onto the image", lambda: read_dicom_seg(seg.path, volume.geometry))
        timed(
            "STL meshes, all segments", lambda: export_meshes(labels, out / "mesh", table, "stl"), 1
        )
        print(f"  size {size(out / 'mesh')}")
        n = [0]

        def nnunet():
            n[0] += 1
            return export_nnunet(
                [ExportCase(volume, labels, table)], out / f"raw{n[0]}", 1, "Bench", table
            )

        r = timed("nnU-Net dataset, 1 case", nnunet)
        print(f"  size {size(r.folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
