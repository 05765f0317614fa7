"""Refuses header values that cannot be right (voxel sizes of 0, NaN, 1e28 mm; pixel data
before the header's end or past the file's end) and names the defaults a reader guesses.

Libraries replace a NaN or zero NIfTI pixdim with 1 mm and read zeros past the end of a file
without a word; these checks run on the raw header and on every loaded grid.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from viewer.errors import LoadError
from viewer.io.file_checks import verify_gzip
from viewer.io.size_guard import check_claimed_size
from viewer.model.geometry import Geometry

# Voxel sizes outside this range (in mm) are header damage, not an image: 0.1 µm to 10 m.
MIN_SPACING_MM = 1e-4
MAX_SPACING_MM = 1e4
MAX_ORIGIN_MM = 1e9


def spacing_problem(value: float) -> str | None:
    """Why `value` (mm) cannot be a voxel size, or None when it can."""
    if not math.isfinite(value):
        return f"{value} is not a number"
    if value <= 0:
        return f"{value:g} is not positive"
    if not MIN_SPACING_MM <= value <= MAX_SPACING_MM:
        return f"{value:g} mm is outside {MIN_SPACING_MM:g}..{MAX_SPACING_MM:g} mm"
    return None


def check_geometry(geometry: Geometry, path: str) -> None:
    """LoadError unless spacing is finite, positive and sane, and origin/direction are finite."""
    for axis, value in zip("xyz", geometry.spacing):
        problem = spacing_problem(float(value))
        if problem:
            raise LoadError(f"voxel size along {axis} is unusable: {problem}", path)
    origin = np.asarray(geometry.origin, dtype=float)
    if not np.all(np.isfinite(origin)) or np.any(np.abs(origin) > MAX_ORIGIN_MM):
        raise LoadError(f"image origin {tuple(origin)} is not a usable position", path)
    if not np.all(np.isfinite(np.asarray(geometry.direction, dtype=float))):
        raise LoadError("image direction holds values that are not numbers", path)


def check_nifti1_header(path: str) -> list[str]:
    """Check a NIfTI-1 header's dims, pixdim and vox_offset before ITK reads it (ITK turns a
    NaN or 0 pixdim into 1 mm and reads zeros past the end); a `.gz` file's stream is read to
    its end. Returns the warnings for defaults guessed."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(348)
    except (OSError, EOFError, zlib.error) as e:
        raise LoadError(f"file is corrupt: cannot read the header ({e})", path) from None
    if len(head) < 348:
        raise LoadError("file is truncated: shorter than a NIfTI header", path)
    order = "<" if struct.unpack("<i", head[:4])[0] == 348 else ">"
    dim = struct.unpack(order + "8h", head[40:56])
    (bitpix,) = struct.unpack(order + "h", head[72:74])
    pixdim = struct.unpack(order + "8f", head[76:108])
    (vox_offset,) = struct.unpack(order + "f", head[108:112])
    ndim = dim[0]
    if not 1 <= ndim <= 7:
        raise LoadError(f"NIfTI dim[0] is {ndim}, not 1..7", path)
    sizes = dim[1 : ndim + 1]
    if any(s < 1 for s in sizes):
        raise LoadError(f"NIfTI dimensions {list(sizes)} include a size below 1", path)
    warnings = _pixdim_warnings(dim, pixdim, path)
    single_file = head[344:347] == b"n+1"
    if single_file and (not math.isfinite(vox_offset) or vox_offset < 348):
        raise LoadError(f"vox_offset {vox_offset} lies inside the header", path)
    needed = (int(vox_offset) if single_file else 0) + math.prod(sizes) * max(bitpix // 8, 1)
    check_claimed_size(path, math.prod(sizes) * max(bitpix // 8, 1))  # memory, before reading
    lower = path.lower()
    if lower.endswith(".gz"):
        data_bytes = verify_gzip(path, enough=needed + (1 << 20))
    elif lower.endswith(".nii"):
        data_bytes = os.path.getsize(path)
    else:
        return warnings  # .hdr: the pixels are in the .img beside it
    if single_file and needed > data_bytes:
        where = "past the end of the file" if vox_offset >= data_bytes else "beyond its end"
        raise LoadError(
            f"file is truncated: the pixel data (from vox_offset {int(vox_offset)}) runs "
            f"{where} ({needed} bytes needed, {data_bytes} present)",
            path,
        )
    return warnings


def _pixdim_warnings(dim, pixdim, path: str) -> list[str]:
    warnings = []
    for i in range(1, min(dim[0], 3) + 1):
        p = pixdim[i]
        if not math.isfinite(p):
            raise LoadError(f"voxel size pixdim[{i}] is {p}: the header is damaged", path)
        if p == 0:
            if dim[i] > 1:
                raise LoadError(f"voxel size pixdim[{i}] is 0: the voxel size is unknown", path)
            warnings.append(f"voxel size pixdim[{i}] is 0 on a single-voxel axis: 1 mm assumed")
            continue
        problem = spacing_problem(abs(p))
        if problem:
            raise LoadError(f"voxel size pixdim[{i}] is unusable: {problem}", path)
        if p < 0:
            warnings.append(f"voxel size pixdim[{i}] is negative ({p:g}): {abs(p):g} mm used")
    return warnings
