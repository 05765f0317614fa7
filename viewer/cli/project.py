"""`project`: a labelling project folder from the command line (the same functions as the GUI).

  project init DIR [--labels LABELS.json] [--name NAME]
  project add DIR IMAGE [--label LABEL] [--final] [--copy] [--series UID] [--patient ID]
  project status DIR [--json]
  project retrain DIR [--minutes N] [--threads N] [--steps N] [--resume RUN_ID]
  project activate DIR VERSION            (any version: a rollback too; 'base' = shipped model)
  project rank DIR [--threads N]          (how unsure the active model is about each case in
                                           progress: the order of 'Next case')

LABELS.json: {"1": "liver", "2": {"name": "spleen", "color": [r, g, b]}} or a list of
{value, name, color}; ITK-SNAP and Slicer colour tables work too. Without it the project has one
label, 1. Bad input (a label on another grid, values outside the label set, a missing image) is
refused with one line naming the file, and nothing in the project changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from viewer.cli.arg_types import budget_minutes, step_count
from viewer.errors import LoadError, RadLabelError

WORKER = "retrain-worker"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "project",
        help="create, fill, inspect and retrain a labelling project",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="project_action", required=True)
    i = actions.add_parser("init", help="create a project folder")
    i.add_argument("dir")
    i.add_argument("--labels", help="label set: JSON (value -> name/colour) or a colour table")
    i.add_argument("--name", help="project name (default: the folder's name)")

    a = actions.add_parser("add", help="add an image (file or DICOM folder) as a case")
    a.add_argument("dir")
    a.add_argument("image")
    a.add_argument("--label", help="a label file on the image's grid")
    a.add_argument("--final", action="store_true", help="the label is finished (case finished)")
    a.add_argument("--copy", action="store_true", help="copy the image into the project")
    a.add_argument("--series", help="SeriesInstanceUID (a DICOM folder with several series)")
    a.add_argument("--patient", help="patient id (default: DICOM PatientID, else the case id)")

    s = actions.add_parser("status", help="cases, states, versions, the active model")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true", help="print it as JSON")

    r = actions.add_parser("retrain", help="fine-tune the active model on the finished cases")
    r.add_argument("dir")
    r.add_argument(
        "--minutes", type=budget_minutes, default=None, help="training budget (default 10)"
    )
    r.add_argument("--threads", type=int, default=None, help="CPU threads (default 2)")
    r.add_argument(
        "--steps", type=step_count, default=0, help="stop after this many steps (0: budget)"
    )
    r.add_argument("--resume", metavar="RUN_ID", help="resume an interrupted or cancelled run")

    v = actions.add_parser("activate", help="make a version active (or 'base')")
    v.add_argument("dir")
    v.add_argument("version_id", metavar="VERSION")

    k = actions.add_parser("rank", help="measure how unsure the active model is per open case")
    k.add_argument("dir")
    k.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")

    w = actions.add_parser(WORKER, help=argparse.SUPPRESS)
    w.add_argument("dir")
    w.add_argument("run_id")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    action = {
        "init": _init,
        "add": _add,
        "status": _status,
        "retrain": _retrain,
        "activate": _activate,
        "rank": _rank,
        WORKER: _worker,
    }[args.project_action]
    return action(args)


def read_label_set(path: str):
    from viewer.model.segment_io import read_colour_table
    from viewer.project import LabelDef

    if not Path(path).is_file():
        raise LoadError("no such label set file", path)
    return [LabelDef(s.id, s.name, tuple(s.colour)) for s in read_colour_table(path)]


def _init(args) -> int:
    from viewer.model.segments import default_colour
    from viewer.project import LabelDef, Project

    labels = (
        read_label_set(args.labels) if args.labels else [LabelDef(1, "label 1", default_colour(1))]
    )
    folder = Path(args.dir)
    project = Project.create(folder, args.name or folder.absolute().name, labels)
    print(f"created project '{project.name}' in {folder} with {len(labels)} labels")
    return 0


def _add(args) -> int:
    from viewer.project import Project

    project = Project.open(args.dir)
    case = project.add_case(
        args.image,
        args.label,
        final=args.final,
        copy=args.copy,
        series_uid=args.series,
        patient_id=args.patient,
    )
    print(f"added case {case.case_id} ({case.state}, patient {case.patient_id})")
    return 0


def status_dict(project) -> dict:
    cases = project.cases()
    states = {s: sum(c.state == s for c in cases) for s in ("new", "in_progress", "finished")}
    return {
        "name": project.name,
        "folder": str(project.folder.absolute()),
        "labels": [d.to_dict() for d in project.labels],
        "cases": [{**asdict(c), "locked_by": project.lock_holder(c.case_id)} for c in cases],
        "damaged_cases": project.damaged_cases(),
        "states": states,
        "split": project.split(),
        "versions": [
            {
                "version": v.version_id,
                "active": v.active,
                "parent": v.parent,
                "created": v.created,
                "cases": v.cases,
                "metrics": v.metrics,
                "path": str(v.path),
            }
            for v in project.versions()
        ],
        "active_version": project.active_version(),
        "active_model": str(project.active_model_dir().absolute()),
        "retrain_running": _retrain_holder(project),
    }


def _retrain_holder(project) -> str | None:
    """Who runs a retrain now ('user on host'), None when none does."""
    owner = project.store.retrain_lock().owner()
    return owner.describe() if owner is not None else None


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _status(args) -> int:
    from viewer.project import Project

    info = status_dict(Project.open(args.dir))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"project {info['name']} ({info['folder']})")
    print("labels: " + ", ".join(f"{d['value']} {d['name']}" for d in info["labels"]))
    st = info["states"]
    print(
        f"cases: {len(info['cases'])} (new {st['new']}, in progress {st['in_progress']}, "
        f"finished {st['finished']}); validation patients: "
        + (", ".join(info["split"]["validation"]) or "none yet")
    )
    for line in info["damaged_cases"]:
        print(f"  damaged, left out: {line}")
    for c in info["cases"]:
        lock = f"  locked by {c['locked_by']}" if c["locked_by"] else ""
        print(
            f"  {c['case_id']:<24} {c['state']:<12} patient {c['patient_id']:<16} "
            f"dice(original, final) {_fmt(c['dice_original_final'])}{lock}"
        )
    for v in info["versions"]:
        cand = v["metrics"].get("candidate") or {}
        mark = " (active)" if v["active"] else ""
        print(
            f"version {v['version']}{mark}: parent {v['parent'] or 'base'}, "
            f"{len(v['cases'])} cases, dice@1/3/5 {_fmt(cand.get('dice@1'))}/"
            f"{_fmt(cand.get('dice@3'))}/{_fmt(cand.get('dice@5'))}"
        )
    if info["retrain_running"]:
        print(f"retrain running (started by {info['retrain_running']})")
    print(f"active_model: {info['active_model']}")
    return 0


def _activate(args) -> int:
    from viewer.project import Project

    project = Project.open(args.dir)
    project.activate(None if args.version_id == "base" else args.version_id)
    print(f"active model: {project.active_model_dir()}")
    return 0


def _rank(args) -> int:
    from viewer.project import Project
    from viewer.project.uncertainty import cached, refresh

    project = Project.open(args.dir)
    model_dir = project.active_model_dir()
    refresh(project, model_dir, threads=args.threads)
    rows = [
        (cached(project, c.case_id, model_dir), c.case_id)
        for c in project.cases()
        if c.state == "in_progress"
    ]
    for value, cid in sorted(rows, key=lambda r: (-1.0 if r[0] is None else -r[0], r[1])):
        shown = (
            "not measured (no label of the project's set yet)" if value is None else f"{value:.3f}"
        )
        print(f"{cid}: uncertainty {shown}")
    return 0


def _bar(done: float, width: int = 30) -> str:
    n = int(round(max(0.0, min(1.0, done)) * width))
    return "[" + "#" * n + "." * (width - n) + "]"


def progress_line(e: dict, max_steps: int = 0) -> str:
    """One line per training update: bar, step, loss, time."""
    elapsed, budget = e.get("elapsed_s") or 0.0, e.get("budget_s") or 0.0
    step = e.get("step") or 0
    done = step / max_steps if max_steps else (elapsed / budget if budget else 0.0)
    loss = e.get("loss")
    val = e.get("val")
    return (
        f"{_bar(done)} step {step}"
        + (f", loss {loss:.4f}" if isinstance(loss, (int, float)) else "")
        + (f", val {val:.3f}" if isinstance(val, (int, float)) else "")
        + f", {elapsed:.0f} s of {budget:.0f} s"
    )


def metrics_table(done: dict) -> str:
    keys = ("dice@1", "dice@3", "dice@5", "noc@85", "n_targets")
    cand, act = done["candidate"], done["active"]
    active_name = f"active ({done.get('active_version') or 'base'})"
    rows = [f"{'':<16}" + "".join(f"{k:>10}" for k in keys)]
    for name, m in (("candidate", cand), (active_name, act)):
        rows.append(f"{name:<16}" + "".join(f"{_fmt(m.get(k)):>10}" for k in keys))
    rows.append(
        f"measured on the {cand.get('measured_on', 'validation cases')} "
        f"({len(cand.get('cases', []))} cases, {cand.get('clicks')} simulated clicks per target)"
    )
    return "\n".join(rows)


def _retrain(args) -> int:
    from viewer.project import Project
    from viewer.project.retrain import RetrainJob

    project = Project.open(args.dir)
    settings = project.settings()
    minutes = args.minutes if args.minutes is not None else settings["retrain_minutes"]
    threads = args.threads if args.threads is not None else settings["retrain_threads"]
    if not minutes > 0 and not args.steps:  # nothing would be trained, yet a version published
        raise RadLabelError(f"--minutes must be above 0 for a retrain, not {minutes:g}")
    job = RetrainJob.start(
        project.folder, minutes=minutes, threads=threads, max_steps=args.steps, resume=args.resume
    )
    print(f"retrain {job.run_id} started ({minutes:g} min, {threads} threads)", flush=True)
    last: dict | None = None
    cancelling = False
    while last is None:
        try:
            for e in job.poll():
                kind = e.get("type")
                if kind == "progress":
                    print(progress_line(e, args.steps), flush=True)
                elif kind == "phase":
                    print(f"{e['name']}...", flush=True)
                elif kind in ("done", "error", "cancelled"):
                    last = e
            time.sleep(0.2)
        except KeyboardInterrupt:
            if cancelling:
                raise
            cancelling = True
            print("cancelling (the trainer checkpoints first)...", file=sys.stderr, flush=True)
            job.cancel()
    if last["type"] == "error":
        raise RadLabelError(last["message"], project.folder)
    if last["type"] == "cancelled":
        print(
            f"cancelled after {last.get('steps')} steps; resume with: "
            f"project retrain {args.dir} --resume {job.run_id}"
        )
        return 1
    state = "activated" if last["activated"] else "not activated (kept as a candidate)"
    print(f"new version {last['version']}: {state}")
    print(metrics_table(last))
    print(f"active_model: {Project.open(args.dir).active_model_dir()}")
    return 0


def _worker(args) -> int:
    from viewer.project.retrain import run_worker

    return run_worker(args.dir, args.run_id)
