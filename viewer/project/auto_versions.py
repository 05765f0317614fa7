"""A project's automatic segmentation models (issue 15): `auto_models/<version>/`, gating and
activation.

`train-auto --project` trains in `auto_models/.training/` (running it again with the same cases,
folds, seed and labels resumes there; an interrupted run on anything else is discarded, since
its folds and plan no longer apply), then
`publish_auto_model` moves the finished folder to the next version (`auto-001`, ...) and
activates it only if its cross-validated mean Dice is at least the active automatic model's
(the same rule as the interactive model's gate). A model trained with `--fold all` has no
cross-validation, so it becomes active only when no automatic model is active. The decision and
both scores are kept in the version's `gate.json` and in the journal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from viewer.errors import RadLabelError
from viewer.project.store import write_json

AUTO_DIR = "auto_models"
WORK = ".training"
RUN_KEY = "run_key.json"  # what a run in WORK trains on: a rerun resumes only the same run
CARD = "auto_model.json"
_VERSION = re.compile(r"^auto-(\d{3,})$")


def auto_models_dir(project) -> Path:
    return Path(project.folder) / AUTO_DIR


def work_dir(project) -> Path:
    """Where `train-auto --project` trains (and resumes)."""
    return auto_models_dir(project) / WORK


def prepare_work_dir(project, key: dict) -> str:
    """Make `work_dir` ready for a run described by `key` (cases, folds, seed, labels): an
    interrupted run with the same key is kept to resume; any other is removed, because its
    plan and fold assignment belong to other data. Returns a note when one was removed."""
    folder = work_dir(project)
    note = ""
    if folder.exists():
        try:
            old = json.loads((folder / RUN_KEY).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            old = None
        if old == key:
            return ""
        shutil.rmtree(folder)
        note = "an interrupted automatic training on other cases or settings was discarded"
    folder.mkdir(parents=True)
    write_json(folder / RUN_KEY, key)
    return note


def auto_versions(project) -> list[str]:
    d = auto_models_dir(project)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in d.iterdir() if (m := _VERSION.match(p.name))]
    return [name for _, name in sorted(found)]


def _cv_of(model_dir: Path | None) -> float | None:
    if model_dir is None or not (model_dir / CARD).is_file():
        return None
    try:
        card = json.loads((model_dir / CARD).read_text(encoding="utf-8"))
        value = card.get("cv", {}).get("mean_dice")
        return None if value is None else float(value)
    except (ValueError, OSError, AttributeError, TypeError, RecursionError):
        return None


def gate(candidate: float | None, active: float | None, has_active: bool) -> tuple[bool, str]:
    """(activate?, why) for a candidate's and the active model's cross-validated mean Dice."""
    if not has_active:
        return True, "no automatic model was active"
    if candidate is None:
        return False, "the new model has no cross-validation Dice (trained with --fold all)"
    if active is None:
        return True, "the active model has no cross-validation Dice"
    if candidate >= active:
        return True, f"cross-validated Dice {candidate:.4f} >= active {active:.4f}"
    return False, f"cross-validated Dice {candidate:.4f} < active {active:.4f}"


def publish_auto_model(project, source: Path, user: str = "") -> dict:
    """Move the trained folder `source` to the next version and activate it if it passes the
    gate; returns {"version", "activated", "reason", "candidate", "active", "active_before"}."""
    source = Path(source)
    if not (source / CARD).is_file():
        raise RadLabelError("no trained automatic model there", source)
    with project.store.locked(user):
        data = project._data()
        before = data.get("active_auto_version")
        active_dir = project.active_auto_model_dir()
        candidate, active = _cv_of(source), _cv_of(active_dir)
        activate, reason = gate(candidate, active, active_dir is not None)
        existing = auto_versions(project)
        number = int(_VERSION.match(existing[-1]).group(1)) + 1 if existing else 1  # type: ignore[union-attr]
        version = f"auto-{number:03d}"
        target = auto_models_dir(project) / version
        record = {
            "version": version,
            "activated": activate,
            "reason": reason,
            "candidate": candidate,
            "active": active,
            "active_before": before,
        }
        card = json.loads((source / CARD).read_text(encoding="utf-8"))
        card["version"] = version
        write_json(source / CARD, card)
        write_json(source / "gate.json", record)
        target.parent.mkdir(exist_ok=True)  # a GUI run trains under runs/, not in here
        os.replace(source, target)  # same file system (the project's folder): atomic
        project.store.append_journal("publish_auto", user, **record)
        if activate:  # the pointer moves last: a crash before leaves the old one active
            data["active_auto_version"] = version
            write_json(project.store.project_file, data)
            project.store.append_journal("activate_auto", user, version=version, before=before)
    return record
