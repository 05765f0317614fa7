"""DICOM SEG import: put the segments of a SEG object (highdicom, dcmqi, Slicer...) onto an image
grid, keeping overlapping segments apart in layers.

Frames are placed by their Plane Position / Orientation and Pixel Spacing, not by UID, so a SEG
lands on any grid in the same frame of reference; frames that do not fall on voxel centres are
placed on the nearest voxel and `DicomSegImport.how` says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.pixels import iter_pixels

from viewer.errors import GeometryError, LoadError
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.segments import SegmentTable, default_colour

SEG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation Storage
    "1.2.840.10008.5.1.4.1.1.66.7",  # Label Map Segmentation Storage
}
_TOL = 1e-2  # voxels
MAX_ID = 65535  # segment ids are label values (uint16)


class SegPlacement(str, Enum):
    """Where a SEG's frames fell on the image grid."""

    ON_VOXEL_CENTRES = "on voxel centres"
    NEAREST_VOXEL = "nearest voxel"  # off the centres by more than the tolerance: snapped


@dataclass
class DicomSegImport:
    layers: LabelLayers
    how: SegPlacement
    referenced_series_uids: list[str]
    frame_of_reference_uid: str
    notes: list[str] = field(default_factory=list)


def read_dicom_seg(
    path: str | Path,
    geometry: Geometry,
    table: SegmentTable | None = None,
    series_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
) -> DicomSegImport:
    """Read the SEG at `path` onto `geometry`.

    Segment ids: our own export's `RadLabel label N` tracking id, else the id of the `table`
    segment with the same name, else the segment number. With `series_uid`, a SEG that
    references another series is reported in `notes` (its frames are still placed by position).
    With `frame_of_reference_uid` (the image's), a SEG in another frame of reference is refused
    with a GeometryError: its coordinates mean nothing on this image.
    """
    p = Path(path)
    ds = _read(p)
    try:
        seg_for = _check_frame_of_reference(ds, frame_of_reference_uid, p)
        segments, by_number = _segments(ds, table, p)
        placed = _place_frames(ds, p, geometry, list(by_number))
    except LoadError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, OverflowError) as e:
        # a tag missing or of the wrong kind, found deep in pydicom/highdicom
        raise LoadError(f"damaged DICOM SEG header ({type(e).__name__}: {e})", p) from None
    if not any(m.any() for m in placed.masks.values()) and placed.outside:
        raise GeometryError(
            "the SEG frames lie outside the image grid (is it the segmentation of another series?)",
            str(p),
        )
    layers = LabelLayers(geometry, [], [])
    for number, seg in by_number.items():
        layers.add_mask(seg, placed.masks.pop(number))
    notes = []
    if placed.outside:
        notes.append(f"{placed.outside} segment pixels lie outside the image and were dropped")
    refs = _referenced_series(ds)
    if series_uid and refs and series_uid not in refs:
        notes.append(f"the SEG references series {refs}, not the open series {series_uid}")
    how = SegPlacement.NEAREST_VOXEL if placed.off_grid else SegPlacement.ON_VOXEL_CENTRES
    return DicomSegImport(layers, how, refs, seg_for, notes)


def _check_frame_of_reference(ds: pydicom.Dataset, image_for: str | None, p: Path) -> str:
    """The SEG's frame of reference UID ('' if absent); GeometryError if it is not the image's.

    Frames are placed by patient coordinates, which only mean something within one frame of
    reference; a SEG without the UID, or an image without one, is given the benefit of the doubt.
    """
    seg_for = str(ds.get("FrameOfReferenceUID", ""))
    if image_for and seg_for and seg_for != image_for:
        raise GeometryError(
            f"the DICOM SEG belongs to another frame of reference ({seg_for}, image "
            f"{image_for}): another scan or patient position, so its coordinates "
            "do not apply to this image",
            str(p),
        )
    return seg_for


