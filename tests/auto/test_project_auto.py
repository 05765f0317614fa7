"""`train-auto --project`: finished cases in, a new auto_models/<version>, gated activation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from auto_synthetic import sphere_case

from viewer.project.auto_versions import gate

REPO = Path(__file__).resolve().parents[2]


def test_gate_rule():
    assert gate(0.5, None, False) == (True, "no automatic model was active")
    assert gate(0.8, 0.8, True)[0] is True
    assert gate(0.79, 0.8, True) == (False, "cross-validated Dice 0.7900 < active 0.8000")
    assert gate(None, 0.8, True)[0] is False


def make_project(folder: Path):
    from viewer.io import save_volume
    from viewer.model.geometry import Geometry
    from viewer.project import LabelDef, Project

    project = Project.create(folder, "auto", [LabelDef(5, "core", (200, 0, 0))])
    src = folder.parent / "src"
    src.mkdir()
    for i in range(3):
        case = sphere_case(i)
        grid = Geometry(case.image.shape, case.spacing_zyx[::-1], (1.0, 2.0, 3.0))
        label = np.where(case.label == 5, 5, 0).astype(np.uint16)  # 9 is not a project label
        save_volume(case.image, grid, src / f"img{i}.nii.gz")
        save_volume(label, grid, src / f"lab{i}.nii.gz")
        project.add_case(
            src / f"img{i}.nii.gz", src / f"lab{i}.nii.gz", final=True, patient_id=f"p{i}"
        )
    return project


def train(folder: Path, steps: int) -> dict:
    r = subprocess.run(
        [
            sys.executable, "main.py", "train-auto", "--project", str(folder), "--folds", "3",
            "--steps", str(steps), "--minutes", "0", "--max-patch", "24", "--threads", "1",
        ],
        cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_train_auto_on_a_project_publishes_and_gates(tmp_path):
    from viewer.project import Project

    folder = tmp_path / "proj"
    make_project(folder)
    first = train(folder, 20)
    assert first["gate"]["version"] == "auto-001"
    assert first["gate"]["activated"] is True
    project = Project.open(folder)
    assert project.active_auto_model_dir() == folder / "auto_models" / "auto-001"
    card = json.loads((folder / "auto_models" / "auto-001" / "auto_model.json").read_text())
    assert card["version"] == "auto-001"
    assert card["plan"]["label_values"] == [5]
    assert not (folder / "auto_models" / ".training").exists()

    # one step per fold learns less than twenty: published, not activated
    second = train(folder, 1)
    assert second["gate"]["version"] == "auto-002"
    assert second["cv_mean_dice"] < first["cv_mean_dice"]
    assert second["gate"]["activated"] is False
    assert Project.open(folder).active_auto_model_dir() == folder / "auto_models" / "auto-001"
    events = [e["event"] for e in Project.open(folder).journal()]
    assert events.count("publish_auto") == 2 and events.count("activate_auto") == 1


def test_a_project_with_one_finished_case_is_one_line(tmp_path):
    from viewer.project import LabelDef, Project

    folder = tmp_path / "p"
    Project.create(folder, "x", [LabelDef(1, "a", (1, 2, 3))])
    r = subprocess.run(
        [sys.executable, "main.py", "train-auto", "--project", str(folder)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    text = (r.stdout + r.stderr).strip()
    assert r.returncode == 2 and len(text.splitlines()) == 1, text
    assert "finished case(s): automatic training needs at least 2" in text


def test_train_auto_on_a_project_refuses_while_another_training_runs(tmp_path):
    """The CLI takes the project's training lock (the GUI's retrain and automatic training
    hold it too): one line naming the lock, exit 2, nothing trained."""
    folder = tmp_path / "proj"
    make_project(folder)
    lock = folder / "retrain.lock"
    lock.write_text(json.dumps({"user": "bob", "host": "elsewhere", "pid": 1, "time": 0}))
    r = subprocess.run(
        [sys.executable, "main.py", "train-auto", "--project", str(folder), "--steps", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    text = (r.stdout + r.stderr).strip()
    assert r.returncode == 2 and len(text.splitlines()) == 1, text
    assert text.endswith(
        f"{lock}: a training of this project is running (started by bob on elsewhere): one at "
        "a time, retrain or automatic model"
    ), text
    assert not (folder / "auto_models").exists() and lock.exists()


def test_a_rerun_resumes_the_same_run_and_discards_any_other(tmp_path):
    from viewer.project import LabelDef, Project
    from viewer.project.auto_versions import RUN_KEY, prepare_work_dir, work_dir

    project = Project.create(tmp_path / "p", "x", [LabelDef(1, "a", (1, 2, 3))])
    key = {"cases": ["c1", "c2"], "folds": 5, "fold": "cv", "seed": 0, "labels": [1]}
    assert prepare_work_dir(project, key) == ""
    folder = work_dir(project)
    (folder / "plan.json").write_text("{}")  # an interrupted run's files
    assert prepare_work_dir(project, dict(key)) == ""  # the same run: resumed
    assert (folder / "plan.json").is_file()
    grown = {**key, "cases": ["c1", "c2", "c3"]}  # one more case finished since
    note = prepare_work_dir(project, grown)
    assert note == "an interrupted automatic training on other cases or settings was discarded"
    assert sorted(p.name for p in folder.iterdir()) == [RUN_KEY]
    assert json.loads((folder / RUN_KEY).read_text()) == grown
    assert prepare_work_dir(project, {**grown, "folds": 3}) != ""  # other folds: other splits
