"""`train-base --max-sim-rounds`: the number of simulated correction rounds reaches the trainer
and is recorded in the exported model's meta.json; a value out of range is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from viewer.cli.main import run_cli


def _train(case_dir: Path, out: Path, *extra: str) -> int:
    argv = ["train-base", "--data", str(case_dir), "--out", str(out), "--steps", "1"]
    return run_cli([*argv, "--patch", "16", "--batch", "1", *extra])


@pytest.mark.parametrize(("given", "expected"), [((), 3), (("--max-sim-rounds", "5"), 5)])
def test_max_sim_rounds_reaches_the_trained_model(tmp_path, case_dir, given, expected):
    out = tmp_path / "out"
    assert _train(case_dir, out, *given) == 0
    meta = json.loads((out / "model" / "meta.json").read_text())
    assert meta["training"]["config"]["max_sim_rounds"] == expected


@pytest.mark.parametrize("bad", ["-1", "21"])
def test_max_sim_rounds_out_of_range_is_refused_in_one_line(tmp_path, case_dir, capsys, bad):
    assert _train(case_dir, tmp_path / "out", "--max-sim-rounds", bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --max-sim-rounds must be between 0 and 20, not {bad}"]
    assert not (tmp_path / "out").exists()
