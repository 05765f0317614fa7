"""The automatic model folder: its card (`auto_model.json`) and where each stage model lives.

Layout: `auto_model.json` (version, labels, plan, folds used for inference, cross-validation
Dice, post-processing), `plan.json`, and per fold `fold_<k>/<stage>/` holding the exported model
(`model/model.json` + `model/model.pdiparams`) beside its training checkpoint
(safetensors + JSON).
"""

from __future__ import annotations

from pathlib import Path

from segmentation_core.checkpoint_io import CheckpointError, read_json, write_json
from segmentation_core.model_store import MODEL_PREFIX

CARD = "auto_model.json"
PLAN = "plan.json"
FORMAT = "radlabel-auto-1"


class AutoModelError(CheckpointError):
    """A model folder that cannot be used; `reason` is one line, `path` the file or folder."""


def fold_name(fold) -> str:
    return f"fold_{fold}"


def stage_dir(model_dir: Path, fold, stage: str) -> Path:
    """Where one stage of one fold trains (its checkpoint)."""
    return Path(model_dir) / fold_name(fold) / stage


def export_dir(model_dir: Path, fold, stage: str) -> Path:
    """Where that stage's exported inference model is published."""
    return stage_dir(model_dir, fold, stage) / "model"


def write_card(model_dir: Path, card: dict) -> Path:
    return write_json(Path(model_dir) / CARD, {"format": FORMAT, **card})


def read_card(model_dir: Path) -> dict:
    """The raw card, or AutoModelError naming what is missing."""
    d = Path(model_dir)
    if not d.is_dir():
        raise AutoModelError("no such model folder", d)
    path = d / CARD
    if not path.is_file():
        raise AutoModelError(f"not an automatic segmentation model (no {CARD})", d)
    try:
        card = read_json(path)
    except CheckpointError as e:
        raise AutoModelError(e.reason, e.path) from None
    if card.get("format") != FORMAT:
        raise AutoModelError(f"unknown model format {card.get('format')!r}", path)
    return card


def read_auto_model(model_dir) -> dict:
    """{"version", "labels": {value: name}, "plan", "folds", "postprocessing", "cv"}; raises
    AutoModelError (one line, naming the folder) when the folder is not a usable model."""
    d = Path(model_dir)
    card = read_card(d)
    try:
        plan = card["plan"]
        folds = list(card["inference_folds"])
        labels = {int(v): str(n) for v, n in plan["label_names"].items()}
        stages = [s["name"] for s in plan["stages"]]
    except (KeyError, TypeError, ValueError) as e:
        raise AutoModelError(f"model card is incomplete ({e})", d / CARD) from None
    if not folds:
        raise AutoModelError("the model has no trained fold yet", d)
    for f in folds:
        for s in stages:
            if not (export_dir(d, f, s) / f"{MODEL_PREFIX}.pdiparams").is_file():
                raise AutoModelError(
                    f"missing exported model {fold_name(f)}/{s} (training not finished?)", d
                )
    return {
        "version": str(card.get("version", d.name)),
        "labels": labels,
        "plan": plan,
        "folds": folds,
        "postprocessing": card.get("postprocessing", {"largest_component": []}),
        "cv": card.get("cv", {}),
    }
