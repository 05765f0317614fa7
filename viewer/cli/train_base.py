"""`train-base`: train the base interactive model from image + label folders and export it.

Case folders are found and loaded by `viewer.io.training_cases` (every format the viewer
reads); the training itself is `segmentation_core.training` (numpy + Paddle).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from viewer.cli.arg_types import budget_minutes, seed, step_count
from viewer.cli.train_synth import SYNTH_EXCLUDE_KEY, add_synth_arguments, load_synth_spec
from viewer.errors import RadLabelError


def add_parser(sub) -> None:
    p = sub.add_parser("train-base", help="train the base interactive model and export it")
    p.add_argument(
        "--data",
        nargs="+",
        default=[],
        help="case folders, or folders of them (may be left out with --synth-labelmaps)",
    )
    p.add_argument("--val", nargs="*", default=[], help="validation case folders (not trained on)")
    p.add_argument("--out", required=True, help="work folder: checkpoints, log, exported model")
    p.add_argument("--minutes", type=budget_minutes, default=60.0, help="time budget (default 60)")
    p.add_argument(
        "--steps", type=step_count, default=0, help="stop after this many steps (0: budget)"
    )
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--patch", type=int, default=48, help="training patch edge in voxels")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for Paddle")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="CASE:V1,V2",
        help="label values of a case kept out of training (e.g. mr_brain_freesurfer:17,53)",
    )
    p.add_argument("--export", default=None, help="model folder to publish (default OUT/model)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    p.add_argument(
        "--init-from",
        default="",
        metavar="CHECKPOINT",
        help="start from another run's checkpoint.safetensors (or its --out folder, or an "
        "exported model folder such as resources/models/base) for fine-tuning; new input "
        "channels start at zero so the starting network computes what the old one did. "
        "Pickle checkpoints (.pdparams) are refused: they can run code",
    )
    p.add_argument(
        "--image-dropout",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of patches shown without the image channel, so that the network learns "
        "to follow the affinity channels (default 0)",
    )
    p.add_argument(
        "--max-sim-rounds",
        type=int,
        default=3,
        metavar="N",
        help="most simulated correction rounds before a training step (default 3); each round "
        "is one more forward pass, and inference runs many more clicks than training shows",
    )
    add_synth_arguments(p)
    p.set_defaults(func=run)


def _parse_excludes(items: list[str]) -> dict[str, tuple[int, ...]]:
    out = {}
    for item in items:
        name, _, values = item.partition(":")
        try:
            out[name] = tuple(int(v) for v in values.split(",") if v)
        except ValueError as e:
            raise RadLabelError(f"bad --exclude value '{item}' (expected CASE:1,2)") from e
    return out


def _progress_printer():
    start = time.monotonic()

    def show(info: dict) -> None:
        frac = min(1.0, info["elapsed_s"] / max(info["budget_s"], 1e-9))
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        val = f" val Dice@1 {info['val_dice']:.3f}" if info.get("val_dice") is not None else ""
        print(
            f"[{bar}] step {info['step']:5d} loss {info['loss']:.4f}{val} "
            f"({time.monotonic() - start:.0f} s)",
            flush=True,
        )

    return show


def run(args: argparse.Namespace) -> int:
    from segmentation_core.checkpoint_io import CheckpointError

    try:
        return _run(args)
    except CheckpointError as e:  # one line naming the file (never a traceback)
        raise RadLabelError(e.reason, e.path or None) from None


def _run(args: argparse.Namespace) -> int:
    from segmentation_core.training.trainer import (
        TrainConfig,
        Trainer,
        check_resume_folder,
        init_weights,
    )
    from viewer.io.training_cases import find_cases, load_training_case

    if args.minutes == 0 and args.steps == 0:
        raise RadLabelError("give a time budget (--minutes above 0) or a step count (--steps)")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise RadLabelError(f"--lr must be a positive learning rate, not {args.lr}")
    # refuse a pickle checkpoint before minutes of loading cases
    check_resume_folder(Path(args.out))
    if args.init_from:
        init_weights(args.init_from)
    exclude = _parse_excludes(args.exclude)
    if not 0.0 <= args.image_dropout <= 1.0:
        raise RadLabelError(f"--image-dropout must be between 0 and 1, not {args.image_dropout}")
    if not 0 <= args.max_sim_rounds <= 20:
        raise RadLabelError(f"--max-sim-rounds must be between 0 and 20, not {args.max_sim_rounds}")
    if not args.data and not args.synth_labelmaps:
        raise RadLabelError("give training cases (--data) or label maps (--synth-labelmaps)")
    synth = None
    if args.synth_labelmaps:
        share = args.synth_share if args.data else 1.0
        synth = load_synth_spec(
            args.synth_labelmaps,
            share,
            exclude.get(SYNTH_EXCLUDE_KEY, ()),
            contrast=args.synth_contrast,
            uses=args.synth_uses,
            stripped=args.synth_stripped,
        )
        print(
            f"generated images from {len(synth.maps)} label maps, {synth.share:.0%} of the patches",
            flush=True,
        )
    train_specs = find_cases(args.data) if args.data else []
    val_specs = find_cases(args.val) if args.val else []
    val_names = {n for n, _, _ in val_specs}
    train_specs = [s for s in train_specs if s[0] not in val_names]
    if train_specs:
        print(f"training cases: {', '.join(n for n, _, _ in train_specs)}")
    if val_specs:
        print(f"validation cases: {', '.join(n for n, _, _ in val_specs)}")
    train = [load_training_case(*s, exclude.get(s[0], ())) for s in train_specs]
    val = [load_training_case(*s) for s in val_specs]
    cfg = TrainConfig(
        patch=args.patch,
        batch=args.batch,
        minutes=args.minutes,
        max_steps=args.steps,
        seed=args.seed,
        threads=args.threads,
        lr=args.lr,
        init_from=args.init_from,
        image_dropout=args.image_dropout,
        max_sim_rounds=args.max_sim_rounds,
    )
    trainer = Trainer(
        train, Path(args.out), cfg, val_cases=val, progress=_progress_printer(), synth=synth
    )
    print(f"targets: {sum(len(c.targets) for c in train)} in {len(train)} cases", flush=True)
    state = trainer.run()
    model_dir = Path(args.export) if args.export else Path(args.out) / "model"
    meta = {
        "data": {
            "train": [n for n, _, _ in train_specs],
            "validation": [n for n, _, _ in val_specs],
            "excluded_values": {k: list(v) for k, v in exclude.items()},
            "generated": None
            if synth is None
            else {"label_maps": [m.name for m in synth.maps], "share": synth.share},
        },
        "command": "python main.py train-base " + " ".join(sys.argv[2:]),
    }
    trainer.export(model_dir, meta)
    print(
        json.dumps(
            {"steps": state.step, "seconds": round(state.elapsed_s), "model": str(model_dir)}
        )
    )
    return 0
