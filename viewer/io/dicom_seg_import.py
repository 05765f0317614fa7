"""DICOM SEG import: put the segments of a SEG object (highdicom, dcmqi, Slicer...) onto an image
grid, keeping overlapping segments apart in layers.

Frames are placed by their Plane Position / Orientation and Pixel Spacing, not by UID, so a SEG
lands on any grid in the same frame of reference. Where a SEG pixel fits within a voxel (the
image's own grid, or a finer one) it marks the voxel its centre falls in; frames that do not
fall on voxel centres are placed on the nearest voxel. A pixel that reaches past a voxel
(larger pixels, a wider slice spacing, or turned against the grid) paints every voxel whose
centre lies in its footprint: nearest-neighbour resampling, as for other label files.
`DicomSegImport.how` says which happened.

Reading the file safely (a Deflated one inflated against a bound) is `dicom_seg_read`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.multival import MultiValue
from pydicom.pixels import iter_pixels

from viewer.errors import GeometryError, LoadError
from viewer.io.dicom_seg_read import check_pixel_size, read_seg_dataset
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.segments import SegmentTable, default_colour

_TOL = 1e-2  # voxels
_TIE = 1e-6  # pixels: a voxel centre this close to a pixel border goes to the higher pixel
MAX_ID = 65535  # segment ids are label values (uint16)


class SegPlacement(str, Enum):
    """Where a SEG's frames fell on the image grid."""

    ON_VOXEL_CENTRES = "on voxel centres"
    NEAREST_VOXEL = "nearest voxel"  # off the centres by more than the tolerance: snapped
    RESAMPLED = "resampled"  # pixels reach past a voxel: nearest-neighbour resampling


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
    ds = read_seg_dataset(p)
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
    how = SegPlacement.ON_VOXEL_CENTRES
    if placed.resampled is not None:
        how = SegPlacement.RESAMPLED
        notes.append(_resampled_note(placed.resampled, geometry))
    elif placed.off_grid:
        how = SegPlacement.NEAREST_VOXEL
    if placed.outside:
        notes.append(f"{placed.outside} segment pixels lie outside the image and were dropped")
    refs = _referenced_series(ds)
    if series_uid and refs and series_uid not in refs:
        notes.append(f"the SEG references series {refs}, not the open series {series_uid}")
    return DicomSegImport(layers, how, refs, seg_for, notes)


def _resampled_note(frame: _Frame, geometry: Geometry) -> str:
    """What resampling a frame like `frame` onto `geometry` did, in words (the first note)."""
    row, col = frame.spacing
    across = f", slices {frame.slab:g} mm apart," if frame.slab > 0 else ""
    voxels = " x ".join(f"{s:g}" for s in geometry.spacing)
    return (
        f"SEG pixels of {col:g} x {row:g} mm{across} do not match the image's {voxels} mm "
        "voxels one to one: resampled with nearest neighbour (each voxel takes the SEG pixel "
        "its centre lies in)"
    )


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
class _Frame:
    """One SEG frame's plane: the segment it belongs to, its position, orientation (row then
    column direction cosines), (row, column) pixel spacing in mm, and `slab`: the slice spacing
    across the plane that its pixels stand for (0 when the SEG does not tell)."""

    number: int
    ipp: np.ndarray
    iop: np.ndarray
    spacing: tuple[float, float]
    slab: float = 0.0


@dataclass
class _PlacedFrames:
    """The SEG's pixels on the image grid: one mask per segment number, and what did not fit."""

    masks: dict[int, np.ndarray]
    off_grid: int = 0  # frames whose pixels missed voxel centres by more than _TOL
    outside: int = 0  # segment pixels that fell outside the image
    resampled: _Frame | None = None  # a frame with pixels larger than voxels, or turned


