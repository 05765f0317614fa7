"""Training datasets: nnU-Net v2 raw datasets and the MSD / PaddleSeg MedicalSeg layout.

Every case gets an anonymous id (`case_000`, ...); no patient name, id or source file name reaches
a file name or JSON (checked before anything is written). Label values are mapped through the
project's label set to consecutive training ids 1..K (what nnU-Net requires), by segment name
when the case names its segments, else by label id. `splits_final.json` keeps each patient's
cases in one fold.

A dataset is written whole in a hidden staging folder beside its final place and swapped in
only when complete (every image read back, JSON written): a failure leaves an earlier dataset
as it was and no partial folder, and `overwrite` replaces the earlier dataset wholly (no stale
cases or splits survive).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from viewer import __version__
from viewer.errors import SaveError
from viewer.io.atomic_save import atomic_write_text, current_umask
from viewer.io.dataset_export_splits import group_kfold, patient_key
from viewer.io.labels.formats.image import smallest_label_dtype, write_image
from viewer.model.labelmap import LabelMap
from viewer.model.modality import effective_modality
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
FILE_ENDING = ".nii.gz"


@dataclass
class ExportCase:
    """One image with its finished labels (on the image grid) and, optionally, segment names."""

    volume: Volume
    labels: LabelMap
    segments: SegmentTable | None = None


@dataclass
class DatasetResult:
    folder: Path
    case_ids: list[str]
    label_ids: dict[str, int]  # training label name -> training id (background 0)
    splits: list[dict] | None
    notes: list[str] = field(default_factory=list)


def training_classes(label_set: SegmentTable) -> list[tuple[str, int]]:
    """(training name, project id) of training ids 1..K in label-set order (by project id).
    Names are unique and never "background": a taken name gets `_<id>`, then `_<id>_2`, ...
    until unused (`name_<id>` may itself be another label's name); both dataset.json maps are
    built from this one list, so they always list the same classes."""
    taken = {"background"}
    out = []
    for s in sorted(label_set, key=lambda s: s.id):
        base = s.name.strip() or f"label_{s.id}"
        name = f"{base}_{s.id}" if base in taken else base
        n = 2
        while name in taken:
            name, n = f"{base}_{s.id}_{n}", n + 1
        taken.add(name)
        out.append((name, s.id))
    return out


def training_labels(label_set: SegmentTable) -> dict[str, int]:
    """Training name -> training id: background 0, then 1..K (`training_classes`)."""
    return _label_ids(training_classes(label_set))


def _label_ids(classes: list[tuple[str, int]]) -> dict[str, int]:
    return {"background": 0, **{name: i for i, (name, _) in enumerate(classes, start=1)}}


def _label_lut(case: ExportCase, label_set: SegmentTable, index: int) -> np.ndarray:
    """Look-up table from this case's label values to training ids."""
    ordered = sorted(label_set, key=lambda s: s.id)
    by_id = {s.id: i for i, s in enumerate(ordered, start=1)}
    by_name: dict[str, int] = {}
    for i, s in enumerate(ordered, start=1):
        key = s.name.strip().lower()
        if key in by_name:  # two classes one name: a case's labels could not tell them apart
            raise SaveError(
                f"the label set names '{s.name.strip()}' twice (values "
                f"{ordered[by_name[key] - 1].id} and {s.id}); give each label its own name"
            )
        by_name[key] = i
    values = case.labels.values()
    lut = np.zeros((max(values) if values else 0) + 1, dtype=np.uint16)
    named: dict[str, int] = {}
    for v in values:
        seg = case.segments.get(v) if case.segments is not None else None
        if seg is not None:
            key = seg.name.strip().lower()
            if key in named:  # would silently become one class
                raise SaveError(
                    f"case {index}: values {named[key]} and {v} are both named "
                    f"'{seg.name.strip()}'; give each label its own name before exporting"
                )
            named[key] = v
        target = by_name.get(seg.name.strip().lower()) if seg is not None else None
        if target is None:
            target = by_id.get(v)
        if target is None:
            what = f"'{seg.name}' (value {v})" if seg is not None else f"value {v}"
            raise SaveError(
                f"case {index}: label {what} is not in the project's label set "
                f"({', '.join(s.name for s in ordered)}); add it or remove it before exporting"
            )
        lut[v] = target
    return lut


def _identifiers(volume: Volume) -> set[str]:
    """Strings that would identify the patient if they appeared in an exported name or JSON."""
    meta = volume.metadata or {}
    found: set[str] = set()
    for key in ("PatientName", "PatientID", "AccessionNumber", "OtherPatientIDs"):
        value = str(meta.get(key, "") or "").strip()
        if value:
            found.add(value)
            found.update(part for part in re.split(r"[\^\s=]+", value) if len(part) >= 3)
    return {s for s in found if len(s) >= 3}


def check_anonymous(texts: Iterable[str], identifiers: set[str]) -> None:
    """SaveError when any identifier occurs in any of `texts` (case-insensitive)."""
    lowered = [t.lower() for t in texts]
    for ident in sorted(identifiers):
        if any(ident.lower() in t for t in lowered):
            raise SaveError(
                "refusing to export: a patient identifier would appear in the dataset's file "
                "names or JSON (check the dataset name and label names)"
            )


def _prepare_folder(folder: Path, overwrite: bool) -> Path:
    """A fresh hidden staging folder beside `folder` with the dataset's sub-folders."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise SaveError("the dataset path exists and is not a folder", folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise SaveError(
            "the dataset folder exists and is not empty (use overwrite to replace it)", folder
        )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent)
        )
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp's 0700 would lock others out
        for sub in ("imagesTr", "labelsTr", "imagesTs"):
            (staging / sub).mkdir()
    except OSError as e:
        raise SaveError(f"cannot create the dataset folder ({e.strerror or e})", folder) from e
    return staging


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace `folder` (if any) by the finished `staging` folder; the old one goes last."""
    aside = staging.with_name(staging.name[: -len(".tmp")] + ".old")
    had_old = folder.exists()
    try:
        if had_old:
            os.rename(folder, aside)
        try:
            os.rename(staging, folder)
        except OSError:
            if had_old:
                os.rename(aside, folder)
            raise
    except OSError as e:
        raise SaveError(f"cannot put the new dataset in place ({e.strerror or e})", folder) from e
    if had_old:
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def _staged(folder: Path, overwrite: bool) -> Iterator[Path]:
    """Write a whole dataset in a staging folder, then swap it in; on any failure the old
    dataset stays as it was and nothing of the new one is left."""
    staging = _prepare_folder(folder, overwrite)
    try:
        yield staging
        _swap_in(staging, folder)
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, SaveError):  # name the dataset's own paths, not the staging folder's
            reason = e.reason.replace(str(staging), str(folder))
            path = e.path.replace(str(staging), str(folder)) if e.path else None
            raise type(e)(reason, path) from e  # keeps its kind (a cancel stays one)
        raise


