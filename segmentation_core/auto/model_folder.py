"""The automatic model folder: its card (`auto_model.json`) and where each stage model lives.

Layout: `auto_model.json` (version, labels, plan, folds used for inference, cross-validation
Dice, post-processing), `plan.json`, and per fold `fold_<k>/<stage>/` holding the exported model
(`model/model.json` + `model/model.pdiparams`) beside its training checkpoint
(safetensors + JSON).
"""

from __future__ import annotations

import math
import re
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


_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_CLASSES = 255  # class probabilities and indices are uint8 at inference


def _plain(name: object) -> bool:
    """A folder name that stays inside its parent (no separators, no "..")."""
    return isinstance(name, str) and bool(_PLAIN.match(name)) and ".." not in name


def _ints(value, n: int, lo: int, hi: int, what: str) -> list[int]:
    if not isinstance(value, list) or len(value) != n:
        raise ValueError(f"{what} must be {n} numbers")
    out = [int(v) for v in value]
    if any(isinstance(v, bool) or v != int(v) or not lo <= int(v) <= hi for v in value):
        raise ValueError(f"{what} must be whole numbers in {lo}..{hi}")
    return out


def check_plan(plan: dict) -> list[str]:
    """The plan's stage names, after checking every field inference reads (types and ranges
    that keep memory bounded and paths inside the folder); ValueError/TypeError/KeyError
    otherwise."""
    if not isinstance(plan, dict):
        raise TypeError("'plan' must be an object")
    n = int(plan["n_classes"])
    if not 2 <= n <= MAX_CLASSES:
        raise ValueError(f"n_classes must be in 2..{MAX_CLASSES}")
    _ints(plan["label_values"], n - 1, 1, 65535, "label_values")
    if not isinstance(plan["normalization"], dict) or not isinstance(
        plan["normalization"].get("scheme"), str
    ):
        raise ValueError("normalization must name its scheme")
    if plan["normalization"]["scheme"] not in ("ct", "zscore"):
        raise ValueError("normalization scheme must be 'ct' or 'zscore'")
    if plan["normalization"].get("mask", "nonzero") != "nonzero":
        raise ValueError("normalization mask must be 'nonzero' when given")
    stages = plan["stages"]
    if not isinstance(stages, list) or not 1 <= len(stages) <= 4:
        raise ValueError("stages must be a list of 1 to 4 stages")
    for stage in stages:
        if not _plain(stage["name"]):
            raise ValueError("a stage name must be a plain folder name")
        spacing = stage["spacing_zyx"]
        if not isinstance(spacing, list) or len(spacing) != 3:
            raise ValueError("spacing_zyx must be 3 numbers")
        if any(not (math.isfinite(float(v)) and 0.05 <= float(v) <= 100.0) for v in spacing):
            raise ValueError("spacing_zyx must lie in 0.05..100 mm")
        _ints(stage["patch_zyx"], 3, 4, 1024, "patch_zyx")
        extra = int(stage.get("extra_channels", 0))
        if not 0 <= extra <= n:
            raise ValueError("extra_channels out of range")
    axes = plan.get("mirror_axes", [])
    _ints(axes, len(axes) if isinstance(axes, list) else -1, 0, 2, "mirror_axes")
    for pair in plan.get("mirror_pairs", []):
        _ints(pair, 2, 1, n - 1, "a mirror pair")
    return [stage["name"] for stage in stages]


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
        stages = check_plan(plan)
        if any(not _plain(fold_name(f)) for f in folds):
            raise ValueError("a fold is not a plain name")
        lcc = card.get("postprocessing", {"largest_component": []})["largest_component"]
        if not set(int(v) for v in lcc) <= set(plan["label_values"]):
            raise ValueError("post-processing names a label the model does not predict")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise AutoModelError(f"model card is incomplete or damaged ({e})", d / CARD) from None
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
