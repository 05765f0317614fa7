"""`import-twin WEIGHTS.safetensors --out MODEL_DIR`: publish weights trained by the PyTorch
twin (on a GPU machine, `segmentation_core.training.twin`) as a product model folder.

The names and shapes are checked and mapped by `segmentation_core.training.twin_weights`; the
folder is exported by the same path as `train-base --export`. A `train_log.json` beside the
weights (written by the twin trainer) goes into the model's meta card.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from viewer.errors import LoadError, SaveError

LOG_NAME = "train_log.json"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import-twin", help="publish PyTorch twin weights (.safetensors) as a model folder"
    )
    p.add_argument("weights", help="weights.safetensors written by the twin trainer")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    p.set_defaults(func=run)


def _training_record(weights: Path) -> dict:
    from segmentation_core.checkpoint_io import CheckpointError, read_json

    log_path = weights.parent / LOG_NAME
    if not log_path.is_file():
        return {}
    try:
        record = read_json(log_path)
    except CheckpointError as e:
        raise LoadError(e.reason, e.path) from None
    # the card keeps the summary; the full curve stays in the log
    record.pop("history", None)
    record.pop("losses", None)
    return record


def run(args: argparse.Namespace) -> int:
    from segmentation_core.checkpoint_io import CheckpointError
    from segmentation_core.training.twin_weights import export_twin_model, read_twin_weights

    weights, out = Path(args.weights), Path(args.out)
    if not weights.is_file():
        raise LoadError("no such weights file", str(weights))
    if out.exists() and not args.overwrite:
        raise SaveError("model folder exists (give --overwrite to replace it)", str(out))
    try:
        state, widths = read_twin_weights(weights)
    except CheckpointError as e:
        raise LoadError(e.reason, e.path or str(weights)) from None
    record = _training_record(weights)
    data = record.pop("data", None)  # where train-base keeps it: beside "training"
    meta = {
        "training": {"trainer": "pytorch-twin", **record},
        **({"data": data} if data is not None else {}),
        "command": "python main.py import-twin " + " ".join(sys.argv[2:]),
    }
    export_twin_model(state, widths, out, meta)
    print(json.dumps({"model": str(out), "widths": list(widths), "tensors": len(state)}))
    return 0
