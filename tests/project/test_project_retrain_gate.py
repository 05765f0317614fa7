"""The retrain's orchestration with a stand-in trainer and evaluator: what it trains on, the
gate (a worse candidate is not activated), the record, the events, the journal."""

from __future__ import annotations

import json

import pytest
from project_data import blob_label, make_project
from retrain_fakes import fake_evaluator, fake_trainer

from viewer.errors import RadLabelError
from viewer.project import Project, ProjectBusy
from viewer.project.retrain import retrain_blocking
from viewer.project.runs import RunFolder


def _finished_project(tmp_path, n=2):
    project = make_project(tmp_path / "p", n)
    for i in range(n):
        project.submit(f"img{i}", blob_label(), user="ann", time_spent_s=5, clicks=2)
    return project


def test_better_candidate_is_activated_with_its_record(tmp_path):
    project = _finished_project(tmp_path)
    base_dir = project.active_model_dir()
    trainer = fake_trainer("good")
    seen = []
    done = retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        progress=seen.append,
        user="ann",
        trainer=trainer,
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    assert trainer.seen == ["img0", "img1"]
    assert (done["type"], done["version"], done["activated"]) == ("done", "v1", True)
    assert done["candidate"]["dice@1"] == 0.7 and done["active"]["dice@1"] == 0.5
    assert done["candidate"]["measured_on"] == "training cases"  # no split yet (2 patients)
    assert project.active_version() == "v1"
    v1 = project.version("v1")
    assert (v1.parent, v1.cases) == (None, ["img0", "img1"])
    assert v1.metrics["active_before_model_dir"] == str(base_dir)
    assert v1.settings["minutes"] == 1 and v1.hardware["threads"] == 1
    assert (v1.path / "model.pdiparams").read_text() == "good"
    kinds = [e["type"] for e in seen]
    phase, prog = "phase", "progress"
    assert kinds == [phase, phase, prog, prog, prog, phase, phase, phase, "done"]
    assert [e["name"] for e in seen if e["type"] == "phase"] == [
        "loading",
        "training",
        "evaluating",
        "publishing",
        "ranking",
    ]
    run = RunFolder.find(project.store, done["run_id"])
    assert [e["type"] for e in run.read_events()[0]] == kinds  # what a GUI re-attaching reads
    events = [e["event"] for e in project.journal()]
    assert events[-4:] == ["retrain_start", "publish", "activate", "retrain_done"]
    assert not (project.folder / "retrain.lock").exists()


def test_worse_candidate_stays_a_candidate(tmp_path):
    project = _finished_project(tmp_path)
    retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        trainer=fake_trainer("good"),
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    done = retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        trainer=fake_trainer("worse"),
        evaluator=fake_evaluator({"good": 0.7, "worse": 0.69, "base": 0.5}),
    )
    assert (done["version"], done["activated"]) == ("v2", False)
    assert project.active_version() == "v1"
    v2 = project.version("v2")
    assert (v2.parent, v2.active, v2.activated) == ("v1", False, False)
    assert v2.metrics["candidate"]["dice@1"] == 0.69
    assert v2.metrics["active_before"]["dice@1"] == 0.7
    assert v2.metrics["active_before_version"] == "v1"
    project.activate("v2")  # the user may still choose it
    assert project.active_version() == "v2"


def test_a_version_activated_during_the_run_is_not_overridden(tmp_path):
    project = _finished_project(tmp_path)
    retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        trainer=fake_trainer("good"),
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    project.activate(None)
    measured = fake_evaluator({"better": 0.8, "base": 0.5})

    def evaluator(model_dir, cases, values, **kw):
        out = measured(model_dir, cases, values, **kw)
        if "better" not in str(model_dir) and project.active_version() is None:
            project.activate("v1")  # another instance rolls forward while this one measures
        return out

    done = retrain_blocking(
        project.folder, minutes=1, threads=1, trainer=fake_trainer("better"), evaluator=evaluator
    )
    assert project.active_version() == "v1"
    assert done["activated"] is False
    assert "changed to v1" in project.version(done["version"]).record["not_activated_because"]


