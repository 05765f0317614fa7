"""The numpy half of training runs where only numpy, scipy and scikit-image are installed (the
GPU machine of docs/gpu_training.md has those and torch; no Paddle, SimpleITK or safetensors):
the modules the twin trainer uses import in a fresh interpreter in which importing any other
dependency of the project fails, and checkpoints are written and read there (the numpy
safetensors fallback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# what segmentation_core.training.twin.train imports from the project
NUMPY_PIPELINE = (
    "segmentation_core.encoding",
    "segmentation_core.checkpoint_io",
    "segmentation_core.evaluation.clicker",
    "segmentation_core.local_merge",
    "segmentation_core.masks",
    "segmentation_core.synth.compact",
    "segmentation_core.training.augment",
    "segmentation_core.training.clicks",
    "segmentation_core.training.dataset",
    "segmentation_core.training.pack",
    "segmentation_core.training.prefetch",
    "segmentation_core.training.samples",
    "segmentation_core.training.synth_pool",
    "segmentation_core.training.trainer",
    "segmentation_core.training.twin_weights",
)

# every dependency of the project (pyproject.toml) but numpy, scipy and scikit-image
BLOCKED = (
    "paddle",
    "SimpleITK",
    "torch",
    "safetensors",
    "pydicom",
    "pylibjpeg",
    "highdicom",
    "nibabel",
    "nrrd",
    "platformdirs",
    "PyQt5",
    "pyqtgraph",
    "vtk",
    "vtkmodules",
    "dicomweb_client",
    "requests",
    "keyring",
)

BLOCKER = f"""
import importlib, importlib.abc, sys, tempfile
BLOCKED = {BLOCKED!r}
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Blocked())
for m in sys.argv[1:]:
    importlib.import_module(m)
print(sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED))
if "segmentation_core.checkpoint_io" in sys.argv:
    import numpy as np
    from segmentation_core.checkpoint_io import load_tensors, save_tensors
    w = {{"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, np.uint8)}}
    with tempfile.TemporaryDirectory() as d:
        back = load_tensors(save_tensors(d + "/w.safetensors", w))
    print(sorted((k, v.dtype.str, v.tolist()) for k, v in back.items()))
"""


def _import_blocked(*modules: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_numpy_pipeline_imports_without_paddle_simpleitk_or_torch():
    r = _import_blocked(*NUMPY_PIPELINE)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines() == [
        "[]",
        "[('a', '<f4', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]), ('b', '|u1', [1, 1, 1, 1])]",
    ]


@pytest.mark.parametrize(
    ("module", "blocked"),
    [
        ("segmentation_core.network", "paddle"),
        ("SimpleITK", "SimpleITK"),
        ("safetensors.numpy", "safetensors"),
    ],
)
def test_the_blocker_blocks(module, blocked):
    """The check itself: a module that needs a blocked library fails to import."""
    r = _import_blocked(module)
    assert r.returncode == 1
    assert f"ImportError: blocked: {blocked}" in r.stderr