def _place_frames(
    ds: pydicom.Dataset, p: Path, geometry: Geometry, numbers: list[int]
) -> _PlacedFrames:
    """Put every frame's segment pixels onto `geometry` by the frame's position and orientation."""
    frames = _frame_groups(ds, p)
    seg_type = str(ds.get("SegmentationType", "BINARY")).upper()
    threshold = _pixel_threshold(ds, seg_type)
    check_pixel_size(ds, p)
    placed = _PlacedFrames({n: np.zeros(geometry.shape_zyx, dtype=bool) for n in numbers})
    for i, pixels in enumerate(_frames(ds, p)):
        if i >= len(frames):
            raise LoadError(f"SEG pixel data holds more than {len(frames)} frames", p)
        frame = frames[i]
        for value, hit in _frame_hits(pixels, i, frame.number, seg_type, threshold, placed, p):
            if not hit.any():
                continue
            voxels, resampled = _paint(hit, frame, geometry, placed)
            if resampled and placed.resampled is None:
                placed.resampled = frame
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
) -> list[tuple[int, np.ndarray]]:
    """(segment number, mask of its pixels) for each segment frame `i` holds.

    A LABELMAP frame holds several segments by value (unknown values are ignored); a BINARY or
    FRACTIONAL frame belongs to the one segment its functional group names.
    """
    if seg_type == "LABELMAP":
        values = [int(v) for v in np.unique(frame) if v and int(v) in placed.masks]
        return [(v, frame == v) for v in values]
    if number not in placed.masks:
        raise LoadError(f"frame {i + 1} refers to undefined segment {number}", p)
    return [(number, frame >= threshold)]


def _paint(
    hit: np.ndarray, frame: _Frame, geometry: Geometry, placed: _PlacedFrames
) -> tuple[np.ndarray, bool]:
    """The (z, y, x) voxels of `geometry` that the pixels `hit` of `frame` paint, and whether
    the frame was resampled.

    A pixel that fits within a voxel along every image axis (the SEG's own grid, or a finer
    one) marks the voxel its centre falls in, so a finer SEG loses no thin structure. A pixel
    that reaches past a voxel (larger pixels, a wider slice spacing, or turned against the
    grid) would leave the voxels between the centres empty: then each voxel takes the pixel
    its centre lies in (nearest neighbour, as other label files are resampled). Counts frames
    off the voxel centres and pixels dropped outside the image in `placed`.
    """
    rows, cols = np.nonzero(hit)
    centres, off_grid, inside = _to_voxels(rows, cols, frame, geometry)
    to_frame, to_index = _frame_transforms(frame, geometry)
    if _within_a_voxel(to_index):
        placed.off_grid += off_grid
        placed.outside += int(np.count_nonzero(~inside))
        return centres[inside], False
    covered, reached = _footprint_voxels(hit, to_frame, to_index, geometry)
    # a pixel whose centre is outside but whose footprint reaches in was placed, not dropped
    placed.outside += int(np.count_nonzero(~inside & ~reached[rows, cols]))
    return covered, True


def _to_voxels(
    rows: np.ndarray, cols: np.ndarray, frame: _Frame, geometry: Geometry
) -> tuple[np.ndarray, int, np.ndarray]:
    """The (z, y, x) voxels that the centres of frame pixels (rows, cols) fall in.

    Also returns 1 if the centres missed voxel centres by more than _TOL (they are snapped to
    the nearest voxel), else 0, and which of the voxels lie inside the image.
    """
    spacing, iop = frame.spacing, frame.iop
    world = (
        frame.ipp
        + np.outer(cols * spacing[1], iop[:3])  # columns step along the row direction
        + np.outer(rows * spacing[0], iop[3:])
    )
    idx = geometry.world_to_index(world)
    rounded = np.rint(idx).astype(np.int64)
    off_grid = int(bool(np.any(np.abs(idx - rounded) > _TOL)))
    inside = np.all((rounded >= 0) & (rounded < np.array(geometry.shape_zyx)), axis=1)
    return rounded, off_grid, inside


def _frame_transforms(frame: _Frame, geometry: Geometry) -> tuple[tuple, np.ndarray]:
    """The affine maps between image indices p = (z, y, x) and frame coordinates
    q = (row, column, slab): (A, b) with q = A p + b, and B = A^-1, the index step of one unit
    of each frame coordinate.

    A slab unit is `frame.slab` mm across the plane; a frame that does not tell its slab is
    taken as thick as the image's voxels across it, so it paints the nearest voxel layer.
    """
    row_dir, col_dir = frame.iop[:3], frame.iop[3:]
    normal = np.cross(row_dir, col_dir)
    normal = normal / np.linalg.norm(normal)
    to_world = (geometry.direction @ np.diag(geometry.spacing))[:, ::-1]  # columns z, y, x
    slab = frame.slab
    if slab <= 0:
        slab = 1.0 / float(np.max(np.abs(np.linalg.solve(to_world, normal))))
    frame_to_world = np.column_stack(
        [col_dir * frame.spacing[0], row_dir * frame.spacing[1], normal * slab]
    )
    a = np.linalg.solve(frame_to_world, to_world)
    b = np.linalg.solve(frame_to_world, np.asarray(geometry.origin) - frame.ipp)
    return (a, b), np.linalg.inv(a)


