"""How unsure the active model is about each unfinished case: the order of *Next case* once no
new case is left.

An in-progress case has a working label (`draft`, else `original`). For each of the project's
structures in it, the active model gets one simulated first click (the EVALUATION.md protocol);
the case's uncertainty is 1 - the mean one-click Dice against the working label. A case whose
structures the model cannot find from one click is where the user's corrections teach it most,
and where its help is weakest. Measuring runs the network, so it is done off the UI: by the
retrain worker for the model it leaves active, or by `project rank`; the results are cached in
`cases/<id>/uncertainty.json`, keyed by the model folder and the working label's size and mtime
so that a new model or an edited label is measured again. *Next case* reads only the cache.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from viewer.errors import RadLabelError
from viewer.io.training_cases import load_training_case
from viewer.project.records import CaseRecord
from viewer.project.store import read_json, write_json
from viewer.project.workspace import Project

log = logging.getLogger(__name__)

CACHE_FILE = "uncertainty.json"
MAX_TARGETS_PER_CASE = 6  # one click each: a case costs seconds, not minutes, on a 2-core CPU
WORKING_TAGS = ("draft", "original")


def working_label(project: Project, case_id: str) -> Path | None:
    """The label the user is working on: the draft, else the accepted first AI result."""
    for tag in WORKING_TAGS:
        path = project.label_path(case_id, tag)
        if path is not None and path.is_file():
            return path
    return None


def _key(model_dir: Path, label: Path) -> dict:
    st = os.stat(label)
    return {
        "model": str(Path(model_dir).resolve()),
        "label": label.name,
        "label_size": st.st_size,
        "label_mtime_ns": st.st_mtime_ns,
    }


def cached(project: Project, case_id: str, model_dir: Path) -> float | None:
    """The cached uncertainty of a case for this model and its current working label."""
    label = working_label(project, case_id)
    path = project.store.case_dir(case_id) / CACHE_FILE
    if label is None or not path.is_file():
        return None
    try:
        data = read_json(path, "uncertainty cache")
    except RadLabelError:
        return None
    if data.get("key") != _key(model_dir, label):
        return None
    value = data.get("uncertainty")
    return float(value) if isinstance(value, (int, float)) else None


def measure_case(
    project: Project, case_id: str, model_dir: Path, *, threads: int = 2, session=None
) -> float | None:
    """1 - mean one-click Dice of the model against the case's working label (None: nothing of
    the project's label set is labelled yet). Writes the cache."""
    from segmentation_core import open_session
    from segmentation_core.evaluation.harness import evaluate_case
    from viewer.project.gating import capped

    label = working_label(project, case_id)
    if label is None:
        return None
    case = load_training_case(
        case_id, project.image_path(case_id), label, series_uid=project.image_series_uid(case_id)
    )
    values = capped(
        sorted(set(np.unique(case.label).tolist()) & set(project.label_values())),
        MAX_TARGETS_PER_CASE,
    )
    if not values:
        return None
    own = session is None
    if own:
        session = open_session("paddle", model_dir=model_dir, in_process=True, threads=threads)
    try:
        res = evaluate_case(session, case.image, case.label, case.spacing_zyx, values, n_clicks=1)
    finally:
        if own:
            session.close()
    if not res.targets:
        return None
    value = round(1.0 - float(np.mean([t.dice_at(1) for t in res.targets])), 4)
    write_json(
        project.store.case_dir(case_id) / CACHE_FILE,
        {"key": _key(model_dir, label), "uncertainty": value, "targets": len(res.targets)},
    )
    return value


def refresh(
    project: Project,
    model_dir: Path | None = None,
    *,
    threads: int = 2,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, float | None]:
    """Measure every in-progress case not cached for `model_dir` (default: the active model)."""
    from segmentation_core import open_session

    model_dir = Path(model_dir or project.active_model_dir())
    todo = [
        c.case_id
        for c in project.cases()
        if c.state == "in_progress" and cached(project, c.case_id, model_dir) is None
    ]
    out: dict[str, float | None] = {}
    if not todo:
        return out
    session = open_session("paddle", model_dir=model_dir, in_process=True, threads=threads)
    try:
        for cid in todo:
            if should_stop is not None and should_stop():
                break
            try:
                out[cid] = measure_case(project, cid, model_dir, session=session)
            except RadLabelError as e:  # one unreadable case does not stop the others
                log.warning("uncertainty of case %s not measured: %s", cid, e.message)
                out[cid] = None
    finally:
        session.close()
    return out


def from_cache(project: Project, model_dir: Path | None = None) -> Callable[[CaseRecord], float]:
    """For `Project.next_case`: a case's cached uncertainty; -1 when not measured (measured
    cases come first)."""
    model_dir = Path(model_dir or project.active_model_dir())

    def score(case: CaseRecord) -> float:
        value = cached(project, case.case_id, model_dir)
        return -1.0 if value is None else value

    return score
