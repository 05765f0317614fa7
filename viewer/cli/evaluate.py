"""`evaluate --image I --label L`: the EVALUATION.md protocol over every target of one case.

Prints a table per target and the mean for each engine (`--engine paddle,classic` runs both side
by side) and writes the full results as JSON with `--json OUT`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from viewer.cli import strict_json
from viewer.errors import LoadError
from viewer.io.atomic_save import atomic_write_text


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="simulated-click evaluation of the click-to-segment engines"
    )
    p.add_argument("--image", required=True, help="image file or DICOM folder")
    p.add_argument("--label", required=True, help="label file on the image's grid")
    p.add_argument(
        "--values", default=None, help="label values to evaluate, e.g. 1,2,5 (default: all)"
    )
    p.add_argument(
        "--clicks", type=int, default=20, help="clicks per target (default 20, as NoC needs)"
    )
    p.add_argument("--engine", default="paddle", help="paddle, classic or both: paddle,classic")
    p.add_argument(
        "--model", default=None, help="model folder for the paddle engine (default: shipped)"
    )
    p.add_argument("--in-process", action="store_true", help="run the Predictor in this process")
    p.add_argument(
        "--json", dest="json_out", default=None, help="write the results to this JSON file"
    )
    p.set_defaults(func=run)


def parse_values(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise LoadError(f"--values must be integers separated by commas, got {text!r}") from None


def parse_engines(text: str) -> list[str]:
    from segmentation_core.engines import engine_names

    known = engine_names()
    engines = [e.strip() for e in text.split(",") if e.strip()]
    bad = [e for e in engines if e not in known]
    if bad or not engines:
        raise LoadError(
            f"unknown engine {', '.join(bad) or text!r}; choose from {', '.join(known)}"
        )
    return engines


def load_case(
    image_path: str, label_path: str
) -> tuple[np.ndarray, tuple[float, ...], np.ndarray, dict]:
    """(image array zyx, spacing zyx, label array zyx, names by value) of one case."""
    from viewer.io import load_label_for, load_volume

    volume = load_volume(image_path)
    if volume.array.ndim != 3:
        raise LoadError("evaluation needs a scalar (grey-value) image, not colour", image_path)
    notes: list[str] = []
    label = load_label_for(volume, label_path, notes)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    return volume.array, tuple(volume.geometry.spacing_zyx), label.array, label_names(label_path)


def label_names(label_path: str) -> dict[int, str]:
    """Names from a labels.json beside the label file ({"labels": {"1": "spleen", ...}}), if any."""
    path = Path(label_path).parent / "labels.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in data.get("labels", {}).items()}
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}


def run(args: argparse.Namespace) -> int:
    from segmentation_core import open_session
    from segmentation_core.engines import get_engine
    from segmentation_core.evaluation.harness import evaluate_case
    from segmentation_core.evaluation.report import target_table
    from segmentation_core.types import SegmentationError

    if args.clicks < 1:
        raise LoadError("--clicks must be at least 1")
    if args.json_out and not Path(args.json_out).resolve().parent.is_dir():
        # checked before minutes of evaluation, not after them
        raise LoadError("the folder for --json does not exist", args.json_out)
    engines = parse_engines(args.engine)
    values = parse_values(args.values)
    image, spacing, label, names = load_case(args.image, args.label)
    results = {}
    for engine in engines:
        model_dir = args.model if get_engine(engine).model_formats else None
        try:
            session = open_session(engine, model_dir=model_dir, in_process=args.in_process)
        except SegmentationError as e:
            raise LoadError(f"cannot open the {engine} engine: {e}") from None
        try:
            res = evaluate_case(session, image, label, spacing, values, args.clicks)
        finally:
            session.close()
        results[engine] = res
        print(target_table(res, names))
        print()
    if len(results) > 1:
        print(side_by_side(results))
    if args.json_out:
        out = {
            "image": os.fspath(args.image),
            "label": os.fspath(args.label),
            "engines": {e: r.to_json() for e, r in results.items()},
        }
        atomic_write_text(args.json_out, strict_json.dumps(out))
    return 0


def side_by_side(results: dict) -> str:
    from segmentation_core.evaluation.harness import summary_keys

    first = next(iter(results.values()))
    keys = summary_keys(first.n_clicks) + ["p50 s", "p95 s"]
    lines = [f"{'engine':<10}" + "".join(f"{k:>9}" for k in keys)]
    for name, r in results.items():
        vals = [r.mean(k) for k in summary_keys(r.n_clicks)] + [r.latency_p50_s, r.latency_p95_s]
        lines.append(f"{name:<10}" + "".join(f"{v:9.3f}" for v in vals))
    return "\n".join(lines)
