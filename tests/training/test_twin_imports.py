"""The numpy half of training runs where there is no Paddle and no SimpleITK (the GPU machine
of docs/gpu_training.md): the modules the twin trainer uses import in a fresh interpreter in
which importing either library fails."""

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

BLOCKER = """
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("paddle", "SimpleITK", "torch"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Blocked())
import importlib
for m in sys.argv[1:]:
    importlib.import_module(m)
print(sorted(n for n in sys.modules if n.split(".")[0] in ("paddle", "SimpleITK", "torch")))
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
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "blocked"),
    [("segmentation_core.network", "paddle"), ("viewer.io.loader", "SimpleITK")],
)
def test_the_blocker_blocks(module, blocked):
    """The check itself: a module that needs a blocked library fails to import."""
    r = _import_blocked(module)
    assert r.returncode == 1
    assert f"ImportError: blocked: {blocked}" in r.stderr
