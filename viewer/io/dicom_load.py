"""Loads one scanned DICOM series (one time point) into a `Volume`.

Geometry comes from the scan (positions along the normal). Pixels: uncompressed files are read
by pydicom (one read per file, straight into the preallocated volume); compressed ones by
SimpleITK/GDCM, which decodes JPEG, JPEG-LS, JPEG 2000 and RLE; each falls back on the other.
Rescale slope/intercept are applied per frame into a dtype that holds every value (CT in HU).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import SimpleITK as sitk

from viewer.errors import LoadError
from viewer.io.dicom_headers import (
    DEFLATED_SYNTAX,
    DicomHeader,
    Frame,
    NotAnImage,
    read_dataset,
)
from viewer.io.dicom_mosaic import unpack
from viewer.io.dicom_regular import resample
from viewer.io.dicom_scan import CancelFn, DicomSeries, LoadCancelled, ProgressFn
from viewer.io.plausible import check_geometry
from viewer.io.size_guard import check_claimed_size
from viewer.model.volume import Volume

log = logging.getLogger(__name__)


def load_series(
    series: DicomSeries,
    time_index: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Volume:
    """Read the pixels of one time point of `series`; raises LoadError naming the bad file."""
    n_t = series.time_points
    if not 0 <= time_index < n_t:
        raise LoadError(
            f"time point {time_index} does not exist (the series has {n_t}: 0..{n_t - 1})",
            series.first.path,
        )
    frames = series.slices[time_index]
    by_path = {h.path: h for h in series.headers}
    h0 = series.first
    for path in {f.path for f in frames}:
        _check_file_size(by_path[path])
    dtype = output_dtype(h0, frames)
    components = 3 if h0.photometric.startswith("PALETTE") else h0.samples_per_pixel
    # One plane per frame as stored; a series that is not a regular stack is moved onto its
    # regular grid (series.geometry) afterwards.
    stacked_zyx = (len(frames), h0.rows, h0.columns)
    shape = stacked_zyx + ((components,) if components > 1 else ())
    for zyx in {stacked_zyx, series.geometry.shape_zyx}:
        claimed = math.prod(zyx) * max(components, 1) * dtype.itemsize
        check_claimed_size(h0.path, claimed)
    check_geometry(series.geometry, h0.path)
    out = np.empty(shape, dtype=dtype)
    cache: dict[str, tuple[np.ndarray, bool]] = {}
    n = len(frames)
    done = np.zeros(n, dtype=bool)  # slices already filled by a batched GDCM read
    if _batchable(frames, by_path):
        _decode_batches(out, frames, by_path, done, progress, cancel)
    for z, frame in enumerate(frames):
        if done[z]:
            continue
        if cancel is not None and cancel():
            raise LoadCancelled("loading cancelled", h0.path)
        _decode_one(out, z, frame, by_path, cache)
        if progress is not None and (z % 8 == 0 or z == n - 1):
            progress((z + 1) / n, f"reading slices {z + 1}/{n}")
    if series.regularised:
        out = resample(out, [f.position for f in frames], series.geometry)
        log.warning("%s: %s", _common_dir(series) or h0.path, series.regularised)
    return Volume(
        array=out,
        geometry=series.geometry,
        modality=h0.modality,
        source_path=series.thumbnail_file if len(series.files) == 1 else _common_dir(series),
        name=h0.series_description or h0.modality or "DICOM series",
        metadata=_metadata(series, frames, time_index),
    )


def _decode_one(
    out: np.ndarray,
    z: int,
    frame: Frame,
    by_path: dict[str, DicomHeader],
    cache: dict[str, tuple[np.ndarray, bool]],
) -> None:
    """Decode (or take from the multi-frame cache) the file holding slice z and store it."""
    h = by_path[frame.path]
    if frame.path in cache:
        pixels, rescaled = cache[frame.path]
    else:
        pixels, rescaled = decode_file(h)
        if h.number_of_frames > 1:
            cache.clear()  # keep only the current multi-frame file
            cache[frame.path] = (pixels, rescaled)
    index = frame.frame_index or 0
    if index >= pixels.shape[0]:
        raise LoadError(f"frame {index + 1} is missing from the pixel data", frame.path)
    _store(out, z, pixels[index], frame, rescaled, h)


# Compressed single-frame files are decoded by GDCM a few at a time through one
# ImageSeriesReader: one pipeline per batch instead of one per file (a few % less CPU on
# JPEG 2000 CT), while progress and cancel still answer between batches and a batch's ITK
# image stays small (4 slices of 512x512 int16: 2 MB). Batches run on up to MAX_DECODE_THREADS
# threads (SimpleITK releases the GIL while it decodes), never more than ITK's own thread
# setting (ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS), so a user who limits ITK limits this too.
BATCH_FILES = 4
MAX_DECODE_THREADS = 4


def _decode_batches(
    out: np.ndarray,
    frames: list[Frame],
    by_path: dict[str, DicomHeader],
    done: np.ndarray,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> None:
    """Fill out[] batch by batch; slices of a batch that failed stay False in `done`."""
    n = len(frames)
    starts = list(range(0, n, BATCH_FILES))
    threads = min(
        MAX_DECODE_THREADS, len(starts), sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    )

    def read(z0: int) -> bool:
        return _read_batch(out, frames[z0 : z0 + BATCH_FILES], z0, by_path)

    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # e.g. "non uniform sampling": not ours
    pool = ThreadPoolExecutor(threads, "dicom-decode") if threads > 1 else None
    try:
        # Threads write disjoint slices of `out`; this thread waits on them in order.
        futures = [pool.submit(read, z0) for z0 in starts] if pool is not None else None
        for i, z0 in enumerate(starts):
            if cancel is not None and cancel():
                raise LoadCancelled("loading cancelled", frames[0].path)
            ok = futures[i].result() if futures is not None else read(z0)
            last = min(z0 + BATCH_FILES, n)
            done[z0:last] = ok
            if progress is not None:
                progress(last / n, f"reading slices {last}/{n}")
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # after a cancel: drop the rest
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)


def _read_batch(
    out: np.ndarray, frames: list[Frame], z0: int, by_path: dict[str, DicomHeader]
) -> bool:
    """Decode these files (rescaled by GDCM) with one series read into out[z0:]. False on any
    failure: the per-file path then names the bad file and falls back on pydicom."""
    h = by_path[frames[0].path]
    reader = sitk.ImageSeriesReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileNames([f.path for f in frames])
    try:
        image = reader.Execute()
    except RuntimeError:
        return False
    pixels = sitk.GetArrayViewFromImage(image)  # a view: `image` stays alive until we return
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    if pixels.shape != (len(frames), h.rows, h.columns):
        return False
    for k, frame in enumerate(frames):
        _store(out, z0 + k, pixels[k], frame, True, by_path[frame.path])
    return True


def _batchable(frames: list[Frame], by_path: dict[str, DicomHeader]) -> bool:
    """True when every slice is its own compressed, classic, grey, single-frame file with one
    rescale for all: GDCM's series reader then gives exactly what a per-file read gives."""
    if len(frames) < 2 or len({f.path for f in frames}) != len(frames):
        return False
    if len({(f.slope, f.intercept) for f in frames}) != 1:
        return False
    for f in frames:
        h = by_path[f.path]
        if (
            not h.compressed
            or h.transfer_syntax == DEFLATED_SYNTAX
            or h.enhanced
            or h.number_of_frames != 1
            or h.mosaic_layout is not None
            or h.samples_per_pixel != 1
            or not h.photometric.startswith("MONOCHROME")
        ):
            return False
    return True


