"""SimpleITK <-> (array, Geometry) conversion for the label/export writers.

Owns only the two conversions the export modules need (read a label image, write an array on a
grid). Arrays are (z, y, x); `Geometry` carries spacing/origin/direction exactly as ITK does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from viewer.errors import LoadError, SaveError
from viewer.io.atomic_save import atomic_write
from viewer.model.geometry import Geometry


def geometry_of(image: sitk.Image) -> Geometry:
    """The grid of a 3D SimpleITK image as a `Geometry`."""
    size = image.GetSize()
    return Geometry(
        shape_zyx=(size[2], size[1], size[0]),
        spacing=image.GetSpacing(),
        origin=image.GetOrigin(),
        direction=np.array(image.GetDirection(), dtype=float).reshape(3, 3),
    )


def to_sitk(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    """A SimpleITK image holding `array` (z, y, x) on `geometry`."""
    if tuple(array.shape[:3]) != geometry.shape_zyx:
        raise ValueError(f"array shape {array.shape} does not match grid {geometry.shape_zyx}")
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=array.ndim == 4)
    image.SetSpacing(geometry.spacing)
    image.SetOrigin(geometry.origin)
    image.SetDirection(tuple(float(v) for v in geometry.direction.ravel()))
    return image


def read_label_image(path: str | Path) -> tuple[np.ndarray, Geometry]:
    """Read a 3D integer label image (NIfTI, NRRD, MHA...) as ((z, y, x) array, Geometry)."""
    p = Path(path)
    if not p.exists():
        raise LoadError("file not found", p)
    try:
        image = sitk.ReadImage(str(p))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
        raise LoadError(f"cannot read as a label image ({first})", p) from e
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise LoadError(
            f"a label image must be 3D with one value per voxel, got {image.GetDimension()}D "
            f"with {image.GetNumberOfComponentsPerPixel()} components",
            p,
        )
    array = sitk.GetArrayFromImage(image)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise LoadError("label values must be whole numbers (found fractions)", p)
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise LoadError(f"label values must lie in 0..65535, found {array.min()}..{array.max()}", p)
    return array.astype(np.uint16, copy=False), geometry_of(image)


def write_image(array: np.ndarray, geometry: Geometry, path: str | Path) -> Path:
    """Write `array` on `geometry` with SimpleITK (format from the file name, gzip on), atomically."""
    p = Path(path)
    image = to_sitk(array, geometry)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder ({e.strerror or e})", p) from e
    atomic_write(p, lambda tmp: sitk.WriteImage(image, tmp, useCompression=True))
    return p


def smallest_label_dtype(array: np.ndarray) -> type:
    """uint8 when every value fits (smaller files, what training tools expect), else uint16."""
    return np.uint8 if (array.size == 0 or int(array.max()) < 256) else np.uint16