@dataclass
class _PlacedFrames:
    """The SEG's pixels on the image grid: one mask per segment number, and what did not fit."""

    masks: dict[int, np.ndarray]
    off_grid: int = 0  # frames whose pixels missed voxel centres by more than _TOL
    outside: int = 0  # segment pixels that fell outside the image


def _place_frames(
    ds: pydicom.Dataset, p: Path, geometry: Geometry, numbers: list[int]
) -> _PlacedFrames:
    """Put every frame's segment pixels onto `geometry` by the frame's position and orientation."""
    groups = _frame_groups(ds, p)
    seg_type = str(ds.get("SegmentationType", "BINARY")).upper()
    threshold = _pixel_threshold(ds, seg_type)
    placed = _PlacedFrames({n: np.zeros(geometry.shape_zyx, dtype=bool) for n in numbers})
    for i, frame in enumerate(_frames(ds, p)):
        if i >= len(groups):
            raise LoadError(f"SEG pixel data holds more than {len(groups)} frames", p)
        number, ipp, iop, spacing = groups[i]
        for value, (rows, cols) in _frame_hits(frame, i, number, seg_type, threshold, placed, p):
            if rows.size == 0:
                continue
            voxels, off_grid, outside = _to_voxels(rows, cols, ipp, iop, spacing, geometry)
            placed.off_grid += off_grid
            placed.outside += outside
            placed.masks[value][voxels[:, 0], voxels[:, 1], voxels[:, 2]] = True
    return placed


