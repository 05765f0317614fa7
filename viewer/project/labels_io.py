"""Reading and checking the labels that enter a project: they must lie on the case's image grid
exactly and use only the project's label values. Writing goes through viewer.io's atomic,
verified label writer; the written file's grid is the image's."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from viewer.errors import GeometryError, LoadError, SaveError
from viewer.io import save_labels
from viewer.io.labels.load_save import load_labels
from viewer.io.native_output import native_output_to_log
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.project.store import unlink_if_link

LABEL_SUFFIX = ".nii.gz"


def describe_grid(g: Geometry) -> str:
    return g.describe()


def read_label_file(path: str | os.PathLike, grid: Geometry, allowed: set[int]) -> np.ndarray:
    """The label array of a file that lies exactly on `grid` with values in `allowed`;
    LoadError/GeometryError naming the file otherwise (no resampling: a label on another grid is
    someone else's label)."""
    p = Path(path)
    if not p.is_file():
        raise LoadError("no such label file", p)
    with native_output_to_log():
        loaded = load_labels(p)
    own = loaded.source_geometry
    if not own.same_grid(grid):
        raise GeometryError(
            f"the label is on another grid ({describe_grid(own)}) than its image "
            f"({describe_grid(grid)})",
            p,
        )
    array = loaded.labelmap.array
    check_values(array, allowed, p)
    return array


def check_values(array: np.ndarray, allowed: set[int], path: Path | str) -> None:
    present = {int(v) for v in np.unique(array)} - {0}
    extra = sorted(present - allowed)
    if extra:
        shown = ", ".join(str(v) for v in extra[:10]) + (" ..." if len(extra) > 10 else "")
        raise LoadError(
            f"label values {shown} are not in the project's label set "
            f"({', '.join(str(v) for v in sorted(allowed)) or 'empty'})",
            path,
        )


def label_array_for(label, grid: Geometry, target: Path) -> np.ndarray:
    """The (z, y, x) array of a LabelMap / LabelLayers / array meant for a case on `grid`."""
    if isinstance(label, LabelLayers):
        label = label.to_labelmap()
    if isinstance(label, LabelMap):
        if not label.geometry.same_grid(grid):
            raise GeometryError(
                f"the label is on another grid ({describe_grid(label.geometry)}) than the "
                f"case's image ({describe_grid(grid)})",
                target,
            )
        return label.array
    array = np.asarray(label)
    if array.shape != tuple(grid.shape_zyx):
        raise GeometryError(
            f"label shape {array.shape} differs from the case's image {tuple(grid.shape_zyx)}",
            target,
        )
    if array.dtype.kind not in "iub":
        raise SaveError(f"label values must be integers, not {array.dtype}", target)
    return array


def write_label(path: Path, array: np.ndarray, grid: Geometry) -> None:
    """Write on exactly the image's grid; atomic and verified by viewer.io."""
    unlink_if_link(path)
    save_labels(path, LabelMap(grid, np.asarray(array)))


def read_label_array(path: Path) -> np.ndarray:
    with native_output_to_log():
        return load_labels(path).labelmap.array


def mean_dice(a: np.ndarray, b: np.ndarray) -> float | None:
    """Mean over the label values present in either of the per-value Dice; None when both are
    empty (nothing was labelled: no correction effort to measure)."""
    values = sorted(({int(v) for v in np.unique(a)} | {int(v) for v in np.unique(b)}) - {0})
    if not values:
        return None
    scores = []
    for v in values:
        ma, mb = a == v, b == v
        total = int(ma.sum()) + int(mb.sum())
        scores.append(2.0 * int(np.logical_and(ma, mb).sum()) / total)
    return float(np.mean(scores))
