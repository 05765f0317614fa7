"""The workspace's records: label definitions, cases and model versions, and their checked
conversion from and to the JSON files (`project.json`, `cases/<id>/case.json`,
`models/<version>/record.json`). A file that does not hold what it must is refused with a
LoadError naming it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from viewer.errors import LoadError
from viewer.model.geometry import Geometry

FORMAT = "radlabel-project"
FORMAT_VERSION = 1
CaseState = Literal["new", "in_progress", "finished"]
STATES: tuple[str, ...] = ("new", "in_progress", "finished")
LabelTag = Literal["original", "draft", "final"]
TAGS: tuple[str, ...] = ("original", "draft", "final")

# a name the project joins to one of its folders (a label file, a version): no separators,
# no "..", so a record can never point outside the project
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def is_plain_name(name: object) -> bool:
    """Whether `name` is a string that names a file or folder inside one folder, nothing more."""
    return isinstance(name, str) and bool(_PLAIN_NAME.match(name)) and ".." not in name


@dataclass(frozen=True)
class LabelDef:
    value: int
    name: str
    color: tuple[int, int, int]

    def to_dict(self) -> dict:
        return {"value": self.value, "name": self.name, "color": list(self.color)}


@dataclass(frozen=True)
class CaseRecord:
    case_id: str
    image: str  # a path (relative to the project when copied) or a DICOM folder
    series_uid: str | None
    patient_id: str
    state: CaseState
    has_original: bool
    has_final: bool
    dice_original_final: float | None
    editor: str | None
    time_spent_s: float
    clicks: int
    updated: str  # ISO time
    created: str = ""
    has_draft: bool = False


@dataclass(frozen=True)
class ModelVersion:
    version_id: str
    path: Path  # the exported model folder (what open_session(model_dir=...) takes)
    parent: str | None
    created: str
    cases: list[str]
    settings: dict
    hardware: dict
    metrics: dict  # {"candidate": {...}, "active_before": {...}}
    active: bool
    activated: bool = False  # the gate's decision when it was published
    record: dict = field(default_factory=dict)


def parse_labels(items, path: Path) -> list[LabelDef]:
    """The label set from JSON: a list of {value, name, color}; values 1..65535, unique."""
    if not isinstance(items, list):
        raise LoadError("the label set must be a list of {value, name, color}", path)
    out: list[LabelDef] = []
    for item in items:
        try:
            value = int(item["value"])
            name = str(item["name"])
            color = tuple(int(c) for c in item.get("color", (255, 0, 0)))
        except (KeyError, TypeError, ValueError, OverflowError):
            raise LoadError(
                f"bad label entry {item!r:.80}: needs value, name, color", path
            ) from None
        if not 1 <= value <= 65535:
            raise LoadError(f"label value {value} outside 1..65535", path)
        if len(color) != 3 or any(not 0 <= c <= 255 for c in color):
            raise LoadError(f"label {value}: colour must be three values 0..255", path)
        out.append(LabelDef(value, name, color))  # type: ignore[arg-type]
    values = [d.value for d in out]
    if len(set(values)) != len(values):
        raise LoadError("label values must be unique", path)
    return out


def check_project(data: dict, path: Path) -> list[LabelDef]:
    """Refuse a project.json that is not one of ours (or of a newer format); its labels."""
    if data.get("format") != FORMAT:
        raise LoadError("not a RadLabel project file", path)
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LoadError(
            f"project format {version!r} is newer than this RadLabel reads ({FORMAT_VERSION})",
            path,
        )
    if not isinstance(data.get("name"), str):
        raise LoadError("the project has no name", path)
    for key in ("split", "settings"):
        if not isinstance(data.get(key), dict):
            raise LoadError(f"'{key}' must be a JSON object", path)
    _check_split(data["split"], path)
    _check_settings(data["settings"], path)
    for key in ("active_version", "active_auto_version"):
        value = data.get(key)
        if value is not None and not is_plain_name(value):
            raise LoadError(f"'{key}' must be a version name, not {value!r:.60}", path)
    return parse_labels(data.get("labels"), path)


# the numeric settings and the range each may take (the GUI's spin boxes hold the same)
SETTING_RANGES: dict[str, tuple[float, float]] = {
    "auto_retrain_after": (0, 10_000),
    "retrain_minutes": (0, 10_000),
    "retrain_threads": (1, 1024),
    "auto_train_minutes": (0, 100_000),
}


def _check_split(split: dict, path: Path) -> None:
    for key in ("validation", "training"):
        names = split.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise LoadError(f"'split.{key}' must be a list of patient names", path)


def _check_settings(settings: dict, path: Path) -> None:
    for key, (lo, hi) in SETTING_RANGES.items():
        if key not in settings:
            continue
        value = settings[key]
        if not _finite_number(value) or not lo <= value <= hi:
            raise LoadError(f"setting '{key}' must be a number {lo}..{hi}, not {value!r:.40}", path)
    if not isinstance(settings.get("replay_dir", ""), str):
        raise LoadError("setting 'replay_dir' must be a folder name", path)


def _finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _count(value: object, what: str) -> float:
    """A finite number, 0 or more, from a record (ValueError otherwise)."""
    if not _finite_number(value) or value < 0:  # type: ignore[operator]
        raise ValueError(f"'{what}' must be a finite number, 0 or more")
    return float(value)  # type: ignore[arg-type]


def geometry_to_json(g: Geometry) -> dict:
    return {
        "shape_zyx": list(g.shape_zyx),
        "spacing": list(g.spacing),
        "origin": list(g.origin),
        "direction": np.asarray(g.direction).tolist(),
    }


def geometry_from_json(d: dict, path: Path) -> Geometry:
    try:
        return Geometry(
            tuple(d["shape_zyx"]), tuple(d["spacing"]), tuple(d["origin"]), d["direction"]
        )
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise LoadError(f"the case's image grid is unreadable ({e})", path) from None


def case_from_json(data: dict, path: Path) -> CaseRecord:
    """A CaseRecord from case.json, every field checked."""
    try:
        state = data["state"]
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        labels = data.get("labels", {})
        if not isinstance(labels, dict):
            raise ValueError("'labels' must be an object")
        for tag, name in labels.items():
            if not is_plain_name(name):
                raise ValueError(f"label '{tag}' must be a file name in the case folder")
        dice = data.get("dice_original_final")
        geometry_from_json(data["grid"], path)
        case_id = str(data["case_id"])
        if case_id != path.parent.name:  # a copied or renamed folder: it would count twice
            raise ValueError(f"it names case {case_id!r:.60}, not its folder's")
        return CaseRecord(
            case_id=case_id,
            image=str(data["image"]),
            series_uid=data.get("series_uid"),
            patient_id=str(data["patient_id"]),
            state=state,
            has_original="original" in labels,
            has_final="final" in labels,
            dice_original_final=None if dice is None else _count(dice, "dice_original_final"),
            editor=data.get("editor"),
            time_spent_s=_count(data.get("time_spent_s", 0.0), "time_spent_s"),
            clicks=int(_count(data.get("clicks", 0), "clicks")),
            updated=str(data["updated"]),
            created=str(data.get("created", data["updated"])),
            has_draft="draft" in labels,
        )
    except LoadError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise LoadError(f"the case record is damaged ({e})", path) from None


def version_from_json(data: dict, folder: Path, active_id: str | None) -> ModelVersion:
    path = folder / "record.json"
    try:
        vid = data["version"]
        if vid != folder.name or not is_plain_name(vid):  # activate() writes it to project.json
            raise ValueError(f"it names version {vid!r:.60}, not its folder's")
        metrics = dict(data.get("metrics", {}))
        for key in ("candidate", "active_before", "active"):
            _check_scores(metrics.get(key), key)
        return ModelVersion(
            version_id=vid,
            path=folder / "model",
            parent=data.get("parent"),
            created=str(data.get("created", "")),
            cases=[str(c) for c in data.get("cases", [])],
            settings=dict(data.get("settings", {})),
            hardware=dict(data.get("hardware", {})),
            metrics=metrics,
            active=vid == active_id,
            activated=bool(data.get("activated", False)),
            record=data,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise LoadError(f"the version record is damaged ({e})", path) from None


def _check_scores(scores: object, key: str) -> None:
    """A version's scores: null, or an object whose Dice and NoC entries are finite numbers
    (or null); its other entries (the cases measured, when) are descriptions."""
    if scores is None:
        return
    if not isinstance(scores, dict):
        raise ValueError(f"metrics '{key}' must be an object")
    for name, value in scores.items():
        score = isinstance(name, str) and name.startswith(("dice@", "noc@"))
        if score and value is not None and not _finite_number(value):
            raise ValueError(f"metrics '{key}.{name}' must be a finite number")