def _check_complete(folder: Path, ids: list[str], image_name: str) -> None:
    """The staged dataset holds exactly the cases it lists, before it replaces anything."""
    want_images = sorted(image_name.format(case=c) for c in ids)
    want_labels = sorted(f"{c}{FILE_ENDING}" for c in ids)
    got_images = sorted(p.name for p in (folder / "imagesTr").iterdir())
    got_labels = sorted(p.name for p in (folder / "labelsTr").iterdir())
    if got_images != want_images or got_labels != want_labels:
        raise SaveError("the written dataset is incomplete", folder)


def _check_name(name: str, what: str) -> None:
    if not _NAME_RE.match(name):
        raise SaveError(f"{what} '{name}' may use only letters, digits, '_' and '-'")


def _channel(cases_modality: list[str], channel_name: str | None) -> str:
    if channel_name:
        return channel_name
    kinds = {m.upper() for m in cases_modality if m}
    if len(kinds) > 1:
        raise SaveError(f"cases mix modalities {sorted(kinds)}; give the channel name explicitly")
    kind = kinds.pop() if kinds else ""
    return "CT" if kind == "CT" else (kind or "image")


def _write_cases(
    cases: Iterable[ExportCase],
    folder: Path,
    label_set: SegmentTable,
    image_name: str,
    prefix: str,
) -> tuple[list[str], list[str], list[str], set[str]]:
    """Write images and labels; returns case ids, patient keys, modalities, identifiers."""
    case_ids, keys, modalities, identifiers = [], [], [], set()
    for i, case in enumerate(cases):
        v = case.volume
        if not v.is_segmentable:
            raise SaveError(f"case {i}: only scalar (grey-level) images can be exported")
        if not case.labels.geometry.same_grid(v.geometry):
            raise SaveError(f"case {i}: the label map is not on the image grid")
        identifiers |= _identifiers(v)
        case_id = f"{prefix}_{i:03d}"
        lut = _label_lut(case, label_set, i)
        train = lut[case.labels.array] if lut.size else case.labels.array
        write_image(v.array, v.geometry, folder / "imagesTr" / image_name.format(case=case_id))
        write_image(
            train.astype(smallest_label_dtype(train)),
            v.geometry,
            folder / "labelsTr" / f"{case_id}{FILE_ENDING}",
        )
        case_ids.append(case_id)
        keys.append(patient_key(v, i))
        modalities.append(effective_modality(v.modality, v.array))  # NIfTI CT: from HU
    if not case_ids:
        raise SaveError("no cases to export", folder)
    return case_ids, keys, modalities, identifiers


