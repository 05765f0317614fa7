"""Training a project's automatic model (issue 15) in the background, as a training run.

The same machinery as the interactive retrain (`viewer.project.retrain`): `start_auto_training`
fixes a run (`runs/<run_id>/run.json` with `"kind": "auto"`: the finished cases, the budget, the
folds) and starts it with `RetrainJob.launch`, which takes the project's training lock (one
training of a project at a time, whichever kind) and starts the worker process; the worker runs
`execute_auto_run`, which reports through the run's events.jsonl:

    {"type": "phase", "name": "planning"}
    {"type": "planned", "stages": [...], "models": N, "labels": {value: name}}
    {"type": "phase", "name": "training", "model": "fold_0/fullres"}      (per fold and stage)
    {"type": "progress", "model", "step" (counted over the run's models, for the curve),
     "stage_step", "loss", "elapsed_s", "budget_s" (the whole run's), "fraction" (0..1 of
     the run), "lr", "val" (mean pseudo-Dice, when measured), "val_per_class" {name: Dice}}
    {"type": "phase", "name": "evaluating", "model": "fold_0"}            (per fold)
    {"type": "phase", "name": "publishing"}
    {"type": "done", "kind": "auto", "version", "activated", "reason", "candidate_dice",
     "active_dice", "cv_dice", "steps", "seconds"} / {"type": "cancelled"} / {"type": "error"}

The model trains in `runs/<run_id>/work/auto/` (checkpoints there): Cancel (the run's cancel
file or SIGTERM) checkpoints and stops, and starting again with `resume=run_id` continues from
the checkpoints with the same settings. A finished run is published as the next
`auto_models/auto-NNN` by `auto_versions.publish_auto_model` (gated activation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from viewer.errors import RadLabelError
from viewer.project.auto_versions import publish_auto_model
from viewer.project.retrain import AUTO_KIND, RetrainJob
from viewer.project.runs import RunFolder, list_runs
from viewer.project.store import default_user
from viewer.project.workspace import Project

MIN_CASES = 2  # cross-validation (and the CLI) needs two finished cases at least
MODEL_FOLDER = "auto"  # inside the run's work folder


def finished_case_ids(project: Project) -> list[str]:
    """The cases the automatic model trains on: every finished case (the cross-validation is
    its validation, as for `train-auto --project`)."""
    return sorted(set(project.training_cases()) | set(project.validation_cases()))


def prepare_auto_run(
    project: Project,
    *,
    minutes: float,
    fold: str = "cv",
    folds: int = 5,
    threads: int = 2,
    max_steps: int = 0,
    seed: int = 0,
    user: str = "",
    options: dict | None = None,
) -> RunFolder:
    """Fix what an automatic training run trains on and how. `options`: {"max_patch": edge}
    (the largest patch edge, as `train-auto --max-patch`) for small machines and tests."""
    cases = finished_case_ids(project)
    if len(cases) < MIN_CASES:
        raise RadLabelError(
            f"the project has {len(cases)} finished case(s): automatic training needs at least "
            f"{MIN_CASES}",
            project.folder,
        )
    if fold not in ("cv", "all") and not str(fold).isdigit():
        raise RadLabelError(f"bad fold '{fold}' (a fold number, 'cv' or 'all')", project.folder)
    if minutes <= 0 and max_steps <= 0:
        raise RadLabelError("give a time budget (minutes > 0)", project.folder)
    settings = {
        "kind": AUTO_KIND,
        "minutes": float(minutes),
        "fold": str(fold),
        "folds": int(folds),
        "threads": int(threads),
        "max_steps": int(max_steps),
        "seed": int(seed),
        "user": user or default_user(),
        "cases": cases,
        "label_values": sorted(project.label_values()),
        "options": dict(options or {}),
    }
    return RunFolder.create(project.store, settings)


def start_auto_training(
    project_folder,
    *,
    minutes: float = 60.0,
    fold: str = "cv",
    folds: int = 5,
    threads: int = 2,
    user: str = "",
    max_steps: int = 0,
    seed: int = 0,
    resume: str | None = None,
    options: dict | None = None,
) -> RetrainJob:
    """Start (or, with `resume=run_id`, resume) the automatic model's training in its own
    process; ProjectBusy when a training of the project (of either kind) runs."""

    def prepare(project: Project) -> RunFolder:
        return prepare_auto_run(
            project,
            minutes=minutes,
            fold=fold,
            folds=folds,
            threads=threads,
            max_steps=max_steps,
            seed=seed,
            user=user,
            options=options,
        )

    return RetrainJob.launch(project_folder, prepare, user=user, resume=resume)


def resumable_auto_run(project: Project) -> RunFolder | None:
    """The newest automatic training run that was cancelled (or whose process died) on the
    cases finished now: starting again continues it. None when there is none."""
    cases = finished_case_ids(project)
    for run in reversed(list_runs(project.store)):
        try:
            s = run.settings()
        except RadLabelError:
            continue
        if s.get("kind") != AUTO_KIND:
            continue
        last = run.last_event()
        kind = last.get("type") if last else None
        if kind in ("cancelled", "error") and s.get("cases") == cases:
            return run
        return None  # only the newest automatic run is offered
    return None


def model_dir(run: RunFolder) -> Path:
    return run.work_dir / MODEL_FOLDER


def _n_models(cases, fold: str, n_folds: int, seed: int, n_stages: int) -> int:
    """How many fold/stage models the run trains (for the progress bar)."""
    from segmentation_core.auto import folds as folds_mod

    if fold != "cv":
        return n_stages
    assignment = folds_mod.assign_folds([c.patient for c in cases], n_folds, seed)
    return folds_mod.n_folds(assignment) * n_stages


class _Progress:
    """Turns `train_auto`'s progress calls into run events: phases per fold and stage, a step
    count over the whole run (the curve's x), the run's fraction done, per-class Dice by name."""

    def __init__(self, emit: Callable[[dict], dict], s: dict, names: dict, cases) -> None:
        self.emit, self.s, self.names, self.cases = emit, s, names, cases
        self.t0 = time.monotonic()
        self.models = 1
        self.index = -1  # of the model being trained
        self.offset = 0  # steps of the models trained before, in this process
        self.last_step = 0
        self.steps = 0
        self.label_values: list[int] = []

    def __call__(self, info: dict) -> None:
        phase = info.get("phase")
        if phase == "planned":
            plan = info["plan"]
            self.label_values = [int(v) for v in plan["label_values"]]
            stages = [st["name"] for st in plan["stages"]]
            s = self.s
            self.models = _n_models(self.cases, s["fold"], s["folds"], s["seed"], len(stages))
            labels = {str(v): self.names.get(v, str(v)) for v in self.label_values}
            self.emit(
                {"type": "planned", "stages": stages, "models": self.models, "labels": labels}
            )
        elif phase == "preparing":
            self.index += 1
            self.offset += self.last_step
            self.last_step = 0
            self.emit({"type": "phase", "name": "training", "model": info.get("model", "")})
        elif phase == "validating":
            self.emit({"type": "phase", "name": "evaluating", "model": info.get("model", "")})
        elif phase == "training":
            self._step(info)

    def _step(self, info: dict) -> None:
        step = int(info.get("step", 0))
        self.last_step = step
        self.steps += 1
        budget_s = 60.0 * float(self.s["minutes"])
        stage = 0.0
        if info.get("budget_s"):
            stage = float(info.get("elapsed_s") or 0.0) / float(info["budget_s"])
        if self.s["max_steps"]:
            stage = max(stage, step / self.s["max_steps"])
        fraction = (max(self.index, 0) + min(stage, 1.0)) / max(self.models, 1)
        val = info.get("val")
        per_class = None
        mean = None
        if val:
            per_class = {}
            for c, d in sorted(val.items()):
                c = int(c)
                value = self.label_values[c - 1] if 0 < c <= len(self.label_values) else c
                per_class[self.names.get(value, str(value))] = float(d)
            mean = sum(per_class.values()) / len(per_class)
        self.emit(
            {
                "type": "progress",
                "model": info.get("model", ""),
                "step": self.offset + step,
                "stage_step": step,
                "loss": info.get("loss"),
                "elapsed_s": time.monotonic() - self.t0,
                "budget_s": budget_s,
                "fraction": min(fraction, 1.0),
                "lr": info.get("lr"),
                "val": mean,
                "val_per_class": per_class,
            }
        )


def execute_auto_run(
    project: Project,
    run: RunFolder,
    *,
    progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Plan, train every fold and stage, validate, publish; every event goes to the run's
    events.jsonl (and `progress`). Returns the last event. The caller holds the lock."""
    from segmentation_core.auto.plan import Budget
    from segmentation_core.auto.train import AutoTrainConfig, train_auto
    from segmentation_core.checkpoint_io import CheckpointError
    from viewer.io.auto_cases import cases_from_project

    s = run.settings()
    user = s.get("user", "")

    def emit(event: dict) -> dict:
        event = run.emit(event)
        if progress is not None:
            progress(event)
        return event

    def stop() -> bool:
        return run.cancel_requested() or (should_stop is not None and bool(should_stop()))

    with project.store.locked(user):
        project.store.append_journal(
            "auto_train_start", user, run=run.run_id, cases=s["cases"], fold=s["fold"]
        )
    emit({"type": "phase", "name": "planning"})
    cases, names = cases_from_project(project, s["cases"])
    max_patch = int(s.get("options", {}).get("max_patch", 0) or 0)
    budget = Budget.cpu(**({"max_patch_voxels": max_patch**3} if max_patch else {}))
    out = model_dir(run)
    config = AutoTrainConfig(
        minutes=s["minutes"],
        fold=s["fold"],
        n_folds=s["folds"],
        threads=s["threads"],
        seed=s["seed"],
        max_steps=s["max_steps"],
        label_values=s.get("label_values") or None,
        label_names=names,
        budget=budget,
        version=run.run_id,
    )
    reporter = _Progress(emit, s, names, cases)
    start = time.monotonic()
    try:
        card = train_auto(cases, out, config, progress=reporter, should_stop=stop)
    except CheckpointError as e:  # one line naming the file
        raise RadLabelError(e.reason, e.path or None) from None
    except ValueError as e:
        raise RadLabelError(str(e), out) from None
    if card["training"]["cancelled"]:
        with project.store.locked(user):
            project.store.append_journal(
                "auto_train_cancelled", user, run=run.run_id, steps=reporter.steps
            )
        return emit({"type": "cancelled", "steps": reporter.steps})
    if not card["inference_folds"]:
        raise RadLabelError("the training finished no model", out)
    emit({"type": "phase", "name": "publishing"})
    gate = publish_auto_model(project, out, user=user)
    done = {
        "type": "done",
        "kind": AUTO_KIND,
        "version": gate["version"],
        "activated": bool(gate["activated"]),
        "reason": gate["reason"],
        "candidate_dice": gate["candidate"],
        "active_dice": gate["active"],
        "active_version": gate["active_before"],
        "cv_dice": card["cv"].get("dice"),
        "inference_folds": card["inference_folds"],
        "steps": reporter.steps,
        "seconds": round(time.monotonic() - start, 1),
    }
    with project.store.locked(user):
        project.store.append_journal(
            "auto_train_done", user, run=run.run_id, version=gate["version"]
        )
    return emit(done)
