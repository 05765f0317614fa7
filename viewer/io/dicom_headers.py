"""Reads one DICOM file's header (no pixels) into plain records: the file and its frames.

A classic file has one frame; an enhanced multi-frame file has one record per frame built from
its per-frame and shared functional groups (position, orientation, spacing, rescale).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial

from viewer.errors import LoadError
from viewer.io.dicom_checks import NotAnImage, check_frame_count, header_warnings
from viewer.io.dicom_mosaic import MosaicLayout, corrected_origin, mosaic_layout
from viewer.io.file_checks import regular_file_size

# SOP classes that hold no image to show; they are skipped with a reason when scanning.
NON_IMAGE_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set (contours, not an image)",
    "1.2.840.10008.5.1.4.1.1.481.5": "RT Plan (not an image)",
    "1.2.840.10008.5.1.4.1.1.481.8": "RT Ion Plan (not an image)",
    "1.2.840.10008.5.1.4.1.1.481.4": "RT Beams Treatment Record (not an image)",
    "1.2.840.10008.5.1.4.1.1.66.4": "DICOM SEG segmentation (load it as a label, not an image)",
    "1.2.840.10008.5.1.4.1.1.11.1": "presentation state (not an image)",
    "1.2.840.10008.5.1.4.1.1.104.1": "encapsulated PDF (not an image)",
    "1.2.840.10008.5.1.4.1.1.9.1.1": "ECG waveform (not an image)",
    "1.2.840.10008.5.1.4.1.1.9.1.2": "ECG waveform (not an image)",
    "1.2.840.10008.5.1.4.1.1.9.1.3": "ECG waveform (not an image)",
    "1.2.840.10008.5.1.4.1.1.66": "raw data (not an image)",
    "1.2.840.10008.5.1.4.1.1.66.1": "spatial registration (not an image)",
    "1.2.840.10008.1.3.10": "DICOMDIR media index (not an image)",
}
_SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."  # every structured report class
_NOT_DICOM_SUFFIXES = (".txt", ".json", ".md", ".nii", ".gz", ".nrrd", ".mha", ".dump", ".icc")

COMPRESSED_SYNTAX_PREFIXES = ("1.2.840.10008.1.2.4.", "1.2.840.10008.1.2.5")
DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"


@dataclass
class Frame:
    """One 2D image plane: which file (and frame in it) and where it lies."""

    path: str
    frame_index: int | None  # None: the file's only frame
    position: np.ndarray | None  # ImagePositionPatient (LPS mm)
    orientation: np.ndarray | None  # ImageOrientationPatient, 6 values
    pixel_spacing: tuple[float, float] | None  # (row spacing, column spacing)
    slope: float
    intercept: float
    order_key: tuple  # temporal/instance ordering among frames at the same position
    sop_instance_uid: str = ""


@dataclass
class DicomHeader:
    """What the scan needs from one file."""

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    patient_id: str
    patient_name: str
    study_uid: str
    study_date: str
    study_description: str
    series_uid: str
    series_number: int | None
    series_description: str
    series_date: str
    modality: str
    frame_of_reference_uid: str
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    number_of_frames: int
    image_type: tuple[str, ...]
    slice_thickness: float | None
    spacing_between_slices: float | None
    file_size: int
    enhanced: bool = False
    mosaic: bool = False
    frames: list[Frame] = field(default_factory=list)
    mosaic_layout: MosaicLayout | None = None
    mosaic_shape: tuple[int, int] | None = None  # stored (rows, cols) of a mosaic
    # what tells apart series that share a description (the study browser shows them)
    series_time: str = ""
    acquisition_time: str = ""
    warnings: list[str] = field(default_factory=list)  # defaults guessed for missing values

    @property
    def compressed(self) -> bool:
        ts = self.transfer_syntax
        return ts.startswith(COMPRESSED_SYNTAX_PREFIXES) or ts == DEFLATED_SYNTAX

    @property
    def frame_bytes(self) -> int:
        samples = self.samples_per_pixel
        if self.photometric.startswith("YBR_FULL_422") and not self.compressed:
            samples = 2  # chroma subsampled: two samples per pixel on average
        rows, cols = self.mosaic_shape or (self.rows, self.columns)
        per_frame = rows * cols * samples * max(1, self.bits_allocated // 8)
        return per_frame // self.number_of_frames if self.mosaic_shape else per_frame


def read_dataset(path: str, stop_before_pixels: bool = True) -> pydicom.Dataset:
    """pydicom read that also accepts files without the 128-byte preamble/meta header."""
    with warnings.catch_warnings():
        # pydicom warns about every odd value; the skip list and errors carry what matters.
        warnings.simplefilter("ignore")
        return _read_dataset(path, stop_before_pixels)


_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_VRS = frozenset(
    b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
    b"UR US UT UV".split()
)


def _stopper(stop_before_pixels: bool):
    """pydicom stop condition: at the pixel data when asked, and at a zero tag, which no
    stored dataset holds: a file of zeros would otherwise be parsed 8 bytes at a time for
    minutes (20 GB of them took longer than anyone waits)."""

    def stop(tag, _vr, _length) -> bool:
        return tag == 0 or (stop_before_pixels and tag in _PIXEL_TAGS)

    return stop


def _plausible_start(head: bytes, size: int) -> bool:
    """Whether `head` (the file's first bytes, after any preamble) opens with a DICOM element:
    an even group 0002..7FE0 (either byte order) with a VR or a length the file can hold."""
    if len(head) < 8:
        return False
    for order in ("little", "big"):
        group = int.from_bytes(head[0:2], order)
        if 0x0002 <= group <= 0x7FE0 and group % 2 == 0:
            if head[4:6] in _VRS:
                return True
            if int.from_bytes(head[4:8], order) <= size:
                return True
    return False


def _sniff(path: str) -> bool:
    """True for a file that starts like DICOM: 'DICM' after the preamble, or a plausible first
    element (files without preamble); read without parsing, so huge files answer at once."""
    try:
        size = regular_file_size(path)
    except LoadError as e:
        raise NotAnImage(e.reason) from None
    try:
        with open(path, "rb") as f:
            head = f.read(140)
    except OSError as e:
        raise NotAnImage(f"cannot read file ({e.strerror or e})") from None
    if head[128:132] == b"DICM":
        return _plausible_start(head[132:], size)
    return _plausible_start(head, size)


def _dcmread(path: str, stop_before_pixels: bool, force: bool) -> pydicom.Dataset:
    with open(path, "rb") as f:
        return read_partial(f, _stopper(stop_before_pixels), force=force)


def _read_dataset(path: str, stop_before_pixels: bool) -> pydicom.Dataset:
    if not _sniff(path):
        raise NotAnImage("not a DICOM file")
    try:
        return _dcmread(path, stop_before_pixels, force=False)
    except InvalidDicomError:
        if path.lower().endswith(_NOT_DICOM_SUFFIXES):
            raise NotAnImage("not a DICOM file") from None
    except (OSError, EOFError) as e:
        raise NotAnImage(f"cannot read file ({e})") from None
    except Exception as e:  # pydicom raises many kinds of errors for broken data elements
        raise NotAnImage(f"unreadable DICOM ({type(e).__name__}: {_one_line(e)})") from None
    try:
        ds = _dcmread(path, stop_before_pixels, force=True)
    except Exception as e:
        raise NotAnImage(f"not a DICOM file ({type(e).__name__})") from None
    try:
        ok = "SOPClassUID" in ds or "Rows" in ds
    except Exception:
        ok = False
    if not ok:
        raise NotAnImage("not a DICOM file")
    return ds


def _one_line(e: Exception) -> str:
    lines = [t.strip() for t in str(e).splitlines() if t.strip()]
    return (lines[-1] if lines else "")[:200]


def read_header(path: str) -> DicomHeader:
    """Header of one DICOM file; raises NotAnImage with a reason for anything not loadable."""
    ds = read_dataset(path, stop_before_pixels=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd values are read leniently on access
            return header_from_dataset(ds, path)
    except NotAnImage:
        raise
    except Exception as e:  # malformed values (bad DS/IS strings, wrong VR, ...)
        raise NotAnImage(f"unreadable DICOM header ({type(e).__name__}: {e})") from None


def _uid(ds: pydicom.Dataset, key: str, meta_key: str) -> str:
    """A UID from the dataset, or from the file meta header when de-identification blanked it."""
    value = str(ds.get(key, "") or "").strip()
    if value:
        return value
    meta = getattr(ds, "file_meta", None)
    return str(meta.get(meta_key, "") or "").strip() if meta is not None else ""


def header_from_dataset(ds: pydicom.Dataset, path: str) -> DicomHeader:
    """The header of the image file `path` whose dataset (no pixels needed) is `ds`.

    Raises NotAnImage, with the reason the scan shows, for objects that hold no image and for
    headers that cannot be right (an empty image, more frames than the file can hold).
    """
    sop_class = _uid(ds, "SOPClassUID", "MediaStorageSOPClassUID")
    _refuse_non_images(ds, sop_class)
    image_type = tuple(str(v).upper() for v in _as_list(ds.get("ImageType", [])))
    h = DicomHeader(
        path=path,
        sop_class_uid=sop_class,
        sop_instance_uid=_uid(ds, "SOPInstanceUID", "MediaStorageSOPInstanceUID"),
        transfer_syntax=_transfer_syntax(ds),
        **_patient_study_series(ds),
        **_pixel_format(ds),
        image_type=image_type,
        slice_thickness=_float(ds.get("SliceThickness")),
        spacing_between_slices=_float(ds.get("SpacingBetweenSlices")),
        file_size=os.path.getsize(path),
        enhanced="PerFrameFunctionalGroupsSequence" in ds,
        mosaic="MOSAIC" in image_type,
        series_time=str(ds.get("SeriesTime", "") or ""),
        acquisition_time=str(ds.get("AcquisitionTime", "") or ""),
    )
    if h.rows <= 0 or h.columns <= 0:
        raise NotAnImage(f"header claims an empty image ({h.rows} x {h.columns})")

    h.warnings = header_warnings(ds)
    check_frame_count(
        h.number_of_frames,
        h.rows,
        h.columns,
        h.samples_per_pixel,
        h.bits_allocated,
        h.file_size,
        h.compressed,
    )
    h.frames = _enhanced_frames(ds, h) if h.enhanced else _classic_frames(ds, h)
    if h.mosaic and not h.enhanced and h.number_of_frames == 1:
        _unfold_mosaic(ds, h)
    return h


def _refuse_non_images(ds: pydicom.Dataset, sop_class: str) -> None:
    """NotAnImage, saying what the object is, for the DICOM objects that hold no image.

    Known classes are named; any other object without Rows/Columns has no pixels to show.
    """
    if sop_class in NON_IMAGE_SOP_CLASSES:
        raise NotAnImage(NON_IMAGE_SOP_CLASSES[sop_class])
    if sop_class.startswith(_SR_PREFIX):
        raise NotAnImage("structured report (not an image)")
    if "Rows" not in ds or "Columns" not in ds:
        raise NotAnImage("no pixel data (not an image object)")


def _transfer_syntax(ds: pydicom.Dataset) -> str:
    """The file's transfer syntax UID; a file without a meta header is implicit VR little
    endian, the DICOM default."""
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    return ts or "1.2.840.10008.1.2"


def _patient_study_series(ds: pydicom.Dataset) -> dict:
    """The DicomHeader fields that group files: patient, study, series, modality, frame of
    reference. UIDs are stripped: some writers pad them with spaces."""
    return {
        "patient_id": str(ds.get("PatientID", "")),
        "patient_name": str(ds.get("PatientName", "")),
        "study_uid": str(ds.get("StudyInstanceUID", "") or "").strip(),
        "study_date": str(ds.get("StudyDate", "")),
        "study_description": str(ds.get("StudyDescription", "")),
        "series_uid": str(ds.get("SeriesInstanceUID", "") or "").strip(),
        "series_number": _int(ds.get("SeriesNumber")),
        "series_description": str(ds.get("SeriesDescription", "")),
        "series_date": str(ds.get("SeriesDate", "")),
        "modality": str(ds.get("Modality", "")),
        "frame_of_reference_uid": str(ds.get("FrameOfReferenceUID", "")),
    }


def _pixel_format(ds: pydicom.Dataset) -> dict:
    """The DicomHeader fields that say how the pixels are stored: size, samples, bits, sign,
    photometric interpretation and frame count, with the standard's defaults when absent
    (header_warnings reports a guessed BitsAllocated or PhotometricInterpretation)."""
    return {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1) or 1),
        "bits_allocated": int(ds.get("BitsAllocated", 16) or 16),
        "bits_stored": int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16),
        "pixel_representation": int(ds.get("PixelRepresentation", 0) or 0),
        "photometric": str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper(),
        "number_of_frames": max(1, _int(ds.get("NumberOfFrames")) or 1),
    }


def _unfold_mosaic(ds: pydicom.Dataset, h: DicomHeader) -> None:
    """Turn a Siemens mosaic's single frame into one frame per tile, stacked on the normal."""
    f = h.frames[0]
    layout = mosaic_layout(ds, h.rows, h.columns)
    if layout is None or f.orientation is None or f.position is None:
        h.mosaic = False  # not unpackable: shown as the stored 2D image
        return
    spacing = f.pixel_spacing or (1.0, 1.0)
    normal = layout.normal
    if normal is None:
        normal = np.cross(f.orientation[:3], f.orientation[3:])
    origin = corrected_origin(f.position, f.orientation, spacing, h.rows, h.columns, layout)
    dz = h.spacing_between_slices or h.slice_thickness or 1.0
    h.mosaic_layout = layout
    h.mosaic_shape = (h.rows, h.columns)
    h.rows, h.columns = layout.tile_rows, layout.tile_cols
    h.number_of_frames = layout.n
    h.frames = [
        Frame(
            h.path,
            k,
            origin + normal * dz * (layout.n - 1 - k if layout.reversed else k),
            f.orientation,
            f.pixel_spacing,
            f.slope,
            f.intercept,
            f.order_key,
            h.sop_instance_uid,
        )
        for k in range(layout.n)
    ]


def _classic_frames(ds: pydicom.Dataset, h: DicomHeader) -> list[Frame]:
    position = _vector(ds.get("ImagePositionPatient"), 3)
    orientation = _vector(ds.get("ImageOrientationPatient"), 6)
    spacing = _spacing(ds.get("PixelSpacing")) or _spacing(ds.get("ImagerPixelSpacing"))
    slope = _float(ds.get("RescaleSlope")) or 1.0
    intercept = _float(ds.get("RescaleIntercept")) or 0.0
    order = (
        _int(ds.get("TemporalPositionIdentifier")) or 0,
        _int(ds.get("AcquisitionNumber")) or 0,
        _int(ds.get("InstanceNumber")) or 0,
    )
    if h.number_of_frames == 1:
        return [
            Frame(
                h.path,
                None,
                position,
                orientation,
                spacing,
                slope,
                intercept,
                order,
                h.sop_instance_uid,
            )
        ]
    # Multi-frame without functional groups (RT dose, US cine, NM): frames along the normal
    # at GridFrameOffsetVector when given, else stacked 1 mm apart.
    offsets = _vector(ds.get("GridFrameOffsetVector"), h.number_of_frames)
    frames = []
    normal = None
    if orientation is not None:
        normal = np.cross(orientation[:3], orientation[3:])
    for i in range(h.number_of_frames):
        pos = None
        if position is not None and normal is not None and offsets is not None:
            pos = position + normal * offsets[i]
        frames.append(
            Frame(h.path, i, pos, orientation, spacing, slope, intercept, (i,), h.sop_instance_uid)
        )
    return frames


def _enhanced_frames(ds: pydicom.Dataset, h: DicomHeader) -> list[Frame]:
    shared = ds.get("SharedFunctionalGroupsSequence")
    shared = shared[0] if shared else pydicom.Dataset()
    per_frame = ds.PerFrameFunctionalGroupsSequence
    frames = []
    for i, item in enumerate(per_frame):
        if i >= h.number_of_frames:
            break
        position = _vector(
            _group_value(item, shared, "PlanePositionSequence", "ImagePositionPatient"), 3
        )
        orientation = _vector(
            _group_value(item, shared, "PlaneOrientationSequence", "ImageOrientationPatient"), 6
        )
        spacing = _spacing(_group_value(item, shared, "PixelMeasuresSequence", "PixelSpacing"))
        slope = (
            _float(_group_value(item, shared, "PixelValueTransformationSequence", "RescaleSlope"))
            or _float(ds.get("RescaleSlope"))
            or 1.0
        )
        intercept = _float(
            _group_value(item, shared, "PixelValueTransformationSequence", "RescaleIntercept")
        )
        if intercept is None:
            intercept = _float(ds.get("RescaleIntercept")) or 0.0
        content = item.get("FrameContentSequence")
        content = content[0] if content else pydicom.Dataset()
        order = (
            _int(content.get("TemporalPositionIndex")) or 0,
            _int(content.get("StackID")) or 0,
            i,
        )
        frames.append(
            Frame(
                h.path,
                i,
                position,
                orientation,
                spacing,
                slope,
                intercept,
                order,
                h.sop_instance_uid,
            )
        )
        if h.slice_thickness is None:
            h.slice_thickness = _float(
                _group_value(item, shared, "PixelMeasuresSequence", "SliceThickness")
            )
            h.spacing_between_slices = _float(
                _group_value(item, shared, "PixelMeasuresSequence", "SpacingBetweenSlices")
            )
    if not frames:
        raise NotAnImage("enhanced multi-frame file has no per-frame information")
    return frames


def _group_value(item, shared, sequence: str, keyword: str):
    for source in (item, shared):
        seq = source.get(sequence)
        if seq and keyword in seq[0]:
            return seq[0].get(keyword)
    return None


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _vector(value, n: int) -> np.ndarray | None:
    values = _as_list(value)
    if len(values) != n:
        return None
    try:
        arr = np.array([float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if np.all(np.isfinite(arr)) else None


def _spacing(value) -> tuple[float, float] | None:
    v = _vector(value, 2)
    if v is None or np.any(v <= 0):
        return None
    return float(v[0]), float(v[1])


def _float(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
