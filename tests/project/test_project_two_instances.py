"""Two (or more) instances on one project folder, as real separate processes: concurrent
submits and case additions, a race for a case lock, publishing while another submits. The
project must come out whole: every JSON readable, no update lost, one journal line per event."""

from __future__ import annotations

import json
import multiprocessing as mp

from project_data import make_project, write_image
from project_workers import (
    add_same_image,
    count_in_settings,
    publish_versions,
    race_for_lock,
    submit_cases,
)

from viewer.project import Project

CTX = mp.get_context("spawn")


def _run(targets: list[tuple], timeout: float = 120.0) -> None:
    start = CTX.Event()
    procs = [CTX.Process(target=f, args=(*args, start)) for f, *args in targets]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def _journal_lines(folder) -> list[dict]:
    lines = (folder / "journal.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]  # every line whole JSON


def test_concurrent_submits_and_additions_lose_nothing(tmp_path):
    folder = tmp_path / "p"
    make_project(folder, 6)
    image = write_image(tmp_path / "same.nii.gz")
    _run(
        [
            (submit_cases, str(folder), ["img0", "img2", "img4"], "ann"),
            (submit_cases, str(folder), ["img1", "img3", "img5"], "bob"),
            (add_same_image, str(folder), str(image), 3),
            (add_same_image, str(folder), str(image), 3),
        ]
    )
    project = Project.open(folder)
    cases = {c.case_id: c for c in project.cases()}
    assert sorted(cases) == sorted(
        [f"img{i}" for i in range(6)] + ["same", "same-2", "same-3", "same-4", "same-5", "same-6"]
    )
    for i in range(6):
        c = cases[f"img{i}"]
        assert (c.state, c.clicks, c.time_spent_s) == ("finished", 3, 2.0)
        assert c.editor == ("ann" if i % 2 == 0 else "bob")
    split = project.split()
    assert split["chosen"]
    assert sorted(split["validation"] + split["training"]) == [f"p{i}" for i in range(6)]
    events = [e["event"] for e in _journal_lines(folder)]
    assert events.count("add_case") == 6 + 6
    assert events.count("save_label") == 12
    assert events.count("split_chosen") == 1


def test_only_one_instance_wins_a_case_lock(tmp_path):
    folder = tmp_path / "p"
    make_project(folder, 1)
    results = CTX.Queue()
    users = [f"user{i}" for i in range(4)]
    start = CTX.Event()
    procs = [
        CTX.Process(target=race_for_lock, args=(str(folder), "img0", u, start, results))
        for u in users
    ]
    for p in procs:
        p.start()
    start.set()
    got = dict(results.get(timeout=60) for _ in users)
    for p in procs:
        p.join(60)
    assert sorted(got) == users
    assert sum(got.values()) == 1


def test_publishing_while_another_instance_submits(tmp_path):
    folder = tmp_path / "p"
    make_project(folder, 6)
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text("{}")
    (model / "model.pdiparams").write_bytes(b"\0" * 4096)
    _run(
        [
            (publish_versions, str(folder), str(model), 8),
            (submit_cases, str(folder), [f"img{i}" for i in range(6)], "ann"),
            (count_in_settings, str(folder), 60),
        ]
    )
    project = Project.open(folder)
    # neither side's read-modify-write of project.json lost the other's change
    assert project.active_version() == "v8"
    assert [v.version_id for v in project.versions()] == [f"v{i}" for i in range(1, 9)]
    assert project.settings()["auto_retrain_after"] == 60
    assert project.split()["chosen"]
    assert all(c.state == "finished" for c in project.cases())
