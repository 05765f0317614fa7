"""Reads single-file images (NIfTI-1/2, NRRD incl. .seg.nrrd, MetaImage) into a `Volume`.

SimpleITK reads NIfTI-1, NRRD and MetaImage; NIfTI-2 goes through nibabel (RAS affine converted
to LPS). The header is checked against the file size and memory before any pixels are read.
4D images give one time point (`time_index`), multi-component images one component unless
they are RGB(A), which stay (z, y, x, c).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from viewer.errors import LoadError
from viewer.io.file_checks import (
    HEADER_LIMIT,
    DetachedData,
    detached_data,
    nrrd_data_offset,
    regular_file_size,
    verify_gzip,
)
from viewer.io.native_output import native_output_to_log
from viewer.io.nifti_forms import chosen_form, disagreement, nifti1_disagreement
from viewer.io.plausible import check_geometry, check_nifti1_header
from viewer.io.sitk_convert import (
    NON_ORTHONORMAL_REASON,
    direction_is_orthonormal,
    geometry_from_image,
    orthonormalize,
)
from viewer.io.size_guard import check_claimed_size, claimed_bytes
from viewer.model.geometry import Geometry
from viewer.model.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".img", ".img.gz")
NRRD_SUFFIXES = (".nrrd", ".nhdr", ".seg.nrrd")
META_SUFFIXES = (".mha", ".mhd")
FILE_SUFFIXES = NIFTI_SUFFIXES + NRRD_SUFFIXES + META_SUFFIXES


def is_volume_file(path: str | os.PathLike) -> bool:
    name = str(path).lower()
    return name.endswith(FILE_SUFFIXES)


def nifti_version(path: str) -> int | None:
    """1 or 2 from the header's sizeof_hdr field (either byte order), None if not NIfTI."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
    except (OSError, EOFError, zlib.error) as e:
        raise LoadError(f"file is corrupt: cannot read the header ({e})", path) from None
    if len(head) < 4:
        return None
    for order in ("<", ">"):
        (n,) = struct.unpack(order + "i", head)
        if n == 348:
            return 1
        if n == 540:
            return 2
    return None


def read_volume_file(path: str, time_index: int = 0) -> Volume:
    """Read a NIfTI/NRRD/MetaImage file; raises LoadError naming the file and the reason."""
    if not os.path.lexists(path):
        raise LoadError("no such file", path)
    size = regular_file_size(path)
    if size == 0:
        raise LoadError("file is empty", path)
    lower = path.lower()
    if lower.endswith((".nii", ".nii.gz")) and nifti_version(path) == 2:
        return _read_nifti2(path, time_index)
    detached = detached_data(path)  # refuses data files outside the folder, FIFOs, devices
    warnings: list[str] = []
    if lower.endswith(NIFTI_SUFFIXES):
        warnings = check_nifti1_header(path)  # also reads a .gz stream to its end
        forms = nifti1_disagreement(path)
        if forms:
            warnings.append(forms)
    with native_output_to_log():
        reader = sitk.ImageFileReader()
        reader.SetFileName(path)
        try:
            reader.ReadImageInformation()
        except RuntimeError as e:
            raise LoadError(_itk_reason(str(e), path), path) from None
        claimed = _check_header_size(path, reader, detached)
        _check_nrrd_stream(path, lower, claimed, detached)
        try:
            image = reader.Execute()
        except RuntimeError as e:
            raise LoadError(_itk_reason(str(e), path), path) from None
        except MemoryError:
            raise LoadError("not enough memory to read the image", path) from None
    volume = volume_from_itk(image, path, time_index)
    if warnings:
        volume.metadata.setdefault("warnings", []).extend(warnings)
    return volume


def _check_nrrd_stream(path: str, lower: str, claimed: int, detached: DetachedData | None) -> None:
    """Read a gzip-encoded NRRD's stream to its end: ITK may zero-fill one that ends early."""
    if lower.endswith(".nrrd") and detached is None and _nrrd_gzip(path):
        offset = nrrd_data_offset(path)
        if offset is not None:
            verify_gzip(path, offset, enough=claimed + (1 << 20))
    elif detached is not None and detached.gzip and not lower.endswith(".hdr"):
        for f in detached.files:
            verify_gzip(f, enough=claimed + (1 << 20))


def _nrrd_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(HEADER_LIMIT)
    end = head.find(b"\n\n")
    text = (head if end < 0 else head[:end]).decode("latin-1").lower()
    return "encoding: gz" in text


def volume_from_itk(image: sitk.Image, path: str, time_index: int = 0) -> Volume:
    """Turn a 2D/3D/4D, scalar or vector SimpleITK image into a 3D `Volume`."""
    metadata: dict = {"source_files": [path]}
    dim = image.GetDimension()
    if dim == 4:
        n = image.GetSize()[3]
        metadata["time_points"] = n
        metadata["time_index"] = _check_index(time_index, n, "time point", path)
        size = list(image.GetSize())
        size[3] = 0
        image = sitk.Extract(image, size, [0, 0, 0, time_index])
    elif dim not in (2, 3):
        raise LoadError(f"unsupported image dimension {dim}", path)
    if "complex" in image.GetPixelIDTypeAsString():
        raise LoadError("complex-valued images are not supported", path)
    geometry = geometry_from_image(image)
    if not direction_is_orthonormal(geometry.direction):
        raise LoadError(NON_ORTHONORMAL_REASON, path)
    geometry = Geometry(
        geometry.shape_zyx, geometry.spacing, geometry.origin, orthonormalize(geometry.direction)
    )
    check_geometry(geometry, path)
    array = sitk.GetArrayFromImage(image)
    if dim == 2:
        array = array[np.newaxis]
    ncomp = image.GetNumberOfComponentsPerPixel()
    if ncomp > 1:
        if ncomp in (3, 4) and array.dtype == np.uint8:
            metadata["rgb"] = True
        else:
            metadata["components"] = ncomp
            metadata["component_index"] = _check_index(time_index, ncomp, "component", path)
            array = np.ascontiguousarray(array[..., time_index])
    del image
    return Volume(
        array=array,
        geometry=geometry,
        modality="",
        source_path=path,
        name=_display_name(path),
        metadata=metadata,
    )


