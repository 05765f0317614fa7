"""Training cases on disk: finding image + label case folders and loading one as a TrainingCase.

Shared by `train-base` and the project retrain (both train on what the user labelled), so a
case is read the same way whoever trains on it. A case is a folder holding `image.*` and
`label.*` (NIfTI, NRRD, MetaImage), or a `dicom/` sub-folder and `label.*`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from segmentation_core.encoding import robust_range
from segmentation_core.training.dataset import TrainingCase
from viewer.errors import LoadError
from viewer.io.labels.open import load_label_for
from viewer.io.loader import load_volume
from viewer.model.geometry import Geometry

IMAGE_NAMES = ("image.nii.gz", "image.nii", "image.nrrd", "image.mha", "image.mhd")
LABEL_NAMES = ("label.nii.gz", "label.nii", "label.nrrd", "label.mha", "label.mhd")


def find_cases(paths: Iterable[str | Path]) -> list[tuple[str, Path, Path]]:
    """(name, image path, label path) for each case folder at or directly under `paths`."""
    paths = [Path(p) for p in paths]
    cases = []
    for root in paths:
        if not root.is_dir():
            raise LoadError("no such folder", str(root))
        candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir())
        for d in candidates:
            image = next((d / n for n in IMAGE_NAMES if (d / n).is_file()), None)
            if image is None and (d / "dicom").is_dir():
                image = d / "dicom"
            label = next((d / n for n in LABEL_NAMES if (d / n).is_file()), None)
            if image is not None and label is not None:
                cases.append((d.name, image, label))
    if not cases:
        raise LoadError("no image + label case folders found", ", ".join(map(str, paths)))
    return cases


def require_grid(volume, grid: Geometry | None, image: str | Path) -> None:
    """LoadError naming `image` when it no longer lies on `grid`, the grid its labels were drawn
    on (a referenced file re-exported, cropped, or a series that gained slices): its labels
    would be resampled onto a grid they were never drawn on."""
    if grid is not None and not volume.geometry.same_grid(grid):
        raise LoadError(
            f"the image no longer matches the grid its labels were drawn on "
            f"(now {volume.geometry.describe()}; recorded {grid.describe()})",
            str(image),
        )


def load_training_case(
    name: str,
    image: str | Path,
    label: str | Path,
    exclude_values: Sequence[int] = (),
    series_uid: str | None = None,
    grid: Geometry | None = None,
) -> TrainingCase:
    """The case's image and label on the image's grid; `exclude_values` are never targets;
    `series_uid` picks the series of a DICOM folder that holds several; `grid`, when given, is
    the grid the labels were drawn on, which the image must still have.

    Raises LoadError naming the file for an unreadable image or label, a label that does not
    fit the image, an image that left `grid`, or an image that is not a scalar volume.
    """
    vol = load_volume(str(image), series_uid=series_uid)
    if not vol.is_segmentable:
        raise LoadError("image is not a scalar volume (RGB or multi-component)", str(image))
    require_grid(vol, grid, image)
    lab = load_label_for(vol, str(label))
    arr = np.asarray(vol.array, dtype=np.float32)
    lo, hi = robust_range(arr)
    return TrainingCase(
        name=name,
        image=arr,
        label=np.asarray(lab.array, dtype=np.int32),
        spacing_zyx=vol.geometry.spacing_zyx,
        modality=vol.modality,
        exclude_values=tuple(int(v) for v in exclude_values),
        lo=lo,
        hi=hi,
    )