def _within_a_voxel(to_index: np.ndarray, tol: float = 1e-4) -> bool:
    """True when a frame's pixel (its spacing in-plane, its slab across) spans at most one
    voxel along each image axis: its footprint then holds no voxel centre but the one its own
    centre is nearest to (or none, for a finer SEG)."""
    return bool(np.all(np.abs(to_index).sum(axis=1) <= 1 + tol))


def _footprint_voxels(
    hit: np.ndarray, to_frame: tuple, to_index: np.ndarray, geometry: Geometry
) -> tuple[np.ndarray, np.ndarray]:
    """The (z, y, x) voxels whose centres lie in the footprint of a pixel in `hit`, and which
    pixels reached a voxel.

    Each voxel centre is taken back into the frame and given its nearest pixel and slab
    (ties to the higher one, so neighbouring pixels and slabs share no voxel). Only the voxels
    near the frame are visited: for each line of voxels along the image axis most across the
    frame, the few whose centres lie within the slab.
    """
    a, b = to_frame
    shape = np.array(geometry.shape_zyx)
    rows, cols = np.nonzero(hit)
    corners = np.array(
        [
            [r, c, t]
            for r in (rows.min() - 0.5, rows.max() + 0.5)
            for c in (cols.min() - 0.5, cols.max() + 0.5)
            for t in (-0.5, 0.5)
        ]
    )
    span = (corners - b) @ to_index.T
    lo = np.maximum(np.ceil(span.min(axis=0) - _TOL), 0).astype(np.int64)
    hi = np.minimum(np.floor(span.max(axis=0) + _TOL), shape - 1).astype(np.int64)
    reached = np.zeros(hit.shape, dtype=bool)
    if np.any(lo > hi):
        return np.empty((0, 3), dtype=np.int64), reached
    across = int(np.argmax(np.abs(a[2])))  # the image axis most across the frame
    j_axis, k_axis = (axis for axis in range(3) if axis != across)
    j, k = np.meshgrid(
        np.arange(lo[j_axis], hi[j_axis] + 1),
        np.arange(lo[k_axis], hi[k_axis] + 1),
        indexing="ij",
    )
    j, k = j.ravel(), k.ravel()
    q0 = a[:, j_axis, None] * j + a[:, k_axis, None] * k + b[:, None]  # frame coords at i = 0
    slope = a[2, across]
    ends = np.stack([(-0.5 - _TIE - q0[2]) / slope, (0.5 - _TIE - q0[2]) / slope])
    first = np.floor(ends.min(axis=0)).astype(np.int64)
    found = []
    for step in range(int(1.0 / abs(slope)) + 2):
        i = first + step
        q = q0 + a[:, across, None] * i
        ok = (i >= lo[across]) & (i <= hi[across])
        ok &= (q[2] >= -0.5 - _TIE) & (q[2] < 0.5 - _TIE)
        r = np.floor(q[0] + 0.5 + _TIE).astype(np.int64)
        c = np.floor(q[1] + 0.5 + _TIE).astype(np.int64)
        ok &= (r >= 0) & (r < hit.shape[0]) & (c >= 0) & (c < hit.shape[1])
        ok[ok] = hit[r[ok], c[ok]]
        reached[r[ok], c[ok]] = True
        voxel = np.empty((int(np.count_nonzero(ok)), 3), dtype=np.int64)
        voxel[:, across], voxel[:, j_axis], voxel[:, k_axis] = i[ok], j[ok], k[ok]
        found.append(voxel)
    return np.concatenate(found), reached


def _segments(
    ds: pydicom.Dataset, table: SegmentTable | None, p: Path
) -> tuple[list[SegmentInfo], dict[int, SegmentInfo]]:
    names = {s.name.lower(): s.id for s in table} if table is not None else {}
    by_number: dict[int, SegmentInfo] = {}
    used: set[int] = set()
    for item in ds.SegmentSequence:
        number = int(item.SegmentNumber)
        label = item.get("SegmentLabel", "")
        if isinstance(label, MultiValue):  # a backslash in a name split it into values
            label = "\\".join(str(v) for v in label)
        name = str(label or f"Segment {number}")
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
        if _bits_run_across_frames(ds):
            yield from _unpacked_bit_frames(ds)
        else:
            yield from iter_pixels(ds)
    except Exception as e:  # pydicom raises many types for bad pixel data
        raise LoadError(f"cannot decode the SEG pixel data ({e})", p) from e


