"""The headless `info` and `convert` commands: stable JSON, exact output, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.cli.main import run_cli as main
from viewer.io import load_volume

REPO = Path(__file__).resolve().parent.parent


def test_info_json_keys_for_a_dicom_folder(test_data, capsys):
    assert main(["info", str(test_data / "dicom/non_isotropic"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info) == {"path", "kind", "series", "skipped", "volume"}
    assert info["kind"] == "dicom" and len(info["series"]) == 1
    v = info["volume"]
    for key in (
        "size",
        "spacing",
        "origin",
        "direction",
        "orientation",
        "modality",
        "pixel_type",
        "value_range",
    ):
        assert key in v
    assert v["size"] == [64, 28, 4] and v["modality"] == "MR"


def test_info_text_for_a_file(test_data, capsys):
    assert main(["info", str(test_data / "prostate_phantom_image.nrrd")]) == 0
    out = capsys.readouterr().out
    assert "spacing" in out and "orientation" in out and "value range" in out


def test_convert_writes_what_the_loader_holds(test_data, tmp_path, capsys):
    out = tmp_path / "ct.nii.gz"
    assert main(["convert", str(test_data / "dicom/non_isotropic"), str(out)]) == 0
    written = load_volume(out)
    original = load_volume(test_data / "dicom/non_isotropic")
    np.testing.assert_array_equal(written.array, original.array)
    assert written.geometry.same_grid(original.geometry)


def test_convert_refuses_an_existing_output_without_overwrite(test_data, tmp_path, capsys):
    out = tmp_path / "kept.nii.gz"
    out.write_bytes(b"the user's file")
    src = str(test_data / "dicom/non_isotropic")
    assert main(["convert", src, str(out)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(out) in err and "--overwrite" in err
    assert out.read_bytes() == b"the user's file"
    assert main(["convert", src, str(out), "--overwrite"]) == 0
    assert load_volume(out).array.shape == load_volume(src).array.shape


def test_convert_needs_series_when_folder_has_several(test_data, tmp_path, capsys):
    code = main(["convert", str(test_data / "dicom"), str(tmp_path / "x.nii.gz")])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "series found; choose one with --series" in err
    sid = err.split("--series: ")[1].split(", ")[0]
    assert (
        main(["convert", str(test_data / "dicom"), str(tmp_path / "x.nii.gz"), "--series", sid])
        == 0
    )


def test_error_is_one_line_without_traceback(test_data):
    bad = test_data / "dicom/MR_truncated.dcm"
    r = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "info", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert str(bad) in lines[0] and "truncated" in lines[0] and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["train-base", "--out", "x", "--minutes", "nan"],
        ["train-auto", "--out", "x", "--minutes", "inf"],
        ["train-base", "--out", "x", "--minutes", "-5"],
        ["project", "retrain", "p", "--minutes", "nan"],
        ["train-base", "--out", "x", "--steps", "-1"],
        ["train-auto", "--out", "x", "--steps", "-5"],
    ],
)
def test_a_training_budget_must_be_a_finite_number_of_minutes_or_steps(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    flag = argv[-2]
    assert f"argument {flag}:" in last and "is not a" in last


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--minutes", "0"], "give a time budget (--minutes above 0) or a step count (--steps)"),
        (["--lr", "nan"], "--lr must be a positive learning rate, not nan"),
        (["--lr", "-0.1"], "--lr must be a positive learning rate, not -0.1"),
    ],
)
def test_train_base_refuses_a_run_that_would_train_nothing_or_diverge(
    tmp_path, capsys, extra, message
):
    assert main(["train-base", "--out", str(tmp_path / "out"), *extra]) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"


def test_a_retrain_of_zero_minutes_is_refused(tmp_path, capsys):
    from viewer.project import LabelDef, Project

    Project.create(tmp_path / "p", "x", [LabelDef(1, "a", (1, 2, 3))])
    assert main(["project", "retrain", str(tmp_path / "p"), "--minutes", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --minutes must be above 0 for a retrain, not 0"
