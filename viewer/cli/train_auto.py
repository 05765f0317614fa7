"""`train-auto`: train the automatic segmentation model (issue 15) and write its model folder.

    python main.py train-auto (--project DIR | --dataset NNUNET_RAW_DATASET_DIR | --data CASES...)
        [--fold K|all] [--folds 5] [--minutes N] [--out DIR] [--threads N] [--labels 1,2,...]
        [--synth-labelmaps MAPS... [--synth-share F] [--synth-subjects 1-15]]

--synth-labelmaps draws a share of the training patches (all of them without a case source)
from images generated afresh from the label maps (SynthSeg-style): only --labels values (by
default every value the maps keep) are learnt, the others become background.

Without --fold every cross-validation fold is trained (folds per patient) and inference
ensembles them; `--fold all` trains one model on every case. Running the same command on the
same --out folder resumes an interrupted run from its checkpoints. The plan is printed and
written to OUT/plan.json, the model card to OUT/auto_model.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from viewer.cli.arg_types import budget_minutes, seed, step_count
from viewer.cli.train_synth import add_synth_arguments, load_synth_spec
from viewer.errors import RadLabelError


def add_parser(sub) -> None:
    p = sub.add_parser("train-auto", help="train the automatic segmentation model")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--project", help="a project folder (its finished training cases)")
    src.add_argument("--dataset", help="an nnU-Net raw dataset folder (export --format nnunet)")
    src.add_argument(
        "--data", nargs="+", help="case folders (image.* + label.*), or folders of them"
    )
    p.add_argument("--out", help="model folder (default for --project: a new project version)")
    p.add_argument(
        "--fold",
        default="cv",
        help="K: train fold K only; all: one model on every "
        "case; default: every cross-validation fold",
    )
    p.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    p.add_argument("--minutes", type=budget_minutes, default=60.0, help="time budget (default 60)")
    p.add_argument(
        "--steps", type=step_count, default=0, help="steps per fold and stage (0: budget)"
    )
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--labels", default="", help="label values to learn (default: all present)")
    p.add_argument("--max-patch", type=int, default=0, help="largest patch edge (default: plan)")
    p.add_argument(
        "--base-width",
        type=int,
        default=0,
        metavar="N",
        help="channels of the network's first level, doubling per level (default: plan; 16 on "
        "a CPU, 32 with --gpu)",
    )
    p.add_argument("--gpu", action="store_true", help="plan for a GPU (bigger patches, wider net)")
    p.add_argument(
        "--spacing", type=float, default=None, metavar="MM", help="target spacing (default: plan)"
    )
    p.add_argument(
        "--foreground",
        type=float,
        default=None,
        metavar="F",
        help="share of patches centred on a labelled voxel (default 1/3, nnU-Net's)",
    )
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default 3e-3)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument(
        "--engine",
        choices=("static", "eager"),
        default="static",
        help="training step: the oneDNN static graph (default) or eager Paddle",
    )
    p.add_argument(
        "--no-prefetch",
        action="store_true",
        help="draw patches between steps in this process (default: a worker process draws "
        "them while the network steps; in-process, a resumed run repeats the patches exactly)",
    )
    add_synth_arguments(p)
    p.add_argument(
        "--synth-subjects",
        default="",
        metavar="A-B",
        help="use only these label maps, by position among those found (e.g. 1-15 or 1,3,5-7)",
    )
    p.set_defaults(func=run)


def parse_subjects(text: str, n: int) -> list[int]:
    """0-based indices of the 1-based positions in `text` ("1-15", "1,3,5-7") among `n`."""
    picked: set[int] = set()
    try:
        for part in (t.strip() for t in text.split(",")):
            a, _, b = part.partition("-")
            lo, hi = int(a), int(b or a)
            if not 1 <= lo <= hi <= n:
                raise ValueError
            picked.update(range(lo - 1, hi))
    except ValueError:
        raise RadLabelError(
            f"bad --synth-subjects '{text}' (positions 1..{n} among the label maps, e.g. 1-{n})"
        ) from None
    return sorted(picked)


def load_synth(args):
    """The SynthSpec of --synth-labelmaps (restricted to --synth-subjects), or None."""
    if not args.synth_labelmaps:
        return None
    from viewer.io.label_map_files import find_label_maps

    paths = find_label_maps(args.synth_labelmaps)
    if args.synth_subjects:
        paths = [paths[i] for i in parse_subjects(args.synth_subjects, len(paths))]
    share = args.synth_share if (args.data or args.dataset or args.project) else 1.0  # all
    return load_synth_spec(
        [str(p) for p in paths],
        share,
        contrast=args.synth_contrast,
        uses=args.synth_uses,
        stripped=args.synth_stripped,
    )


def parse_values(text: str) -> list[int] | None:
    if not text:
        return None
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise RadLabelError(f"bad --labels value '{text}' (expected e.g. 1,2,5)") from None
    if not values or min(values) <= 0:
        raise RadLabelError(f"bad --labels value '{text}' (label values are positive)")
    return values


def load_cases(args, project=None) -> tuple[list, dict[int, str]]:
    from viewer.io import auto_cases as auto_data

    if args.dataset:
        return auto_data.cases_from_nnunet(args.dataset)
    if args.data:
        return auto_data.cases_from_folders(args.data)
    return auto_data.cases_from_project(project)


def run(args: argparse.Namespace) -> int:
    from segmentation_core.checkpoint_io import CheckpointError

    try:
        return _run(args)
    except CheckpointError as e:  # one line naming the file (never a traceback)
        raise RadLabelError(e.reason, e.path or None) from None
    except ValueError as e:
        raise RadLabelError(str(e)) from None


def _run(args: argparse.Namespace) -> int:
    if args.base_width and not 4 <= args.base_width <= 64:  # before any data is read
        raise RadLabelError(f"--base-width must be between 4 and 64, not {args.base_width}")
    if not args.project:
        return _train(args, None)
    from viewer.project import Project
    from viewer.project.retrain import training_lock

    if args.out:
        raise RadLabelError("--out is chosen by the project (auto_models/<version>)")
    project = Project.open(args.project)
    with training_lock(project):  # one training of a project at a time, the GUI's included
        return _train(args, project)


def _train(args: argparse.Namespace, project) -> int:
    from segmentation_core.auto.plan import Budget, describe
    from segmentation_core.auto.train import AutoTrainConfig, train_auto
    from viewer.cli.auto_progress import progress_printer

    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise RadLabelError(f"bad --lr {args.lr} (a positive learning rate)")
    if project is not None:
        from viewer.project.auto_versions import work_dir

        args.out = str(work_dir(project))
    elif not args.out:
        raise RadLabelError("give --out DIR, the model folder to write")
    if args.fold not in ("cv", "all") and not args.fold.isdigit():
        raise RadLabelError(f"bad --fold '{args.fold}' (a fold number or 'all')")
    values = parse_values(args.labels)
    has_cases = bool(args.project or args.dataset or args.data)
    if not has_cases and not args.synth_labelmaps:
        raise RadLabelError("give --project, --dataset, --data or --synth-labelmaps")
    synth = load_synth(args)
    cases, names = load_cases(args, project) if has_cases else ([], {})
    if synth is not None and not names:  # generated only: the maps' own names, if kept beside
        from viewer.io.label_map_files import label_names_beside

        names = label_names_beside(args.synth_labelmaps)
    if project is not None and values is None:
        values = sorted(project.label_values()) or None
    if project is not None:
        from viewer.project.auto_versions import prepare_work_dir

        key = {
            "cases": sorted(c.name for c in cases),
            "folds": args.folds,
            "fold": args.fold,
            "seed": args.seed,
            "labels": values,
        }
        note = prepare_work_dir(project, key)
        if note:
            print(f"note: {note}", flush=True)
    print(f"{len(cases)} cases: {', '.join(c.name for c in cases)}", flush=True)
    if synth is not None:
        print(
            f"generated images from {len(synth.maps)} label maps "
            f"({', '.join(m.name for m in synth.maps)}), {synth.share:.0%} of the patches",
            flush=True,
        )
    kw = {"max_patch_voxels": args.max_patch**3} if args.max_patch else {}
    if args.base_width:
        kw["base_width"] = args.base_width
    budget = Budget.gpu(**kw) if args.gpu else Budget.cpu(**kw)
    config = AutoTrainConfig(
        minutes=args.minutes,
        fold=args.fold,
        n_folds=args.folds,
        threads=args.threads,
        seed=args.seed,
        max_steps=args.steps,
        label_values=values,
        label_names=names,
        budget=budget,
        version=Path(args.out).name,
        spacing_mm=args.spacing,
        foreground=args.foreground,
        prefetch=not args.no_prefetch,
        engine=args.engine,
        **({"lr": args.lr} if args.lr is not None else {}),
    )
    printer = None

    def progress(info: dict) -> None:
        nonlocal printer
        if info.get("phase") == "planned":
            plan = info["plan"]
            print(describe(plan), flush=True)
            print(f"plan written to {Path(args.out) / 'plan.json'}", flush=True)
            printer = progress_printer(plan["label_values"])
        elif printer is not None:
            printer(info)

    start = time.monotonic()
    card = train_auto(
        cases,
        Path(args.out),
        config,
        progress=progress,
        synth=synth,
        synth_share=synth.share if synth is not None else 1.0,
    )
    model = str(args.out)
    gate = None
    if project is not None and card["inference_folds"] and not card["training"]["cancelled"]:
        from viewer.project.auto_versions import auto_models_dir, publish_auto_model

        gate = publish_auto_model(project, Path(args.out))
        model = str(auto_models_dir(project) / gate["version"])
    print(
        json.dumps(
            {
                "model": model,
                "gate": gate,
                "inference_folds": card["inference_folds"],
                "cv_mean_dice": card["cv"].get("mean_dice"),
                "cv_dice": card["cv"].get("dice"),
                "largest_component": card["postprocessing"]["largest_component"],
                "seconds": round(time.monotonic() - start),
            }
        ),
        flush=True,
    )
    return 0
