"""Runs nnU-Net v2's own `verify_dataset_integrity` on an exported dataset, in a separate
interpreter (nnunetv2 needs torch, which RadLabel does not depend on).

The interpreter comes from `$RADLABEL_NNUNET_PYTHON`, else `/tmp/nnunet-venv/bin/python`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PYTHON = "/tmp/nnunet-venv/bin/python"
_SCRIPT = (
    "import sys\n"
    "from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity\n"
    "verify_dataset_integrity(sys.argv[1], num_processes=1)\n"
    "print('RADLABEL-NNUNET-VERIFY-OK')\n"
)


@dataclass
class IntegrityResult:
    ok: bool
    output: str


def nnunet_python() -> str | None:
    """The interpreter that has nnunetv2, or None when there is none."""
    candidate = os.environ.get("RADLABEL_NNUNET_PYTHON", DEFAULT_PYTHON)
    if not Path(candidate).exists():
        return None
    probe = subprocess.run(
        [candidate, "-c", "import nnunetv2"], capture_output=True, text=True, timeout=120
    )
    return candidate if probe.returncode == 0 else None


def verify_with_nnunet(folder: str | Path, python: str, timeout: float = 300) -> IntegrityResult:
    """Run nnU-Net's integrity check on `folder`; ok only when it finished without error."""
    env = dict(os.environ, OMP_NUM_THREADS="1", nnUNet_raw=str(Path(folder).parent))
    env.setdefault("nnUNet_preprocessed", str(Path(folder).parent / "_nnunet_preprocessed"))
    env.setdefault("nnUNet_results", str(Path(folder).parent / "_nnunet_results"))
    run = subprocess.run(
        [python, "-c", _SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    out = run.stdout + run.stderr
    return IntegrityResult(run.returncode == 0 and "RADLABEL-NNUNET-VERIFY-OK" in out, out)