def test_no_finished_case_is_refused_and_one_retrain_at_a_time(tmp_path):
    project = make_project(tmp_path / "p", 1)
    with pytest.raises(RadLabelError, match="no finished cases to train on"):
        retrain_blocking(project.folder, minutes=1, threads=1, trainer=fake_trainer("x"))
    assert not (project.folder / "retrain.lock").exists()
    project.submit("img0", blob_label(), user="ann", time_spent_s=1, clicks=1)
    (project.folder / "retrain.lock").write_text(
        json.dumps({"user": "bob", "host": "elsewhere", "pid": 1, "time": 0})
    )
    with pytest.raises(
        ProjectBusy, match="a training of this project is running \\(started by bob on elsewhere\\)"
    ):
        retrain_blocking(project.folder, minutes=1, threads=1, trainer=fake_trainer("x"))


def test_cancel_during_training_publishes_nothing(tmp_path):
    project = _finished_project(tmp_path)
    calls = []

    def stop_after_two():
        calls.append(1)
        return len(calls) > 2

    done = retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        should_stop=stop_after_two,
        trainer=fake_trainer("x", steps=10),
        evaluator=fake_evaluator({"x": 1.0, "base": 0.0}),
    )
    assert (done["type"], done["steps"]) == ("cancelled", 2)
    assert project.versions() == []
    assert project.active_version() is None
    assert Project.open(project.folder).journal()[-1]["event"] == "retrain_cancelled"


def test_the_evaluation_cap_keeps_evenly_spaced_values_the_same_for_both_models():
    from viewer.project.gating import better, capped

    assert capped(list(range(1, 42)), 5) == [1, 11, 21, 31, 41]
    assert capped([3, 5], 5) == [3, 5]
    assert better(
        {"dice@1": 0.5, "dice@3": 0.6, "dice@5": 0.7},
        {"dice@1": 0.6, "dice@3": 0.6, "dice@5": 0.59},
    )
    assert not better(
        {"dice@1": 0.6, "dice@3": 0.6, "dice@5": 0.6}, {"dice@1": 0.6, "dice@3": 0.6, "dice@5": 0.6}
    )
    assert not better(
        {"dice@1": None, "dice@3": None, "dice@5": None},
        {"dice@1": 0.1, "dice@3": 0.1, "dice@5": 0.1},
    )


def test_replay_cases_come_from_the_replay_folder(tmp_path):
    from project_data import write_image, write_label

    project = _finished_project(tmp_path)
    other = tmp_path / "base_data" / "brain01"
    other.mkdir(parents=True)
    write_image(other / "image.nii.gz")
    write_label(other / "label.nii.gz", blob_label() * 3)  # values outside the label set
    project.update_settings(replay_dir=str(tmp_path / "base_data"))
    trainer = fake_trainer("good")
    done = retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        trainer=trainer,
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    assert trainer.replay == ["brain01"]
    assert project.version(done["version"]).record["replay_cases"] == ["brain01"]


def test_auto_retrain_is_due_after_n_newly_finished_cases(tmp_path):
    project = make_project(tmp_path / "p", 5)
    for i in range(2):
        project.submit(f"img{i}", blob_label(), user="ann", time_spent_s=1, clicks=1)
    assert not project.auto_retrain_due()  # off by default
    project.update_settings(auto_retrain_after=3)
    assert project.finished_since_last_retrain() == ["img0", "img1"]
    assert not project.auto_retrain_due()
    project.submit("img2", blob_label(), user="ann", time_spent_s=1, clicks=1)
    assert project.auto_retrain_due()
    retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        trainer=fake_trainer("good"),
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    assert project.finished_since_last_retrain() == []
    assert not project.auto_retrain_due()
    project.submit("img3", blob_label(), user="ann", time_spent_s=1, clicks=1)
    assert project.finished_since_last_retrain() == ["img3"]


def test_a_ranking_failure_after_publishing_still_finishes_the_retrain(tmp_path, monkeypatch):
    project = _finished_project(tmp_path)

    def broken_refresh(*args, **kwargs):
        raise RuntimeError("the predictor ran out of memory")

    monkeypatch.setattr("viewer.project.uncertainty.refresh", broken_refresh)
    done = retrain_blocking(
        project.folder,
        minutes=1,
        threads=1,
        user="ann",
        trainer=fake_trainer("good"),
        evaluator=fake_evaluator({"good": 0.7, "base": 0.5}),
    )
    assert (done["type"], done["version"], done["activated"]) == ("done", "v1", True)
    events = [e["event"] for e in project.journal()]
    assert events[-4:] == ["retrain_start", "publish", "activate", "retrain_done"]
