"""Refuses DICOM header values that cannot describe an image (BitsAllocated 0, BitsStored above
BitsAllocated, SamplesPerPixel 0, an unknown PhotometricInterpretation, a zero or NaN
ImageOrientationPatient, billions of frames in a small file, a rescale to 1e300) and names the
defaults guessed for missing ones. Checked on the header, before any pixels are read.
"""

from __future__ import annotations

import math

import numpy as np
import pydicom

PHOTOMETRIC = {
    "MONOCHROME1",
    "MONOCHROME2",
    "PALETTE COLOR",
    "RGB",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_PARTIAL_422",
    "YBR_PARTIAL_420",
    "YBR_ICT",
    "YBR_RCT",
    "ARGB",
    "CMYK",
    "HSV",
}
BITS_ALLOCATED = (1, 8, 16, 32, 64)
MAX_RESCALED = 1e30  # beyond any physical quantity an image holds; float32 ends at 3.4e38
_ENCAPSULATED_ITEM = 8  # each compressed frame needs at least an item tag and length


class NotAnImage(Exception):
    """The file is DICOM (or not) but holds no image; `reason` says why (for the skip list)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def header_warnings(ds: pydicom.Dataset) -> list[str]:
    """Check the pixel-describing attributes; NotAnImage for values that cannot be right,
    the warnings for defaults assumed when they are missing."""
    warnings = []
    bits = _raw_int(ds, "BitsAllocated")
    if bits is None:
        warnings.append("no BitsAllocated in the header: 16 assumed")
        bits = 16
    elif bits not in BITS_ALLOCATED:
        raise NotAnImage(f"BitsAllocated {bits} is not one of 1, 8, 16, 32, 64")
    stored = _raw_int(ds, "BitsStored")
    if stored is not None and not 1 <= stored <= bits:
        raise NotAnImage(f"BitsStored {stored} does not fit in BitsAllocated {bits}")
    samples = _raw_int(ds, "SamplesPerPixel")
    if samples is not None and samples not in (1, 3, 4):
        raise NotAnImage(f"SamplesPerPixel {samples} is not 1, 3 or 4")
    photometric = ds.get("PhotometricInterpretation")
    if photometric is None or str(photometric).strip() == "":
        warnings.append("no PhotometricInterpretation in the header: MONOCHROME2 assumed")
    elif str(photometric).strip().upper() not in PHOTOMETRIC:
        raise NotAnImage(f"unknown PhotometricInterpretation '{str(photometric)[:40]}'")
    _check_orientation(ds.get("ImageOrientationPatient"))
    _check_rescale(ds, stored or bits)
    return warnings


def check_frame_count(
    frames: int, rows: int, cols: int, samples: int, bits: int, file_size: int, compressed: bool
) -> None:
    """A header may not claim more frames than the file can hold (NumberOfFrames 2147483647
    in a 1 KB file built a frame list for minutes)."""
    if frames <= 1:
        return
    if compressed:
        need = frames * _ENCAPSULATED_ITEM
    else:
        need = (frames * rows * cols * max(samples, 1) * bits + 7) // 8
    if need > file_size:
        raise NotAnImage(
            f"header claims {frames} frames of {rows} x {cols}, more than the file's "
            f"{file_size} bytes can hold (truncated or corrupt)"
        )


def _check_orientation(value) -> None:
    if value is None:
        return
    try:
        values = [float(v) for v in (value if not isinstance(value, (str, bytes)) else [value])]
    except (TypeError, ValueError):
        raise NotAnImage("ImageOrientationPatient is not six numbers") from None
    if len(values) == 0:
        return  # present but empty: treated as absent
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise NotAnImage(f"ImageOrientationPatient {values} is not six finite numbers")
    row, col = np.array(values[:3]), np.array(values[3:])
    nr, nc = float(np.linalg.norm(row)), float(np.linalg.norm(col))
    if not (0.5 < nr < 1.5 and 0.5 < nc < 1.5):
        raise NotAnImage(f"ImageOrientationPatient {values} is not two unit vectors")
    if abs(float(np.dot(row, col))) / (nr * nc) > 0.05:
        raise NotAnImage(f"ImageOrientationPatient {values}: rows and columns not perpendicular")


def _check_rescale(ds: pydicom.Dataset, bits: int) -> None:
    slope = _raw_float(ds, "RescaleSlope")
    intercept = _raw_float(ds, "RescaleIntercept")
    if slope is not None and slope == 0:
        raise NotAnImage("RescaleSlope is 0: every pixel would have the same value")
    top = abs(slope if slope is not None else 1.0) * 2.0 ** min(bits, 64)
    if top + abs(intercept or 0.0) > MAX_RESCALED:
        raise NotAnImage(
            f"rescale (slope {slope}, intercept {intercept}) gives values beyond "
            f"{MAX_RESCALED:g}: the header is damaged"
        )


def _raw_int(ds: pydicom.Dataset, key: str) -> int | None:
    value = ds.get(key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotAnImage(f"{key} '{str(value)[:40]}' is not a whole number") from None


def _raw_float(ds: pydicom.Dataset, key: str) -> float | None:
    value = ds.get(key)
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise NotAnImage(f"{key} '{str(value)[:40]}' is not a number") from None
    if not math.isfinite(f):
        raise NotAnImage(f"{key} is {f}: the header is damaged")
    return f
