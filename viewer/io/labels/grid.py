"""Label values and grids: puts labels onto an image grid (same grid as is, same space on another
grid resampled with nearest neighbour and a note, no overlap refused with a GeometryError) and
checks that an array holds label values (whole numbers in 0..65535).

A leaf: every label format and the loader use it; it imports no other label module."""

from __future__ import annotations

import logging

import numpy as np
import SimpleITK as sitk

from viewer.errors import GeometryError, LoadError
from viewer.io.sitk_convert import image_from_array
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LABEL_DTYPE, LabelMap

log = logging.getLogger(__name__)


def label_onto_grid(
    array: np.ndarray,
    source: Geometry,
    target: Geometry,
    path: str = "",
    notes: list[str] | None = None,
) -> LabelMap:
    """Put a (z, y, x) label array given on `source` onto `target`."""
    if source.same_grid(target):
        return LabelMap(target, array)
    if not _overlaps(source, target):
        raise GeometryError(
            "label does not overlap the image in space (different patient position or "
            "coordinate system)",
            path,
        )
    note = _describe_difference(source, target)
    image = image_from_array(array, source)
    resampler = sitk.ResampleImageFilter()
    resampler.SetSize([int(s) for s in target.size_xyz])
    resampler.SetOutputSpacing(target.spacing)
    resampler.SetOutputOrigin(target.origin)
    resampler.SetOutputDirection(tuple(np.asarray(target.direction).ravel()))
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    resampler.SetDefaultPixelValue(0)
    resampler.SetOutputPixelType(image.GetPixelID())
    out = sitk.GetArrayFromImage(resampler.Execute(image)).astype(LABEL_DTYPE, copy=False)
    lost = set(np.unique(array).tolist()) - set(np.unique(out).tolist())
    if lost:
        note += f"; label values lost by resampling: {sorted(int(v) for v in lost)[:10]}"
    log.warning("%s: %s", path, note)
    if notes is not None:
        notes.append(note)
    return LabelMap(target, out)


def as_label_values(array: np.ndarray, path: str) -> np.ndarray:
    """`array` as uint16 label values; LoadError for fractions, negatives or values over 65535."""
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise LoadError(
                "label values must be whole numbers (this looks like an intensity "
                "or probability image)",
                path,
            )
    if array.size and (array.min() < 0 or array.max() > np.iinfo(LABEL_DTYPE).max):
        raise LoadError(
            f"label values must lie in 0..65535 (found {array.min()}..{array.max()})", path
        )
    return array.astype(LABEL_DTYPE, copy=False)


def _overlaps(a: Geometry, b: Geometry) -> bool:
    amin, amax = a.world_bounds()
    bmin, bmax = b.world_bounds()
    inter = np.minimum(amax, bmax) - np.maximum(amin, bmin)
    return bool(np.all(inter > 0))


def _describe_difference(source: Geometry, target: Geometry) -> str:
    same_space = _same_space(source, target)
    if same_space:
        return (
            f"label stored on another grid of the same space (orientation "
            f"{source.orientation_code()} vs image {target.orientation_code()}): "
            "resampled to the image grid with nearest neighbour"
        )
    return (
        f"label grid differs from the image (size {source.size_xyz} vs "
        f"{target.size_xyz}, spacing {tuple(round(s, 3) for s in source.spacing)} vs "
        f"{tuple(round(s, 3) for s in target.spacing)}): resampled with nearest neighbour"
    )


def _same_space(a: Geometry, b: Geometry, tol: float = 1e-3) -> bool:
    amin, amax = a.world_bounds()
    bmin, bmax = b.world_bounds()
    return bool(np.allclose(amin, bmin, atol=tol * 100) and np.allclose(amax, bmax, atol=tol * 100))
