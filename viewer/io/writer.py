"""Image writers: an array (or Volume) on a Geometry to .nii/.nii.gz/.nrrd/.mha/.mhd, exactly.

`write_volume` is the plain primitive (no atomic replacement). `save_volume` is what commands and
exports use: atomic (viewer.io.atomic_save) and verified by reading the file back before it
replaces anything, because ITK leaves a truncated file on a full disk without raising.
"""

from __future__ import annotations

import os

import numpy as np
import SimpleITK as sitk

from viewer.errors import SaveError
from viewer.io.atomic_save import atomic_write
from viewer.io.native_output import native_output_to_log
from viewer.io.sitk_convert import image_from_array
from viewer.io.write_check import verify_image
from viewer.model.geometry import Geometry
from viewer.model.volume import Volume

WRITE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".seg.nrrd", ".mha", ".mhd")


def _array_on_grid(
    array_or_volume: np.ndarray | Volume, geometry: Geometry | None, path: str
) -> tuple[np.ndarray, Geometry]:
    """The voxels and the grid to write them on (the Volume's own when `geometry` is None)."""
    if isinstance(array_or_volume, Volume):
        return array_or_volume.array, geometry or array_or_volume.geometry
    if geometry is None:
        raise SaveError("no geometry given for the array", path)
    return np.asarray(array_or_volume), geometry


def write_volume(
    array_or_volume: np.ndarray | Volume,
    geometry: Geometry | None,
    path: str | os.PathLike,
    compress: bool = True,
) -> None:
    """Write voxels on `geometry` (the Volume's own when None); raises SaveError on failure."""
    path = os.fspath(path)
    array, geometry = _array_on_grid(array_or_volume, geometry, path)
    if not path.lower().endswith(WRITE_SUFFIXES):
        raise SaveError(f"unsupported output format (use one of {', '.join(WRITE_SUFFIXES)})", path)
    try:
        image = image_from_array(array, geometry)
    except (ValueError, RuntimeError, TypeError) as e:
        raise SaveError(f"cannot convert the image ({e})", path) from None
    # ITK's NIfTI writer compresses .nii.gz by extension; NRRD/MHA compress on request.
    try:
        with native_output_to_log():
            sitk.WriteImage(image, path, useCompression=compress)
    except RuntimeError as e:
        last = [t for t in str(e).strip().splitlines() if t.strip()][-1]
        raise SaveError(f"cannot write ({last.split('ERROR:', 1)[-1].strip()})", path) from None


def save_volume(
    array_or_volume: np.ndarray | Volume,
    geometry: Geometry | None,
    path: str | os.PathLike,
    compress: bool = True,
) -> str:
    """`write_volume`, atomically, after reading the written file back: the voxels must compare
    exactly and the grid must match, else SaveError naming `path` and the old file is kept."""
    path = os.fspath(path)
    array, geometry = _array_on_grid(array_or_volume, geometry, path)
    atomic_write(
        path,
        lambda tmp: write_volume(array, geometry, tmp, compress),
        verify=lambda tmp: verify_image(tmp, array, geometry),
    )
    return path
