"""`main.py --self-test` (issue 19): the whole product checked off-screen in a subprocess, one
line per step; a broken part (here: no model where the shipped one should be) fails its step
with a non-zero exit code that names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.qt.self_test import StepFailed, not_blank

REPO = Path(__file__).resolve().parent.parent
STEPS = ["window", "load demo", "2D views", "3D view", "3D rotate", "AI click", "fine-tune",
         "save label"]  # fmt: skip


def _self_test(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, "RADLABEL_DATA_DIR": str(tmp_path), "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--self-test"],
        capture_output=True, text=True, timeout=240, env=full, cwd=tmp_path,
    )  # fmt: skip


def test_self_test_passes_every_step_in_order(tmp_path):
    r = _self_test(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "RadLabel self-test"
    ok = [ln for ln in lines if ln.startswith("ok   ")]
    assert [ln[5:16].strip() for ln in ok] == STEPS
    assert all(ln[16:].lstrip().split()[1] == "s" for ln in ok), "each step prints its time"
    assert lines[-1].startswith("self-test passed in ")
    assert "Paddle model" in next(ln for ln in ok if " AI click " in ln)
    assert r.stderr.strip() == "", r.stderr  # no library chatter on the console


def test_self_test_names_the_failing_step(tmp_path):
    empty = tmp_path / "no-model"
    empty.mkdir()
    r = _self_test(tmp_path, RADLABEL_MODEL_DIR=str(empty))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "self-test FAILED at step: AI click"
    assert lines[-2].startswith("FAIL AI click")
    assert "engine in use: classic" in lines[-2]
    assert [ln[5:16].strip() for ln in lines if ln.startswith("ok   ")] == STEPS[:5]


def test_blank_pictures_fail_and_real_ones_pass():
    with pytest.raises(StepFailed, match="the 3D view looks blank"):
        not_blank(np.zeros((64, 64, 3), np.uint8), "the 3D view")
    one_dot = np.zeros((64, 64, 3), np.uint8)
    one_dot[3, 3] = 255
    with pytest.raises(StepFailed):
        not_blank(one_dot, "a view")
    ramp = np.broadcast_to(np.arange(64, dtype=np.uint8)[None, :, None] * 4, (64, 64, 3))
    assert not_blank(ramp.copy(), "a view") == "64x64, 64 colours"
