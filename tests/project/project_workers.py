"""Functions the two-instance tests run in separate (spawned) processes."""

from __future__ import annotations

import time
from pathlib import Path

from project_data import blob_label

from viewer.project import Project


def submit_cases(folder: str, case_ids: list[str], user: str, start) -> None:
    start.wait()
    project = Project.open(folder)
    for cid in case_ids:
        project.save_label(cid, "draft", blob_label(), user=user)
        project.submit(cid, blob_label(shift=1), user=user, time_spent_s=2.0, clicks=3)


def add_same_image(folder: str, image: str, n: int, start) -> None:
    start.wait()
    project = Project.open(folder)
    for _ in range(n):
        project.add_case(image)


def race_for_lock(folder: str, case_id: str, user: str, start, results) -> None:
    project = Project.open(folder)
    start.wait()
    results.put((user, project.acquire_lock(case_id, user)))
    time.sleep(0.5)  # hold it while the others look


def publish_versions(folder: str, model_dir: str, n: int, start) -> None:
    start.wait()
    project = Project.open(folder)
    parent = project.active_version()
    for _ in range(n):
        parent = project.publish_version(Path(model_dir), {"parent": parent}, activate=True)


def count_in_settings(folder: str, n: int, start) -> None:
    start.wait()
    project = Project.open(folder)
    for i in range(1, n + 1):
        project.update_settings(auto_retrain_after=i)
