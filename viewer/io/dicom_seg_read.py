"""Reading a DICOM SEG file safely: the dataset, a Deflated one inflated in pieces against a
bound set by its own header (the pixel data it claims, checked like any image's), so a small
file cannot unpack to gigabytes first; and the claimed pixel size checked before any frame is
decoded."""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.filereader import read_dataset, read_preamble
from pydicom.uid import DeflatedExplicitVRLittleEndian

from viewer.errors import LoadError
from viewer.io.size_guard import check_claimed_size, claimed_bytes

SEG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation Storage
    "1.2.840.10008.5.1.4.1.1.66.7",  # Label Map Segmentation Storage
}

# inflated bytes a Deflated SEG may hold besides its pixel data: the elements before the pixel
# geometry, and the functional groups of each frame (highdicom and dcmqi write ~0.5-1 KB)
_HEADER_BYTES = 16 * 2**20
_FRAME_HEADER_BYTES = 8 * 1024
_PIXEL_GEOMETRY = 0x00280100  # Bits Allocated: the last of Frames, Rows, Columns, Bits


def read_seg_dataset(p: Path) -> pydicom.Dataset:
    """The SEG dataset of `p`; LoadError when it is not one or cannot be read within bounds."""
    if not p.exists():
        raise LoadError("file not found", p)
    try:
        meta = pydicom.filereader.read_file_meta_info(str(p))
        if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            ds = _read_deflated(p)
        else:
            ds = pydicom.dcmread(str(p))
    except LoadError:
        raise
    except (
        pydicom.errors.InvalidDicomError,
        OSError,
        ValueError,
        TypeError,  # a Deflated header's frame count or size of the wrong kind
        zlib.error,
    ) as e:
        raise LoadError(f"not a readable DICOM file ({e})", p) from e
    if str(ds.get("SOPClassUID", "")) not in SEG_SOP_CLASSES:
        modality = ds.get("Modality", "?")
        raise LoadError(f"not a DICOM SEG object (modality {modality})", p)
    if "SegmentSequence" not in ds or "PixelData" not in ds:
        raise LoadError("DICOM SEG has no segments or no pixel data", p)
    return ds


class _BoundedInflate:
    """A read-only file over the inflated dataset of a Deflated DICOM file, for pydicom's
    reader: it inflates in pieces only as far as it is read, and reading past `limit` bytes
    sets `over` (a LoadError) and raises it -- pydicom wraps some errors in its own, so the
    caller checks `over`."""

    _PIECE = 1 << 20  # compressed bytes read at a time

    def __init__(self, f: BinaryIO, limit: int, p: Path) -> None:
        self._f = f
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as PS3.5 A.5 has it
        self._data = bytearray()
        self._pos = 0
        self._p = p
        self.name = str(p)  # pydicom names the file in its messages
        self.limit = limit
        self.over: LoadError | None = None

    def _fill(self, end: int) -> None:
        while len(self._data) < end and not self._z.eof:
            piece = self._z.unconsumed_tail or self._f.read(self._PIECE)
            if not piece:
                return  # the file ends early: pydicom reports the cut element
            self._data += self._z.decompress(piece, end - len(self._data))

    def read(self, n: int = -1) -> bytes:
        end = self.limit + 1 if n is None or n < 0 else self._pos + n
        self._fill(min(end, self.limit + 1))
        if end > self.limit and len(self._data) > self.limit:
            self.over = LoadError(
                f"the Deflated SEG inflates past {self.limit / 2**20:.1f} MB, more than its "
                "header accounts for (a decompression bomb?)",
                self._p,
            )
            raise self.over
        out = bytes(self._data[self._pos : end])
        self._pos += len(out)
        return out

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END:
            self.read()  # to the end (within the limit)
            base = len(self._data)
        else:
            base = self._pos if whence == os.SEEK_CUR else 0
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _read_deflated(p: Path) -> pydicom.Dataset:
    """The dataset of a Deflated Explicit VR file, inflated no further than its header allows.

    pydicom inflates the whole file at once, and deflate packs up to ~1000:1: a 300 KB file
    can claim 300 MB. Here the elements up to the pixel geometry (Frames, Rows, Columns, Bits)
    are read within _HEADER_BYTES; the pixel data they claim is checked against memory and the
    file's size like any image's; then the whole dataset is read within that claim plus room
    for the header and every frame's functional groups.
    """
    with open(p, "rb") as f:
        preamble = read_preamble(f, False)
        meta = pydicom.dataset.FileMetaDataset(
            read_dataset(f, False, True, stop_when=lambda tag, vr, length: tag >> 16 != 2)
        )
        stored = os.fstat(f.fileno()).st_size - f.tell()
        stream = _BoundedInflate(f, _HEADER_BYTES, p)
        head = _read_inflated(stream, stop_when=lambda tag, vr, length: tag > _PIXEL_GEOMETRY)
        pixels = _claimed_pixel_bytes(head)
        check_claimed_size(str(p), pixels, stored_bytes=stored, compressed=True)
        frames = max(int(head.get("NumberOfFrames", 1) or 1), 1)
        stream.limit = _HEADER_BYTES + frames * _FRAME_HEADER_BYTES + pixels
        stream.seek(0)
        dataset = _read_inflated(stream)
    ds = pydicom.dataset.FileDataset(str(p), dataset, preamble, meta, False, True)
    ds.set_original_encoding(False, True, dataset.original_character_set)
    return ds


def _read_inflated(stream: _BoundedInflate, **kwargs) -> pydicom.Dataset:
    """pydicom's reading of `stream` from its position (Explicit VR Little Endian, as a
    Deflated dataset is inside); the stream's own LoadError when it went past its limit."""
    try:
        dataset = read_dataset(stream, False, True, **kwargs)  # type: ignore[arg-type]
    except Exception:
        if stream.over is not None:
            raise stream.over from None
        raise
    if stream.over is not None:  # swallowed on the way (pydicom logs a cut element and goes on)
        raise stream.over
    return dataset


def _claimed_pixel_bytes(ds: pydicom.Dataset) -> int:
    """Bytes of pixel data the header claims: Frames x Rows x Columns x Bits Allocated, packed
    (a BINARY SEG has 1 bit a pixel). Python integers: a lying header cannot wrap to 0."""
    sizes = [
        max(int(ds.get(keyword, default) or default), 0)
        for keyword, default in (
            ("NumberOfFrames", 1),
            ("Rows", 0),
            ("Columns", 0),
            ("BitsAllocated", 1),
        )
    ]
    return (claimed_bytes(sizes, 1) + 7) // 8


def check_pixel_size(ds: pydicom.Dataset, p: Path) -> None:
    """LoadError, before any frame is decoded, when the claimed pixel data is more than memory
    allows or than the file holds (native data) or can unpack to (compressed data)."""
    syntax = getattr(ds, "file_meta", pydicom.Dataset()).get("TransferSyntaxUID")
    compressed = bool(syntax is not None and syntax.is_compressed)
    stored = len(ds.PixelData or b"")
    check_claimed_size(str(p), _claimed_pixel_bytes(ds), stored_bytes=stored, compressed=compressed)
