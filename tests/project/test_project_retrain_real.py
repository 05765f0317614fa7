"""The real retrain, tiny: a worker process fine-tunes the shipped model for a few steps on
generated cases (segmentation_core.training.finetune), measures it beside the active model and
publishes it; cancel and resume; a retrain while another instance submits."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import time

import numpy as np
import pytest
from project_data import make_trainable_project, sphere_label
from project_workers import submit_cases

pytest.importorskip("paddle")
pytestmark = pytest.mark.slow

from viewer.project import Project, ProjectBusy  # noqa: E402
from viewer.project.retrain import RetrainJob  # noqa: E402

TINY = {"patch": 16, "batch": 1, "max_sim_rounds": 0, "prefetch": False}


def _collect(job: RetrainJob, until, timeout_s: float = 240.0) -> list[dict]:
    events: list[dict] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        events += job.poll()
        if until(events):
            return events
        time.sleep(0.1)
    raise AssertionError(f"no end in {timeout_s} s: {events}")


def _ended(events):
    return any(e["type"] in ("done", "error", "cancelled") for e in events)


def test_retrain_job_trains_measures_and_publishes_a_usable_version(tmp_path):
    project = make_trainable_project(tmp_path / "p", 2)
    job = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=10, options=TINY)
    with pytest.raises(ProjectBusy, match="a training of this project is running"):
        RetrainJob.start(project.folder, minutes=5, threads=1)
    from viewer.cli.project import status_dict
    from viewer.project.store import default_user

    running = status_dict(Project.open(project.folder))["retrain_running"]
    assert running == f"{default_user()} on {socket.gethostname()}"
    events = _collect(job, _ended)
    last = events[-1]
    assert last["type"] == "done", events
    assert [e["name"] for e in events if e["type"] == "phase"] == [
        "loading",
        "training",
        "evaluating",
        "publishing",
        "ranking",
    ]
    # the trainer reports every 10 steps
    assert [e["step"] for e in events if e["type"] == "progress"] == [10]
    assert last["version"] == "v1"
    cand, act = last["candidate"], last["active"]
    assert cand["n_targets"] == act["n_targets"] == 4  # 2 balls x 2 cases, both models
    assert cand["measured_on"] == "training cases"
    mean = lambda m: (m["dice@1"] + m["dice@3"] + m["dice@5"]) / 3  # noqa: E731
    assert last["activated"] == (mean(cand) > mean(act))
    assert job.wait(30) and not job.running()
    assert not (project.folder / "retrain.lock").exists()
    v1 = project.version("v1")
    assert v1.record["train_steps"] == 10 and v1.cases == ["case0", "case1"]

    from segmentation_core import open_session

    session = open_session("paddle", model_dir=v1.path, in_process=True, threads=1)
    try:
        lab = sphere_label()
        session.set_image((60.0 * lab).astype(np.float32), (1.5, 1.0, 1.0))
        pred = session.add_click((12, 11, 11), positive=True)
        assert pred.mask.any()
    finally:
        session.close()


def test_cancel_then_resume_continues_from_the_checkpoint(tmp_path):
    project = make_trainable_project(tmp_path / "p", 1)
    job = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=30, options=TINY)
    _collect(job, lambda ev: any(e["type"] == "progress" for e in ev))
    job.cancel()
    events = _collect(job, _ended)
    assert events[-1]["type"] == "cancelled", events
    stopped_at = events[-1]["steps"]
    assert 10 <= stopped_at < 20
    assert job.wait(30)
    assert project.versions() == []
    assert not (project.folder / "retrain.lock").exists()
    assert project.journal()[-1]["event"] == "retrain_cancelled"

    resumed = RetrainJob.start(project.folder, resume=job.run_id)
    assert resumed.run_id == job.run_id
    events = _collect(resumed, _ended)
    assert events[-1]["type"] == "done", events
    steps = [e["step"] for e in events if e["type"] == "progress"]
    assert steps == [20, 30]
    assert events[-1]["steps"] == 30
    # the history carried over from the checkpoint: no step trained twice
    assert [h[0] for h in project.version("v1").record["history"]] == [10, 20, 30]
    run = json.loads((project.folder / "runs" / job.run_id / "run.json").read_text())
    assert project.version("v1").record["run_id"] == run["run_id"]


def test_a_retrain_while_another_instance_submits(tmp_path):
    project = make_trainable_project(tmp_path / "p", 2)
    from project_data import write_image

    for i in range(3):
        project.add_case(write_image(tmp_path / f"extra{i}.nii.gz", seed=i), patient_id=f"q{i}")
    job = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=10, options=TINY)
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    other = ctx.Process(
        target=submit_cases,
        args=(str(project.folder), ["extra0", "extra1", "extra2"], "bob", start),
    )
    other.start()
    start.set()
    events = _collect(job, _ended)
    other.join(120)
    assert other.exitcode == 0
    assert events[-1]["type"] == "done", events
    project = Project.open(project.folder)
    assert project.version("v1").cases == ["case0", "case1"]  # fixed when the run started
    states = {c.case_id: c.state for c in project.cases()}
    assert states == {c: "finished" for c in ("case0", "case1", "extra0", "extra1", "extra2")}
    assert project.split()["chosen"]  # 5 finished patients
    lines = (project.folder / "journal.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert sum(e["event"] == "save_label" for e in entries) == 6
    assert sum(e["event"] == "retrain_done" for e in entries) == 1


def test_a_killed_worker_is_reported_and_its_lock_does_not_block_the_next_retrain(tmp_path):
    project = make_trainable_project(tmp_path / "p", 1)
    job = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=10, options=TINY)
    _collect(job, lambda ev: any(e["type"] == "phase" for e in ev))
    # a crash, a power cut: no last word from the worker
    os.kill(job.run.worker()["pid"], signal.SIGKILL)
    events = _collect(job, _ended)
    assert events[-1]["type"] == "error"
    assert events[-1]["message"].startswith("the retrain process ended unexpectedly (exit code -9)")
    again = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=10, options=TINY)
    assert _collect(again, _ended)[-1]["type"] == "done"


def test_sigterm_to_the_worker_cancels_like_the_cancel_file(tmp_path):
    project = make_trainable_project(tmp_path / "p", 1)
    job = RetrainJob.start(project.folder, minutes=5, threads=1, max_steps=30, options=TINY)
    _collect(job, lambda ev: any(e["type"] == "progress" for e in ev))
    os.kill(job.run.worker()["pid"], signal.SIGTERM)  # e.g. the machine shutting down
    events = _collect(job, _ended)
    assert events[-1]["type"] == "cancelled", events
    assert 10 <= events[-1]["steps"] < 30
    assert job.wait(30)
    assert not (project.folder / "retrain.lock").exists()
