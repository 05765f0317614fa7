"""Checks that a file just written holds what was meant, before it replaces anything.

`check_stream` is cheap and format-blind: the file is not empty and every compressed stream in it
(gzip `.gz`, gzip-encoded NRRD, zlib-compressed MetaImage `.mha`/`.zraw`) inflates to its end with
a good checksum -- ITK leaves a truncated stream on a full disk and says so only on stderr, and
its NIfTI reader fills a truncated `.nii.gz` with zeros instead of failing.
`verify_image` is the full read-back: the voxels compare exactly and the grid matches.
What C/C++ libraries print on stderr meanwhile goes to the log (viewer.io.native_output).
"""

from __future__ import annotations

import logging
import os
import zlib

import numpy as np

from viewer.errors import LoadError
from viewer.io.file_checks import verify_gzip
from viewer.io.native_output import native_output_to_log
from viewer.model.geometry import Geometry

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_MAX_OUT = 1 << 18  # inflate in small pieces: a zero label compresses about 1000:1, and
# cache-sized pieces inflate faster (measured: 16 MB pieces 0.68 s, 256 KB 0.34 s per 105 MB)


class WriteCheckError(Exception):
    """What was written is not what was meant to be written (a full disk, a broken writer)."""


def _inflate_to_end(f, wbits: int, what: str) -> int:
    """Inflate the rest of `f` (zlib/gzip per `wbits`); returns the length; raises when cut."""
    d = zlib.decompressobj(wbits)
    total = 0
    try:
        while not d.eof:
            chunk = f.read(_CHUNK)
            if not chunk:
                raise WriteCheckError(f"the written {what} stream is truncated")
            total += len(d.decompress(chunk, _MAX_OUT))
            while d.unconsumed_tail and not d.eof:
                total += len(d.decompress(d.unconsumed_tail, _MAX_OUT))
    except zlib.error as e:
        raise WriteCheckError(f"the written {what} stream is damaged ({e})") from None
    return total


def _gzip_to_end(path: str, offset: int = 0) -> None:
    """Every gzip member from `offset` inflates to its end (the reader's check: CRC-32, length)."""
    try:
        verify_gzip(path, offset)
    except LoadError as e:
        if "truncated" in e.reason:
            raise WriteCheckError("the written gzip stream is truncated") from None
        raise WriteCheckError(f"the written gzip stream is damaged ({e.reason})") from None


def _header_fields(f, stop) -> dict[str, str]:
    """Read `key: value` / `key = value` header lines from `f` until `stop(line)` is true."""
    fields: dict[str, str] = {}
    while True:
        line = f.readline(65536)
        if not line:
            return fields
        text = line.decode("latin-1").strip()
        if stop(text):
            return fields
        for sep in (":=", ":", "="):
            if sep in text:
                key, value = text.split(sep, 1)
                fields[key.strip().lower()] = value.strip()
                break


def check_stream(path: str, allow_empty: bool = False) -> None:
    """Raise WriteCheckError when the file at `path` is empty or a compressed stream is cut."""
    if os.path.getsize(path) == 0:
        if allow_empty:
            return
        raise WriteCheckError("the written file is empty")
    name = os.path.basename(path).lower()
    with open(path, "rb") as f:
        if name.endswith(".gz"):
            _gzip_to_end(path)
        elif name.endswith(".nrrd"):
            if f.read(4) != b"NRRD":
                raise WriteCheckError("the written NRRD header is damaged")
            fields = _header_fields(f, lambda t: t == "")
            if fields.get("encoding", "") in ("gzip", "gz") and "data file" not in fields:
                _gzip_to_end(path, f.tell())
        elif name.endswith(".mha"):
            fields = _header_fields(f, lambda t: t.lower().startswith("elementdatafile"))
            if fields.get("compresseddata", "").lower() == "true":
                _inflate_to_end(f, zlib.MAX_WBITS, "zlib")
        elif name.endswith(".zraw"):
            _inflate_to_end(f, zlib.MAX_WBITS, "zlib")


def verify_image(path: str, array: np.ndarray, geometry: Geometry) -> None:
    """Read the image at `path` back with SimpleITK: voxels exactly `array`, grid `geometry`."""
    import SimpleITK as sitk

    from viewer.io.sitk_convert import geometry_from_image

    try:
        with native_output_to_log():
            image = sitk.ReadImage(path)
    except RuntimeError as e:
        last = [t for t in str(e).strip().splitlines() if t.strip()] or ["unreadable"]
        raise WriteCheckError(f"the written file does not read back ({last[-1].strip()})") from None
    back = sitk.GetArrayFromImage(image)
    expected = np.asarray(array)
    nan = np.issubdtype(expected.dtype, np.floating) or np.issubdtype(back.dtype, np.floating)
    if nan and back.shape == expected.shape and path.lower().endswith((".nii", ".nii.gz")):
        # the file holds NaN/Inf as given, but ITK's NIfTI reader returns them as 0
        odd = ~np.isfinite(expected) & (back == 0)
        if odd.any():
            expected = np.where(odd, 0, expected)
    if back.shape != expected.shape or not np.array_equal(back, expected, equal_nan=nan):
        raise WriteCheckError("the written file does not read back as written (voxels differ)")
    if not geometry_from_image(image).same_grid(geometry):
        raise WriteCheckError("the written file does not read back as written (grid differs)")