def _read_nifti2(path: str, time_index: int) -> Volume:
    import nibabel as nib

    try:
        img = nib.load(path)
    except Exception as e:  # nibabel raises many types for bad headers
        raise LoadError(f"cannot read NIfTI-2 header ({e})", path) from None
    shape = tuple(int(s) for s in img.shape)
    if any(s < 1 for s in shape):
        raise LoadError(f"NIfTI-2 dimensions {list(shape)} include a size below 1", path)
    itemsize = np.dtype(img.get_data_dtype()).itemsize
    check_claimed_size(
        path,
        claimed_bytes(shape, itemsize),
        stored_bytes=os.path.getsize(path),
        compressed=path.lower().endswith(".gz"),
    )
    # nibabel moves scl_slope/scl_inter from the header to the array proxy; scaled voxels come
    # out as floats (up to 64-bit), so memory must hold that, not the stored size
    slope, inter = getattr(img.dataobj, "slope", 1.0), getattr(img.dataobj, "inter", 0.0)
    if (slope != 1.0 or inter != 0.0) and itemsize < 8:
        check_claimed_size(path, claimed_bytes(shape, 8))
    metadata: dict = {"source_files": [path], "nifti_version": 2}
    if len(shape) > 5 or len(shape) < 2:
        raise LoadError(f"unsupported NIfTI-2 dimension {len(shape)}", path)
    try:
        proxy = img.dataobj
        if len(shape) >= 4:
            n = shape[3]
            metadata["time_points"] = n
            metadata["time_index"] = _check_index(time_index, n, "time point", path)
            data = np.asanyarray(proxy[:, :, :, time_index])
        else:
            data = np.asanyarray(proxy)
    except Exception as e:
        raise LoadError(f"cannot read NIfTI-2 pixel data ({e})", path) from None
    if data.ndim == 2:
        data = data[:, :, np.newaxis]
    while data.ndim > 3:  # remaining 5th dimension: first component
        data = data[..., 0]
    _used, affine = chosen_form(img.header)  # ITK's rule, as for NIfTI-1 (nifti_forms)
    if affine is None:
        affine = img.affine  # neither transform set: nibabel's pixdim-only affine
    forms = disagreement(img.header)
    if forms:
        metadata.setdefault("warnings", []).append(forms)
    if not np.all(np.isfinite(affine)):
        raise LoadError("the header's affine holds values that are not numbers", path)
    lps = np.diag([-1.0, -1.0, 1.0]) @ affine[:3, :3]
    spacing = np.linalg.norm(lps, axis=0)
    if np.any(spacing <= 0):
        raise LoadError("affine has a zero-length voxel axis", path)
    direction = lps / spacing
    if not direction_is_orthonormal(direction):
        raise LoadError(NON_ORTHONORMAL_REASON, path)
    origin = np.diag([-1.0, -1.0, 1.0]) @ affine[:3, 3]
    array = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))
    geometry = Geometry(array.shape, tuple(spacing), tuple(origin), orthonormalize(direction))
    check_geometry(geometry, path)
    return Volume(array, geometry, "", path, _display_name(path), metadata)


def _check_header_size(
    path: str, reader: sitk.ImageFileReader, detached: DetachedData | None
) -> int:
    """Refuse a header claiming more than memory or the file(s) allow; returns the claim."""
    size = [int(s) for s in reader.GetSize()]
    ncomp = int(reader.GetNumberOfComponents())
    claimed = claimed_bytes(size, ncomp * _pixel_bytes(reader.GetPixelID()))
    lower = path.lower()
    if detached is not None:
        check_claimed_size(
            path, claimed, stored_bytes=detached.total_bytes, compressed=detached.compressed
        )
        return claimed
    compressed = lower.endswith((".gz", ".nrrd", ".mha"))  # NRRD/MHA may zip internally
    check_claimed_size(path, claimed, stored_bytes=os.path.getsize(path), compressed=compressed)
    return claimed


def _pixel_bytes(pixel_id: int) -> int:
    name = sitk.GetPixelIDValueAsString(pixel_id)
    for token, n in (("64-bit", 8), ("32-bit", 4), ("16-bit", 2), ("8-bit", 1)):
        if token in name:
            return n * (2 if "complex" in name else 1)
    return 8


def _itk_reason(message: str, path: str) -> str:
    text = message.strip().splitlines()
    last = next((t for t in reversed(text) if t.strip()), message)
    low = message.lower()
    if "orthonormal" in low:
        return NON_ORTHONORMAL_REASON
    if "unable to determine imageio" in low:
        return "unsupported or unrecognised file format"
    if "truncat" in low or "unexpected end" in low or "premature" in low or "short" in low:
        return "file is truncated or corrupt"
    last = last.split("ERROR:", 1)[-1].strip()
    return f"cannot read image ({last})"


def _check_index(index: int, count: int, what: str, path: str) -> int:
    if not 0 <= index < count:
        raise LoadError(
            f"{what} {index} does not exist (the file has {count}: 0..{count - 1})", path
        )
    return int(index)


def _display_name(path: str) -> str:
    name = Path(path).name
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