def output_dtype(h: DicomHeader, frames: list[Frame]) -> np.dtype:
    """The smallest usual dtype that holds every rescaled value of these frames."""
    if h.samples_per_pixel > 1:
        return np.dtype(np.uint8 if h.bits_allocated <= 8 else np.uint16)
    if h.photometric.startswith("PALETTE"):
        return np.dtype(np.uint8 if h.bits_allocated <= 8 else np.uint16)
    bits = min(max(h.bits_stored, 1), h.bits_allocated, 32)
    if h.pixel_representation == 1:
        smin, smax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        smin, smax = 0, 2**bits - 1
    pairs = {(f.slope, f.intercept) for f in frames}
    if pairs == {(1.0, 0.0)}:
        return _stored_dtype(h)
    if not all(float(s).is_integer() and float(i).is_integer() for s, i in pairs):
        return np.dtype(np.float32)
    lo = min(min(s * smin + i, s * smax + i) for s, i in pairs)
    hi = max(max(s * smin + i, s * smax + i) for s, i in pairs)
    for candidate in (np.int16, np.uint16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= lo and hi <= info.max:
            return np.dtype(candidate)
    return np.dtype(np.float64)


def _stored_dtype(h: DicomHeader) -> np.dtype:
    size = 8 if h.bits_allocated <= 8 else 16 if h.bits_allocated <= 16 else 32
    kind = "int" if h.pixel_representation == 1 else "uint"
    return np.dtype(f"{kind}{size}")


def decode_file(h: DicomHeader) -> tuple[np.ndarray, bool]:
    """All frames of one file as (frames, rows, cols[, samples]); True when GDCM rescaled them."""
    first, second = (
        (_decode_sitk, _decode_pydicom)
        if h.compressed and not h.enhanced
        else (_decode_pydicom, _decode_sitk)
    )
    errors = []
    for decoder in (first, second):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pixels, rescaled = decoder(h)
        except NotAnImage as e:
            errors.append(e.reason)
            continue
        except LoadError:
            raise  # the header contradicts the data: no other decoder can make it right
        except Exception as e:  # decoders raise many error types on broken data
            errors.append(f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:200]}")
            continue
        expected = h.mosaic_shape or (h.rows, h.columns)
        if pixels.ndim == 2 or (
            pixels.ndim == 3
            and h.samples_per_pixel > 1
            and pixels.shape[-1] == h.samples_per_pixel
            and pixels.shape[:2] == expected
        ):
            pixels = pixels[np.newaxis]
        if tuple(pixels.shape[1:3]) != expected:
            errors.append(f"decoded size {pixels.shape[1:3]} differs from the header {expected}")
            continue
        if h.mosaic_layout is not None:
            pixels = unpack(pixels, h.mosaic_layout)
        return pixels, rescaled
    if any("less than expected" in e for e in errors):
        raise LoadError("file is truncated: the pixel data is shorter than the header says", h.path)
    raise LoadError(f"cannot decode pixel data ({'; '.join(errors)})", h.path)


