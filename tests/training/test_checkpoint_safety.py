"""Checkpoints cannot carry code (issue 20 item 6): a crafted pickle given to `--init-from`, left
in `--out` to resume from, disguised as a .safetensors file, or put in a model folder as
`model.pdiparams` is refused in one line and never unpickled (its marker file never appears)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from test_training import _sphere_case

from segmentation_core.checkpoint_io import CheckpointError, load_tensors
from segmentation_core.model_store import default_model_dir
from segmentation_core.paddle_runtime import check_model_dir
from segmentation_core.training.optim import STEP_KEY
from segmentation_core.training.trainer import (
    CHECKPOINT,
    OPT_CHECKPOINT,
    STATE,
    TrainConfig,
    Trainer,
)
from segmentation_core.types import EngineError
from viewer.cli.main import run_cli


class _Marker:
    """Unpickling this creates the marker file (what an attacker's code would do)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _crafted_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"down.0.body.0.weight": _Marker(marker)}, protocol=4))
    return path


def test_the_crafted_pickle_really_runs_code_when_unpickled(tmp_path):
    """The premise: loading the file the way paddle.load does creates the marker."""
    marker = tmp_path / "marker"
    evil = _crafted_pickle(tmp_path / "evil.pdparams", marker)
    pickle.loads(evil.read_bytes())
    assert marker.exists()


def _train(case_dir: Path, out: Path, *extra: str) -> int:
    argv = ["train-base", "--data", str(case_dir), "--out", str(out), "--steps", "1"]
    return run_cli([*argv, "--patch", "16", "--batch", "1", *extra])


@pytest.mark.parametrize("name", ["evil.pdparams", "evil.safetensors", "evil"])
def test_init_from_a_pickle_is_refused_in_one_line(tmp_path, case_dir, capsys, name):
    marker = tmp_path / "marker"
    evil = _crafted_pickle(tmp_path / name, marker)
    assert _train(case_dir, tmp_path / "out", "--init-from", str(evil)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {evil}: pickle checkpoints are refused")
    assert not marker.exists()
    assert not (tmp_path / "out" / CHECKPOINT).exists()


@pytest.mark.parametrize("name", ["checkpoint.pdparams", "checkpoint.pdopt"])
def test_resuming_from_a_pickle_checkpoint_is_refused_in_one_line(tmp_path, case_dir, capsys, name):
    marker = tmp_path / "marker"
    out = tmp_path / "out"
    out.mkdir()
    _crafted_pickle(out / name, marker)
    (out / STATE).write_text(json.dumps({"step": 5, "elapsed_s": 1.0, "history": []}))
    assert _train(case_dir, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"error: {out / name}: pickle checkpoints are refused"
    )
    assert not marker.exists()


def _config(**kw) -> TrainConfig:
    base = dict(
        patch=16, batch=2, widths=(4, 8), max_sim_rounds=1, val_every=0, seed=3, prefetch=False
    )
    base.update(kw)
    return TrainConfig(**base)


def test_a_pickle_disguised_as_the_resume_checkpoint_is_refused(tmp_path):
    t = Trainer([_sphere_case()], tmp_path, _config(max_steps=1))
    t.run()
    marker = tmp_path / "marker"
    for name in (CHECKPOINT, OPT_CHECKPOINT):
        saved = (tmp_path / name).read_bytes()
        _crafted_pickle(tmp_path / name, marker)
        with pytest.raises(CheckpointError, match="pickle checkpoints are refused"):
            Trainer([_sphere_case()], tmp_path, _config(max_steps=2))
        (tmp_path / name).write_bytes(saved)
    assert not marker.exists()


def test_checkpoints_are_safetensors_and_resume_restores_weights_and_optimiser(tmp_path):
    t1 = Trainer([_sphere_case()], tmp_path, _config(max_steps=3))
    t1.run()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CHECKPOINT, OPT_CHECKPOINT, STATE])
    weights = load_file(str(tmp_path / CHECKPOINT))
    for k, v in t1.net.state_dict().items():
        np.testing.assert_array_equal(weights[k], v.numpy())
    opt1 = {
        k: np.asarray(getattr(v, "numpy", lambda v=v: v)()) for k, v in t1.opt.state_dict().items()
    }
    manifest = json.loads((tmp_path / STATE).read_text())
    assert manifest["format"] == "radlabel-safetensors-1" and manifest["step"] == 3
    t2 = Trainer([_sphere_case()], tmp_path, _config(max_steps=4))
    assert t2.state.step == 3
    for k, v in t2.net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])
    # the optimiser state comes back under this network's parameter names, value for value
    # (held until the first step creates the accumulators, then set from these values)
    opt2 = {k: np.asarray(v) for k, v in t2.opt.state_dict().items()}
    names = dict(zip(manifest["param_names"], [p.name for p in t2.net.parameters()]))
    assert len(opt2) == len(opt1) == 2 * len(names) + 1  # two moments each, one step count
    for key, value in opt1.items():
        if key == STEP_KEY:
            continue
        old = max((n for n in names if key.startswith(n + "_")), key=len)
        np.testing.assert_array_equal(opt2[names[old] + key[len(old) :]], value)
    # the step count (Adam's bias correction) came back and goes on from there
    assert int(opt1[STEP_KEY]) == t2.opt.t == 3
    assert t2.run().step == 4
    assert t2.opt.t == 4


def test_init_from_a_safetensors_checkpoint_or_its_folder(tmp_path):
    src = Trainer([_sphere_case()], tmp_path / "a", _config(max_steps=1))
    src.run()
    want = {k: v.numpy() for k, v in src.net.state_dict().items()}
    for init in (tmp_path / "a" / CHECKPOINT, tmp_path / "a"):
        out = tmp_path / f"b-{init.name}"
        t = Trainer([_sphere_case()], out, _config(max_steps=1, init_from=str(init)))
        for k, v in t.net.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), want[k])


def test_garbage_named_safetensors_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        load_tensors(bad)


def test_a_model_folder_with_a_pickle_as_pdiparams_never_runs_it(tmp_path):
    """The Predictor's .pdiparams is a dense-tensor stream, not a pickle: our check refuses a
    pickle in one line, and Paddle's own C++ reader rejects it too without running it."""
    from paddle import inference

    marker = tmp_path / "marker"
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(default_model_dir() / "model.json", model / "model.json")
    _crafted_pickle(model / "model.pdiparams", marker)
    with pytest.raises(EngineError, match="pickle checkpoints are refused"):
        check_model_dir(model)
    cfg = inference.Config(str(model / "model.json"), str(model / "model.pdiparams"))
    cfg.disable_gpu()
    cfg.disable_glog_info()
    with pytest.raises(Exception, match="version"):
        inference.create_predictor(cfg)
    assert not marker.exists()
    # the shipped model passes the check unchanged
    assert check_model_dir(default_model_dir())[1].name == "model.pdiparams"


def test_a_budget_of_zero_minutes_lets_the_step_count_decide(tmp_path):
    t = Trainer([_sphere_case()], tmp_path, _config(minutes=0.0, max_steps=2))
    assert t.run().step == 2  # it stopped at once before: an untrained model was exported