def _pixel_threshold(ds: pydicom.Dataset, seg_type: str) -> int:
    """The smallest pixel value that counts as 'in the segment'.

    A FRACTIONAL SEG stores probabilities or occupancy up to MaximumFractionalValue: a pixel is
    in when it is over half; BINARY (and LABELMAP) pixels are in from 1.
    """
    if seg_type != "FRACTIONAL":
        return 1
    return max(1, int(ds.get("MaximumFractionalValue", 255)) // 2 + 1)


def _frame_hits(
    frame: np.ndarray,
    i: int,
    number: int,
    seg_type: str,
    threshold: int,
    placed: _PlacedFrames,
    p: Path,
) -> list[tuple[int, tuple[np.ndarray, np.ndarray]]]:
    """(segment number, (rows, cols)) of the pixels frame `i` puts in each segment.

    A LABELMAP frame holds several segments by value (unknown values are ignored); a BINARY or
    FRACTIONAL frame belongs to the one segment its functional group names.
    """
    if seg_type == "LABELMAP":
        values = [int(v) for v in np.unique(frame) if v and int(v) in placed.masks]
        return [(v, np.nonzero(frame == v)) for v in values]
    if number not in placed.masks:
        raise LoadError(f"frame {i + 1} refers to undefined segment {number}", p)
    return [(number, np.nonzero(frame >= threshold))]


def _to_voxels(
    rows: np.ndarray,
    cols: np.ndarray,
    ipp: np.ndarray,
    iop: np.ndarray,
    spacing,
    geometry: Geometry,
) -> tuple[np.ndarray, int, int]:
    """The (z, y, x) voxels inside `geometry` that frame pixels (rows, cols) land on.

    Also returns 1 if the pixels missed voxel centres by more than _TOL (they are snapped to
    the nearest voxel), else 0, and how many pixels fell outside the image.
    """
    world = (
        ipp
        + np.outer(cols * spacing[1], iop[:3])  # columns step along the row direction
        + np.outer(rows * spacing[0], iop[3:])
    )
    idx = geometry.world_to_index(world)
    rounded = np.rint(idx).astype(np.int64)
    off_grid = int(bool(np.any(np.abs(idx - rounded) > _TOL)))
    inside = np.all((rounded >= 0) & (rounded < np.array(geometry.shape_zyx)), axis=1)
    return rounded[inside], off_grid, int(np.count_nonzero(~inside))


def _read(p: Path) -> pydicom.Dataset:
    if not p.exists():
        raise LoadError("file not found", p)
    try:
        ds = pydicom.dcmread(str(p))
    except (pydicom.errors.InvalidDicomError, OSError, ValueError) as e:
        raise LoadError(f"not a readable DICOM file ({e})", p) from e
    if str(ds.get("SOPClassUID", "")) not in SEG_SOP_CLASSES:
        modality = ds.get("Modality", "?")
        raise LoadError(f"not a DICOM SEG object (modality {modality})", p)
    if "SegmentSequence" not in ds or "PixelData" not in ds:
        raise LoadError("DICOM SEG has no segments or no pixel data", p)
    return ds


def _segments(
    ds: pydicom.Dataset, table: SegmentTable | None, p: Path
) -> tuple[list[SegmentInfo], dict[int, SegmentInfo]]:
    names = {s.name.lower(): s.id for s in table} if table is not None else {}
    by_number: dict[int, SegmentInfo] = {}
    used: set[int] = set()
    for item in ds.SegmentSequence:
        number = int(item.SegmentNumber)
        name = str(item.get("SegmentLabel", "") or f"Segment {number}")
        sid = None
        tracking = str(item.get("TrackingID", ""))
        tail = tracking.rsplit(" ", 1)[-1]
        if tracking.startswith("RadLabel label ") and tail.isdigit() and 1 <= int(tail) <= MAX_ID:
            sid = int(tail)
        elif name.lower() in names:
            sid = names[name.lower()]
        if sid is None or sid in used:
            sid = number if number not in used else max(used | {0}) + 1
        if not 1 <= sid <= MAX_ID:
            raise LoadError(f"segment number {number} is outside 1..{MAX_ID}", p)
        used.add(sid)
        colour = default_colour(sid)
        if "RecommendedDisplayCIELabValue" in item:
            lab = hd.color.CIELabColor.from_dicom_value(
                [int(v) for v in item.RecommendedDisplayCIELabValue]
            )
            colour = tuple(int(c) for c in lab.to_rgb(clip=True))
        by_number[number] = SegmentInfo(sid, name, colour)  # type: ignore[arg-type]
    return list(by_number.values()), by_number


def _frames(ds: pydicom.Dataset, p: Path) -> Iterator[np.ndarray]:
    """Decoded frames one at a time (a whole SEG can be hundreds of MB once unpacked)."""
    try:
        yield from iter_pixels(ds)
    except Exception as e:  # pydicom raises many types for bad pixel data
        raise LoadError(f"cannot decode the SEG pixel data ({e})", p) from e


def _frame_groups(ds: pydicom.Dataset, p: Path) -> list[tuple[int, np.ndarray, np.ndarray, tuple]]:
    """Per frame: (segment number, position, orientation, (row, column) spacing)."""
    shared = (
        ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    )
    per_frame = ds.get("PerFrameFunctionalGroupsSequence", [])
    n = int(ds.get("NumberOfFrames", 1) or 1)
    if len(per_frame) != n:
        raise LoadError(f"SEG has {n} frames but {len(per_frame)} per-frame descriptions", p)

    def find(item, seq: str):
        for group in (item, shared):
            if group is not None and seq in group:
                return group[seq][0]
        return None

    out = []
    for i, item in enumerate(per_frame):
        pos, ori = find(item, "PlanePositionSequence"), find(item, "PlaneOrientationSequence")
        meas, ident = (
            find(item, "PixelMeasuresSequence"),
            find(item, "SegmentIdentificationSequence"),
        )
        if pos is None or ori is None or meas is None:
            raise LoadError(f"frame {i + 1} has no plane position, orientation or spacing", p)
        number = int(ident.ReferencedSegmentNumber) if ident is not None else 0
        out.append(
            (
                number,
                np.array([float(v) for v in pos.ImagePositionPatient]),
                np.array([float(v) for v in ori.ImageOrientationPatient]),
                tuple(float(v) for v in meas.PixelSpacing),
            )
        )
    return out


def _referenced_series(ds: pydicom.Dataset) -> list[str]:
    return [
        str(item.SeriesInstanceUID)
        for item in ds.get("ReferencedSeriesSequence", [])
        if "SeriesInstanceUID" in item
    ]