def _decode_pydicom(h: DicomHeader) -> tuple[np.ndarray, bool]:
    ds = read_dataset(h.path, stop_before_pixels=False)
    if "PixelData" not in ds:
        raise NotAnImage("no pixel data")
    if not h.compressed:
        _check_native_length(len(ds.PixelData), h)
    arr = _native_pixels(ds, h)
    if arr is None:
        arr = ds.pixel_array
    if h.photometric.startswith("PALETTE"):
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
        if h.bits_allocated <= 8 and arr.dtype.itemsize > 1:
            arr = (arr >> 8).astype(np.uint8)  # 16-bit LUT entries into the 8-bit output
    if arr.ndim == 2 or (h.number_of_frames == 1 and arr.shape[0] != 1):
        arr = arr[np.newaxis]
    return arr, False


def _check_native_length(stored: int, h: DicomHeader) -> None:
    """Uncompressed pixel data a whole row or more longer than Rows x Columns x frames means
    the header's size is wrong (Rows halved gave half an image): refuse rather than crop."""
    rows, cols = h.mosaic_shape or (h.rows, h.columns)
    samples = 2 if h.photometric.startswith("YBR_FULL_422") else h.samples_per_pixel
    bits = rows * cols * samples * h.bits_allocated * h.number_of_frames
    expected = (bits + 7) // 8
    row = max(1, cols * samples * h.bits_allocated // 8)
    if stored - expected >= row:
        raise LoadError(
            f"pixel data holds {stored} bytes but Rows x Columns ({h.rows} x {h.columns}) "
            f"x {h.number_of_frames} frame(s) need {expected}: the header's image size is wrong",
            h.path,
        )


_NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")


def _native_pixels(ds, h: DicomHeader) -> np.ndarray | None:
    """Fast path for the common case: uncompressed little-endian grey 8/16-bit pixels."""
    if (
        h.transfer_syntax not in _NATIVE_LITTLE_ENDIAN
        or h.samples_per_pixel != 1
        or h.bits_allocated not in (8, 16)
        # signed values stored in fewer bits need sign extension: leave those to pydicom
        or (h.pixel_representation == 1 and h.bits_stored != h.bits_allocated)
        or not h.photometric.startswith("MONOCHROME")
        or h.mosaic_layout is not None
    ):
        return None
    count = h.rows * h.columns * h.number_of_frames
    data = ds.PixelData
    dtype = _stored_dtype(h)
    if len(data) < count * dtype.itemsize:
        return None  # let pydicom report the exact problem
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(h.number_of_frames, h.rows, h.columns)


def _decode_sitk(h: DicomHeader) -> tuple[np.ndarray, bool]:
    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileName(h.path)
    try:
        image = reader.Execute()
    except RuntimeError as e:
        last = [t for t in str(e).strip().splitlines() if t.strip()][-1]
        raise NotAnImage(f"GDCM: {last.split('ERROR:', 1)[-1].strip()}") from None
    arr = sitk.GetArrayFromImage(image)
    if image.GetDimension() == 2:
        arr = arr[np.newaxis]
    return arr, h.samples_per_pixel == 1


def _store(
    out: np.ndarray, z: int, pixels: np.ndarray, frame: Frame, rescaled: bool, h: DicomHeader
) -> None:
    if out.ndim == 4 or rescaled or (frame.slope == 1.0 and frame.intercept == 0.0):
        values = pixels
    else:
        values = pixels.astype(np.float64 if out.dtype.kind != "f" else np.float32)
        values *= frame.slope
        values += frame.intercept
    if out.dtype.kind in "iu" and values.dtype.kind == "f":
        values = np.rint(values)
    if values.shape != out.shape[1:]:
        raise LoadError(
            f"slice size {values.shape} differs from the series {out.shape[1:]}", frame.path
        )
    out[z] = values


def _check_file_size(h: DicomHeader) -> None:
    """Uncompressed pixel data must fit in the file; refuses truncated files before reading."""
    claimed = h.frame_bytes * h.number_of_frames
    if h.compressed:
        check_claimed_size(h.path, claimed, stored_bytes=h.file_size, compressed=True)
    elif claimed > h.file_size:
        raise LoadError(
            f"file is truncated: the header describes {claimed} bytes of pixels but the file "
            f"has only {h.file_size} bytes",
            h.path,
        )


def _metadata(series: DicomSeries, frames: list[Frame], time_index: int) -> dict:
    h0 = series.first
    return {
        "format": "DICOM",
        "series_id": series.series_id,
        # The files' own UIDs, None when absent; `series_id` is the loader's id for the series.
        "StudyInstanceUID": h0.study_uid or None,
        "SeriesInstanceUID": series.series_uid or None,
        "FrameOfReferenceUID": h0.frame_of_reference_uid or None,
        "SOPClassUID": h0.sop_class_uid or None,
        "SOPInstanceUIDs": [f.sop_instance_uid for f in frames],
        "frame_numbers": [None if f.frame_index is None else f.frame_index + 1 for f in frames],
        "PatientName": h0.patient_name,
        "PatientID": h0.patient_id,
        "StudyDate": h0.study_date,
        "SeriesDescription": h0.series_description,
        "SeriesNumber": h0.series_number,
        "Modality": h0.modality,
        "source_files": [f.path for f in frames],
        "time_points": series.time_points,
        "time_index": time_index,
        "warnings": list(series.warnings)
        + ([series.split_note] if series.split_note else [])
        + sorted({w for h in series.headers for w in h.warnings}),
        "rgb": h0.samples_per_pixel > 1 or h0.photometric.startswith("PALETTE"),
    } | (
        # resampled onto a regular grid: z no longer indexes the source files
        {"resampled": series.regularised} if series.regularised else {}
    )


def _common_dir(series: DicomSeries) -> str:
    return os.path.commonpath(series.files) if series.files else ""