def _finish(folder: Path, docs: dict[str, object], identifiers: set[str], names: list[str]) -> None:
    texts = {
        fname: json.dumps(doc, indent=2, ensure_ascii=False) + "\n" for fname, doc in docs.items()
    }
    check_anonymous([*texts.values(), *names], identifiers)
    for fname, text in texts.items():
        atomic_write_text(folder / fname, text)


def export_nnunet(
    cases: Iterable[ExportCase],
    out_dir: str | Path,
    dataset_id: int,
    name: str,
    label_set: SegmentTable,
    *,
    channel_name: str | None = None,
    folds: int = 5,
    seed: int = 12345,
    case_prefix: str = "case",
    overwrite: bool = False,
) -> DatasetResult:
    """Write `out_dir/DatasetXXX_name` as an nnU-Net v2 raw dataset (+ splits_final.json)."""
    if not 1 <= int(dataset_id) <= 999:
        raise SaveError(f"nnU-Net dataset ids are 1..999, got {dataset_id}")
    _check_name(name, "dataset name")
    _check_name(case_prefix, "case prefix")
    folder = Path(out_dir) / f"Dataset{int(dataset_id):03d}_{name}"
    with _staged(folder, overwrite) as staging:
        return _write_nnunet(
            cases, staging, folder, name, label_set, channel_name, folds, seed, case_prefix
        )


def _write_nnunet(
    cases: Iterable[ExportCase],
    staging: Path,
    folder: Path,
    name: str,
    label_set: SegmentTable,
    channel_name: str | None,
    folds: int,
    seed: int,
    case_prefix: str,
) -> DatasetResult:
    image_name = "{case}_0000" + FILE_ENDING
    ids, keys, modalities, identifiers = _write_cases(
        cases, staging, label_set, image_name, case_prefix
    )
    classes = training_classes(label_set)
    labels = _label_ids(classes)
    notes: list[str] = []
    splits = group_kfold(ids, keys, folds, seed, notes)
    docs: dict[str, object] = {
        "dataset.json": {
            "channel_names": {"0": _channel(modalities, channel_name)},
            "labels": labels,
            "numTraining": len(ids),
            "file_ending": FILE_ENDING,
            "name": name,
            "description": f"Exported by RadLabel {__version__}",
            "overwrite_image_reader_writer": "SimpleITKIO",
            "radlabel_label_ids": dict(classes),
        }
    }
    if splits is not None:
        docs["splits_final.json"] = splits
        notes.append(
            "splits_final.json belongs in nnUNet_preprocessed/"
            f"{folder.name}/ after nnUNetv2_plan_and_preprocess (copy it there)"
        )
    _finish(staging, docs, identifiers, [folder.name, *ids])
    _check_complete(staging, ids, image_name)
    return DatasetResult(folder, ids, labels, splits, notes)


def export_msd(
    cases: Iterable[ExportCase],
    out_dir: str | Path,
    task_id: int,
    name: str,
    label_set: SegmentTable,
    *,
    channel_name: str | None = None,
    case_prefix: str = "case",
    overwrite: bool = False,
) -> DatasetResult:
    """Write `out_dir/TaskXX_name` in the Medical Segmentation Decathlon layout (which
    PaddleSeg's MedicalSeg and MONAI read): imagesTr, labelsTr, imagesTs, dataset.json."""
    if not 1 <= int(task_id) <= 999:
        raise SaveError(f"task ids are 1..999, got {task_id}")
    _check_name(name, "task name")
    _check_name(case_prefix, "case prefix")
    folder = Path(out_dir) / f"Task{int(task_id):02d}_{name}"
    with _staged(folder, overwrite) as staging:
        return _write_msd(cases, staging, folder, name, label_set, channel_name, case_prefix)


def _write_msd(
    cases: Iterable[ExportCase],
    staging: Path,
    folder: Path,
    name: str,
    label_set: SegmentTable,
    channel_name: str | None,
    case_prefix: str,
) -> DatasetResult:
    image_name = "{case}" + FILE_ENDING
    ids, _keys, modalities, identifiers = _write_cases(
        cases, staging, label_set, image_name, case_prefix
    )
    labels = training_labels(label_set)
    doc = {
        "name": name,
        "description": f"Exported by RadLabel {__version__}",
        "reference": "",
        "licence": "",
        "release": __version__,
        "tensorImageSize": "3D",
        "modality": {"0": _channel(modalities, channel_name)},
        "labels": {str(v): k for k, v in labels.items()},
        "numTraining": len(ids),
        "numTest": 0,
        "training": [
            {"image": f"./imagesTr/{c}{FILE_ENDING}", "label": f"./labelsTr/{c}{FILE_ENDING}"}
            for c in ids
        ],
        "test": [],
    }
    _finish(staging, {"dataset.json": doc}, identifiers, [folder.name, *ids])
    _check_complete(staging, ids, image_name)
    return DatasetResult(folder, ids, labels, None, [])
