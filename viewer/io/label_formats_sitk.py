"""Label-image reading with label checks, and atomic image writing, for the export modules.

Conversions are viewer.io.sitk_convert's and writing is viewer.io.writer's; this adds the checks a
label needs (3D, whole numbers in 0..65535) and atomic, verified replacement of the target file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from viewer.errors import LoadError, SaveError
from viewer.io.file_checks import detached_data, regular_file_size, verify_gzip
from viewer.io.sitk_convert import geometry_from_image
from viewer.io.writer import save_volume
from viewer.model.geometry import Geometry


def geometry_of(image: sitk.Image) -> Geometry:
    """The grid of a 3D SimpleITK image as a `Geometry` (viewer.io.sitk_convert's conversion)."""
    return geometry_from_image(image)


def read_label_image(path: str | Path) -> tuple[np.ndarray, Geometry]:
    """Read a 3D integer label image (NIfTI, NRRD, MHA...) as ((z, y, x) array, Geometry)."""
    p = Path(path)
    if not p.exists():
        raise LoadError("file not found", p)
    regular_file_size(str(p))  # never open a FIFO or device
    detached_data(str(p))  # a detached data file only inside the header's folder
    if p.name.lower().endswith(".gz"):
        verify_gzip(str(p))  # ITK zero-fills a stream that ends early
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
    """Write `array` on `geometry` with SimpleITK (format from the file name, gzip on), atomically
    and verified by a read-back (viewer.io.writer.save_volume)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder ({e.strerror or e})", p) from e
    save_volume(array, geometry, p)
    return p


def smallest_label_dtype(array: np.ndarray) -> type:
    """uint8 when every value fits (smaller files, what training tools expect), else uint16."""
    return np.uint8 if (array.size == 0 or int(array.max()) < 256) else np.uint16
