"""`main.py project ...`: init, add, status, activate, and bad input as one line with exit 2
and the project unchanged (each through a real `main.py` process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from project_data import GRID, blob_label, tree_bytes, write_image, write_label

from viewer.model.geometry import Geometry

REPO = Path(__file__).resolve().parents[2]


def _main(*args, data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RADLABEL_DATA_DIR=str(data_dir), OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "main.py", "project", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_add_status(tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"1": "liver", "2": {"name": "spleen", "color": [1, 2, 3]}}))
    p = tmp_path / "proj"
    r = _main("init", p, "--labels", labels, "--name", "Abdomen", data_dir=tmp_path)
    assert (r.returncode, r.stdout.strip()) == (
        0,
        f"created project 'Abdomen' in {p} with 2 labels",
    )
    image = write_image(tmp_path / "ct1.nii.gz")
    label = write_label(tmp_path / "ct1_label.nii.gz", blob_label())
    r = _main("add", p, image, "--label", label, "--final", "--copy", data_dir=tmp_path)
    assert (r.returncode, r.stdout.strip()) == (0, "added case ct1 (finished, patient ct1)")
    r = _main("add", p, write_image(tmp_path / "ct2.nii.gz"), data_dir=tmp_path)
    assert r.stdout.strip() == "added case ct2 (new, patient ct2)"
    r = _main("status", p, "--json", data_dir=tmp_path)
    info = json.loads(r.stdout)
    assert info["states"] == {"new": 1, "in_progress": 0, "finished": 1}
    assert [(c["case_id"], c["state"]) for c in info["cases"]] == [
        ("ct1", "finished"),
        ("ct2", "new"),
    ]
    assert info["labels"][1] == {"value": 2, "name": "spleen", "color": [1, 2, 3]}
    assert info["active_model"] == str(REPO / "resources" / "models" / "base")
    assert info["versions"] == []
    assert info["retrain_running"] is None
    r = _main("status", p, data_dir=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[1] == "labels: 1 liver, 2 spleen"
    assert lines[2] == "cases: 2 (new 1, in progress 0, finished 1); validation patients: none yet"
    assert lines[-1] == f"active_model: {REPO / 'resources' / 'models' / 'base'}"


def test_bad_input_is_one_line_exit_2_and_changes_nothing(tmp_path):
    p = tmp_path / "proj"
    assert _main("init", p, data_dir=tmp_path).returncode == 0
    image = write_image(tmp_path / "ct.nii.gz")
    assert _main("add", p, image, data_dir=tmp_path).returncode == 0
    before = tree_bytes(p)
    other = Geometry(GRID.shape_zyx, GRID.spacing, (0.0, 0.0, 0.0))
    off_grid = write_label(tmp_path / "off.nii.gz", (blob_label() > 0).astype("uint16"), other)
    two = write_label(tmp_path / "two.nii.gz", blob_label())  # value 2: not in the default set
    missing = tmp_path / "missing.nii.gz"
    cases = [
        (["add", p, image, "--label", off_grid], f"{off_grid}: the label is on another grid"),
        (["add", p, image, "--label", two], f"{two}: label values 2 are not in the project's"),
        (["add", p, missing], f"{missing}: no such file or folder"),
        (["activate", p, "v3"], f"{p}: no model version 'v3' in this project"),
        (["retrain", p], f"{p}: no finished cases to train on"),
    ]
    for args, start in cases:
        r = _main(*args, data_dir=tmp_path)
        out = (r.stdout + r.stderr).strip()
        assert r.returncode == 2, out
        assert len(out.splitlines()) == 1, out
        assert start in out, out
        assert tree_bytes(p) == before
    (p / "project.json").write_text("[1, 2]")
    r = _main("status", p, data_dir=tmp_path)
    assert r.returncode == 2
    assert (
        (r.stdout + r.stderr)
        .strip()
        .endswith(f"{p / 'project.json'}: the project file is not a JSON object")
    )
