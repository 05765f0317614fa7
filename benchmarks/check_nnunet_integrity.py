"""Export a small nnU-Net v2 dataset from ../shared/data and run nnU-Net's own integrity check.

nnunetv2 needs torch, which RadLabel does not depend on, so it lives in its own venv. When no
interpreter with nnunetv2 is found, this script creates one (the same steps by hand):

    python3 -m venv /tmp/nnunet-venv
    /tmp/nnunet-venv/bin/pip install torch==2.13.0          # the local CPU wheel, never CUDA
    echo torch==2.13.0 > /tmp/c.txt && /tmp/nnunet-venv/bin/pip install -c /tmp/c.txt nnunetv2

Run with the project interpreter: `.venv/bin/python benchmarks/check_nnunet_integrity.py`
(`RADLABEL_NNUNET_PYTHON` points at another interpreter). Exits 0 when the check passes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from viewer.io.dataset_export import ExportCase, export_nnunet  # noqa: E402
from viewer.io.dataset_export_check import nnunet_python, verify_with_nnunet  # noqa: E402
from viewer.io.labels.load_save import load_labels  # noqa: E402
from viewer.io.loader import load_volume  # noqa: E402
from viewer.model.segments import SegmentTable  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "seg"


def install_nnunet() -> None:
    """Create the nnU-Net venv at DEFAULT_PYTHON's location (torch pinned to the CPU wheel)."""
    import subprocess

    from viewer.io.dataset_export_check import DEFAULT_PYTHON

    venv = Path(DEFAULT_PYTHON).parent.parent
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    print(f"installing nnunetv2 into {venv} (torch==2.13.0, CPU) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(pip + ["torch==2.13.0"], check=True)
    constraint = venv / "torch-constraint.txt"
    constraint.write_text("torch==2.13.0\n", encoding="utf-8")
    subprocess.run(pip + ["-c", str(constraint), "nnunetv2"], check=True)


def main() -> int:
    python = nnunet_python()
    if python is None:
        install_nnunet()
        python = nnunet_python()
    if python is None:
        print("nnunetv2 could not be installed: see this script's docstring")
        return 2
    if not DATA.is_dir():
        print(f"{DATA} is absent")
        return 2
    table = SegmentTable()
    table.add("tumour", segment_id=1)
    cases = []
    for name in ("mr_brain_tumour", "mr_prostate_phantom"):
        volume = load_volume(DATA / name / "image.nrrd")
        labels = load_labels(DATA / name / "label.nrrd", volume.geometry).labelmap
        labels.array[labels.array > 0] = 1  # one foreground class for this check
        cases.append(ExportCase(volume, labels, None))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = export_nnunet(cases, tmp, 990, "IntegrityCheck", table, channel_name="MRI")
        t1 = time.perf_counter()
        check = verify_with_nnunet(result.folder, python)
        t2 = time.perf_counter()
    print(
        f"export {len(cases)} cases: {t1 - t0:.2f} s; nnU-Net verify_dataset_integrity: {t2 - t1:.1f} s"
    )
    print("nnU-Net integrity check:", "PASSED" if check.ok else "FAILED")
    if not check.ok:
        print(check.output[-3000:])
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
