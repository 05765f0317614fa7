"""Header mutations of a small NIfTI, NRRD and DICOM, and the one rule every reader must keep:
a valid volume (finite positive spacing, array shape matching the grid) or a LoadError.

Used by tests/io/test_fuzz_headers.py (hypothesis, about a minute) and by
benchmarks/bench_fuzz.py (many random mutants, outcome counts).
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path

import numpy as np
from hostile_inputs import dicom_bytes, dicom_dataset, header_region, nifti_bytes, nrrd_bytes

from viewer.errors import LoadError
from viewer.io import load_volume

KINDS = ("nifti", "nrrd", "dicom")
SUFFIX = {"nifti": ".nii", "nrrd": ".nrrd", "dicom": ".dcm"}

INTERESTING_INTS = [0, 1, -1, 2, 7, 8, 16, 40, 255, 32767, -32768, 65535, 2**31 - 1, -(2**31)]
INTERESTING_FLOATS = [0.0, -0.0, -1.0, 1e-9, 5.9e28, 1e300, math.nan, math.inf, -math.inf, 3.0]
TOKENS = [
    "0", "-1", "nan", "inf", "-inf", "1e300", "5.9e28", "4294967296", "2147483647", "abc",
    "", " ", "../../etc/passwd", "/dev/zero", "LIST", "gzip", "raw", "double", "(nan,0,0)",
    "(0,0,0)", "\\", "MONOCHROME", "YBR_FULL_422",
]  # fmt: skip

_NUMBER = re.compile(rb"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")
NUMBERS = ["0", "-1", "-0.5", "1e-9", "5.9e28", "1e300", "nan", "inf", "4294967296", "65536"]
NUMBERS += ["2147483647", "abc", "", "3", "1.5"]

# NIfTI-1 field offsets worth aiming at: dim, datatype, bitpix, pixdim, vox_offset, scl_slope,
# scl_inter, qform/sform codes, quaternion, srow_x/y/z, magic.
NIFTI_FIELDS = [40, 42, 44, 46, 70, 72, 76, 80, 84, 88, 108, 112, 116, 252, 254, 256, 260, 264]
NIFTI_FIELDS += [268, 272, 276, 280, 284, 288, 292, 296, 300, 304, 312, 316, 320, 344]


def bases() -> dict[str, bytes]:
    return {"nifti": nifti_bytes(), "nrrd": nrrd_bytes(), "dicom": dicom_bytes(dicom_dataset())}


def apply(data: bytes, kind: str, ops: list[tuple]) -> bytes:
    """Apply mutation ops (op, position fraction or field, value) inside the header region."""
    lo, hi = header_region(kind, data)
    out = bytearray(data)
    for op, where, value in ops:
        pos = where if isinstance(where, int) else lo + int(where * (hi - lo - 1))
        pos = min(max(pos, lo), hi - 1)
        if op == "byte":
            out[pos] = value & 0xFF
        elif op == "int16":
            chunk = struct.pack("<h", max(-32768, min(32767, value)))
            out[pos : pos + 2] = chunk[: hi - pos]
        elif op == "int32":
            chunk = struct.pack("<i", max(-(2**31), min(2**31 - 1, value)))
            out[pos : pos + 4] = chunk[: hi - pos]
        elif op == "float32":
            chunk = struct.pack(
                "<f", value if abs(value) < 3e38 or not math.isfinite(value) else 3e38
            )
            out[pos : pos + 4] = chunk[: hi - pos]
        elif op == "number":
            # replace one ASCII number of the header (NRRD fields, DICOM DS/IS values) by
            # `value`; in DICOM the length stays, or the element lengths would no longer match
            spans = [m.span() for m in _NUMBER.finditer(bytes(out[lo:hi]))]
            if not spans:
                continue
            a, b = (
                spans[min(int(where * len(spans)), len(spans) - 1)]
                if not isinstance(where, int)
                else spans[where % len(spans)]
            )
            token = value.encode()
            if kind == "dicom":
                token = token[: b - a].ljust(b - a)
            out[lo + a : lo + b] = token
            hi += len(token) - (b - a)
        elif op == "text":
            token = value.encode()
            end = pos
            while end < hi and chr(out[end]).isalnum() or (end < hi and out[end] in b".-+e"):
                end += 1  # replace the number/word under `pos` as a whole
            out[pos : max(end, pos + 1)] = token
            hi += len(token) - (max(end, pos + 1) - pos)
    return bytes(out)


def check(path: Path) -> str:
    """'loaded' or 'LoadError'; AssertionError when a volume breaks the rule; any other
    exception propagates (that is the bug a fuzzer looks for)."""
    try:
        volume = load_volume(path)
    except LoadError as e:
        assert "\n" not in e.message, e.message
        return "LoadError"
    g = volume.geometry
    spacing = np.asarray(g.spacing, dtype=float)
    assert np.all(np.isfinite(spacing)) and np.all(spacing > 0), f"spacing {g.spacing}"
    # the sane range viewer.io.plausible enforces: 0.1 µm .. 10 m
    assert np.all((spacing >= 1e-4) & (spacing <= 1e4)), f"spacing {g.spacing}"
    assert tuple(volume.array.shape[:3]) == tuple(g.shape_zyx), (volume.array.shape, g.shape_zyx)
    assert all(s >= 1 for s in g.shape_zyx), g.shape_zyx
    assert np.all(np.isfinite(np.asarray(g.origin, dtype=float))), g.origin
    return "loaded"
