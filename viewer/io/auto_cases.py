"""Loading the automatic model's training cases (`train-auto`, the project's automatic training):
case folders, an nnU-Net raw dataset, a project.

Images and labels are read through `viewer.io` (every format the viewer opens), labels onto the
image's grid; the modality is the viewer's decision (`effective_modality`), and the patient is
a hashed key from the image header (`dataset_export_splits.patient_key`) so that folds never
split a patient. An nnU-Net raw dataset (what `export --format nnunet` writes: dataset.json,
imagesTr/<case>_0000.nii.gz, labelsTr/<case>.nii.gz) takes its patient groups from
`splits_final.json` when present (cases validated together stay together).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from viewer.errors import LoadError
from viewer.io.training_cases import find_cases


def find_case_folders(paths) -> list[tuple[str, Path, Path]]:
    """(name, image, label) for each case folder at or directly under `paths` (the same folders
    `train-base` reads: `viewer.io.training_cases.find_cases`)."""
    return find_cases(paths)


def load_auto_case(
    name: str,
    image: Path,
    label: Path,
    patient: str = "",
    index: int = 0,
    series_uid: str | None = None,
    grid=None,
):
    """An `AutoCase` from an image (file or DICOM folder) and a label file; `grid` (a
    Geometry), when given, is the grid the labels were drawn on, which the image must keep."""
    from segmentation_core.auto.cases import AutoCase
    from viewer.io.dataset_export_splits import patient_key
    from viewer.io.labels.open import load_label_for
    from viewer.io.loader import load_volume
    from viewer.io.training_cases import require_grid
    from viewer.model.modality import effective_modality

    vol = load_volume(str(image), series_uid=series_uid)
    if not vol.is_segmentable:
        raise LoadError("image is not a scalar volume (RGB or multi-component)", image)
    require_grid(vol, grid, image)  # a project case: its labels were drawn on this grid
    lab = load_label_for(vol, str(label))
    return AutoCase(
        name=name,
        image=np.asarray(vol.array),
        label=np.asarray(lab.array),
        spacing_zyx=vol.geometry.spacing_zyx,
        modality=effective_modality(vol.modality, np.asarray(vol.array)),
        patient=patient or patient_key(vol, index),
        direction=np.asarray(vol.geometry.direction, float),
    )


def label_names_of(label: Path) -> dict[int, str]:
    """Names from a `labels.json` beside the label ({"labels": {"1": "spleen"}}), if any."""
    path = label.parent / "labels.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in data.get("labels", {}).items()}
    except (ValueError, AttributeError, OSError, RecursionError):
        return {}


def cases_from_folders(paths) -> tuple[list, dict[int, str]]:
    specs = find_case_folders(paths)
    names: dict[int, str] = {}
    cases = []
    for i, (name, image, label) in enumerate(specs):
        cases.append(load_auto_case(name, image, label, index=i))
        names.update(label_names_of(label))
    return cases, names


def cases_from_nnunet(folder) -> tuple[list, dict[int, str]]:
    """The training cases of an nnU-Net raw dataset folder, and its label names."""
    root = Path(folder)
    doc_path = root / "dataset.json"
    if not doc_path.is_file():
        raise LoadError("not an nnU-Net raw dataset (no dataset.json)", root)
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        ending = doc.get("file_ending", ".nii.gz")
        labels = {int(v): str(k) for k, v in doc["labels"].items() if int(v) != 0}
        channels = doc.get("channel_names", doc.get("modality", {}))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise LoadError(
            f"dataset.json is not readable ({type(e).__name__}: {e})", doc_path
        ) from None
    if len(channels) > 1:
        raise LoadError("only single-channel datasets are supported", doc_path)
    groups = _split_groups(root / "splits_final.json")
    label_dir, image_dir = root / "labelsTr", root / "imagesTr"
    if not label_dir.is_dir():
        raise LoadError("no labelsTr folder", root)
    cases = []
    for i, label in enumerate(sorted(label_dir.glob("*" + ending))):
        case = label.name[: -len(ending)]
        image = image_dir / f"{case}_0000{ending}"
        if not image.is_file():
            raise LoadError(f"no image for case {case}", image)
        c = load_auto_case(case, image, label, groups.get(case, ""), i)
        if not c.modality and str(next(iter(channels.values()), "")).upper() == "CT":
            c.modality = "CT"
        cases.append(c)
    if not cases:
        raise LoadError("labelsTr holds no cases", label_dir)
    return cases, labels


def cases_from_project(project, case_ids=None) -> tuple[list, dict[int, str]]:
    """Every finished case of a `viewer.project.Project` (or those of `case_ids`: a run's,
    fixed at its start), their final labels, with patients from the project and the project's
    label names; the cross-validation is the validation."""
    if case_ids is None:
        ids = sorted(set(project.training_cases()) | set(project.validation_cases()))
    else:
        ids = list(case_ids)
    if len(ids) < 2:
        raise LoadError(
            f"the project has {len(ids)} finished case(s): automatic training needs at least 2",
            project.folder,
        )
    cases = []
    for i, case_id in enumerate(ids):
        rec = project.case(case_id)
        label = project.label_path(case_id, "final")
        if label is None:
            raise LoadError(f"case {case_id} is finished but has no final label", project.folder)
        cases.append(
            load_auto_case(
                case_id,
                project.image_path(case_id),
                label,
                rec.patient_id or case_id,
                i,
                rec.series_uid,
                project.case_grid(case_id),
            )
        )
    return cases, {d.value: d.name for d in project.labels}


def _split_groups(path: Path) -> dict[str, str]:
    """case -> the fold that validates it in splits_final.json (our exporter keeps patients
    whole there); {} when the file is absent or unreadable."""
    if not path.is_file():
        return {}
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
        return {case: f"split{k}" for k, s in enumerate(splits) for case in s["val"]}
    except (ValueError, KeyError, TypeError, RecursionError):
        return {}