def _bits_run_across_frames(ds: pydicom.Dataset) -> bool:
    """True for native 1-bit pixel data whose frames do not end on a byte: DICOM packs the bits
    of all frames as one run, and pydicom 3.0's frame-by-frame decoding cuts some frames that
    start inside a byte short (the second 6 x 5 frame: 'cannot reshape array of size 26')."""
    syntax = getattr(ds, "file_meta", pydicom.Dataset()).get("TransferSyntaxUID")
    if syntax is not None and syntax.is_compressed:
        return False
    return int(ds.get("BitsAllocated", 0) or 0) == 1 and (int(ds.Rows) * int(ds.Columns)) % 8 != 0


def _unpacked_bit_frames(ds: pydicom.Dataset) -> Iterator[np.ndarray]:
    """The frames of native 1-bit pixel data (bits in order from the least significant)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    n = rows * cols
    packed = np.frombuffer(ds.PixelData, dtype=np.uint8)
    for i in range(int(ds.get("NumberOfFrames", 1) or 1)):
        first, last = i * n, (i + 1) * n  # bits
        if (last + 7) // 8 > packed.size:
            raise ValueError(f"the pixel data ends within frame {i + 1}")
        bits = np.unpackbits(packed[first // 8 : (last + 7) // 8], bitorder="little")
        yield bits[first % 8 : first % 8 + n].reshape(rows, cols)


def _frame_groups(ds: pydicom.Dataset, p: Path) -> list[_Frame]:
    """Per frame: its segment number, position, orientation, pixel spacing and slab."""
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

    out, declared = [], []
    for i, item in enumerate(per_frame):
        pos, ori = find(item, "PlanePositionSequence"), find(item, "PlaneOrientationSequence")
        meas, ident = (
            find(item, "PixelMeasuresSequence"),
            find(item, "SegmentIdentificationSequence"),
        )
        if pos is None or ori is None or meas is None:
            raise LoadError(f"frame {i + 1} has no plane position, orientation or spacing", p)
        number = int(ident.ReferencedSegmentNumber) if ident is not None else 0
        iop = np.array([float(v) for v in ori.ImageOrientationPatient])
        if iop.shape != (6,) or np.linalg.norm(np.cross(iop[:3], iop[3:])) < 1e-3:
            raise LoadError(f"frame {i + 1} has no valid image orientation", p)
        out.append(
            _Frame(
                number,
                np.array([float(v) for v in pos.ImagePositionPatient]),
                iop,
                tuple(float(v) for v in meas.PixelSpacing),  # type: ignore[arg-type]
            )
        )
        declared.append(
            (
                abs(float(meas.get("SpacingBetweenSlices", 0) or 0)),
                abs(float(meas.get("SliceThickness", 0) or 0)),
            )
        )
    _set_slabs(out, declared)
    return out


def _set_slabs(frames: list[_Frame], declared: list[tuple[float, float]]) -> None:
    """Each frame's slab: the smallest distance between planes of its orientation, but no more
    than the Spacing Between Slices it declares, or without one its Slice Thickness (a SEG
    leaves the frames of empty slices out, so planes can lie several slices apart); the
    declared value when it has one plane; else 0 (unknown). The distance corrects a declared
    spacing that is too wide: a slab wider than the planes are apart would paint across its
    neighbours."""
    offsets: dict[tuple, list[float]] = {}
    for f in frames:
        normal = np.cross(f.iop[:3], f.iop[3:])
        key = tuple(np.round(f.iop, 3))
        offsets.setdefault(key, []).append(float(f.ipp @ normal / np.linalg.norm(normal)))
    gaps = {}
    for key, values in offsets.items():
        steps = np.diff(np.sort(values))
        steps = steps[steps > 1e-3]  # frames of other segments on the same plane
        if steps.size:
            gaps[key] = float(steps.min())
    for f, (between, thickness) in zip(frames, declared, strict=True):
        bound = between if between > 0 else thickness
        known = [v for v in (gaps.get(tuple(np.round(f.iop, 3)), 0.0), bound) if v > 0]
        f.slab = min(known) if known else 0.0


def _referenced_series(ds: pydicom.Dataset) -> list[str]:
    return [
        str(item.SeriesInstanceUID)
        for item in ds.get("ReferencedSeriesSequence", [])
        if "SeriesInstanceUID" in item
    ]
