"""Scans a folder (recursively) of DICOM files into patients / studies / series.

Only headers are read. Files that share a SeriesInstanceUID but differ in series number, image
size, pixel spacing, orientation or colour are split into separate loadable series (id
`UID:1`, `UID:2`, ...), so they are never stacked into one nonsense volume. Repeated slice
positions become time points (4D); everything skipped is listed with its reason.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from viewer.errors import LoadError
from viewer.io.dicom_headers import DicomHeader, Frame, NotAnImage, read_header
from viewer.io.dicom_regular import plan_grid
from viewer.model.geometry import Geometry

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

_POSITION_TOL_MM = 0.01


class LoadCancelled(LoadError):
    """The user cancelled a scan or load."""


@dataclass
class SkippedFile:
    path: str
    reason: str


@dataclass
class DicomSeries:
    """One loadable series: slices per time point, with the geometry computed from headers."""

    series_id: str  # SeriesInstanceUID (or a stand-in), plus ":k" when one UID held several
    series_uid: str  # the files' SeriesInstanceUID; "" when de-identification removed it
    headers: list[DicomHeader]
    slices: list[list[Frame]]  # [time point][slice], slices sorted along the normal
    geometry: Geometry
    warnings: list[str] = field(default_factory=list)
    split_note: str = ""
    # Set when the slices are not a regular stack (gap, uneven spacing, gantry tilt): the
    # loader resamples them onto `geometry` (see dicom_regular); the text is the user's note.
    regularised: str = ""

    @property
    def first(self) -> DicomHeader:
        return self.headers[0]

    @property
    def description(self) -> str:
        return self.first.series_description

    @property
    def modality(self) -> str:
        return self.first.modality

    @property
    def date(self) -> str:
        return self.first.series_date or self.first.study_date

    @property
    def series_number(self) -> int | None:
        return self.first.series_number

    @property
    def slice_count(self) -> int:
        return len(self.slices[0])

    @property
    def time_points(self) -> int:
        return len(self.slices)

    @property
    def files(self) -> list[str]:
        return sorted({h.path for h in self.headers})

    @property
    def thumbnail_file(self) -> str:
        """The file holding the middle slice of the first time point (for a preview)."""
        return self.slices[0][len(self.slices[0]) // 2].path

    @property
    def is_rgb(self) -> bool:
        return self.first.samples_per_pixel > 1

    def to_dict(self) -> dict:
        return {
            "series_id": self.series_id,
            "series_uid": self.series_uid or None,
            "series_number": self.series_number,
            "description": self.description,
            "modality": self.modality,
            "date": self.date,
            "slices": self.slice_count,
            "time_points": self.time_points,
            "files": len(self.files),
            "rgb": self.is_rgb,
            "geometry": self.geometry.to_dict(),
            "warnings": list(self.warnings),
        }


@dataclass
class DicomStudy:
    study_uid: str
    date: str
    description: str
    series: list[DicomSeries] = field(default_factory=list)


@dataclass
class DicomPatient:
    patient_id: str
    name: str
    studies: list[DicomStudy] = field(default_factory=list)


@dataclass
class DicomScan:
    root: str
    patients: list[DicomPatient] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def all_series(self) -> list[DicomSeries]:
        return [s for p in self.patients for st in p.studies for s in st.series]

    def find(self, series_id: str) -> DicomSeries:
        """The series with this id (or this SeriesInstanceUID if it names only one series)."""
        series = self.all_series()
        for s in series:
            if s.series_id == series_id:
                return s
        matches = [s for s in series if s.series_uid and s.series_uid == series_id]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(s.series_id for s in matches)
            raise LoadError(
                f"UID {series_id} holds several series; choose one of: {ids}", self.root
            )
        ids = ", ".join(s.series_id for s in series) or "none"
        raise LoadError(f"no series {series_id} here (series found: {ids})", self.root)


def list_files(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.startswith("."):
                out.append(os.path.join(dirpath, name))
    return out


def _within(folder: str, real: str) -> bool:
    try:
        return os.path.commonpath([folder, real]) == folder
    except ValueError:  # another drive
        return False


def scan_dicom_files(
    files: list[str],
    root: str,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> DicomScan:
    """Read the headers of `files` and group them; raises LoadError when nothing is loadable."""
    scan = DicomScan(root=root)
    headers: list[DicomHeader] = []
    n = len(files)
    inside = os.path.realpath(root) if os.path.isdir(root) else None
    for i, path in enumerate(files):
        if cancel is not None and cancel():
            raise LoadCancelled("scan cancelled", root)
        if inside is not None and not _within(inside, os.path.realpath(path)):
            # a folder's contents decide nothing outside it: a link out is not followed
            scan.skipped.append(SkippedFile(path, "a link to a file outside the folder"))
            continue
        try:
            headers.append(read_header(path))
        except NotAnImage as e:
            scan.skipped.append(SkippedFile(path, e.reason))
        if progress is not None and (i % 16 == 0 or i == n - 1):
            progress((i + 1) / max(n, 1), f"reading headers {i + 1}/{n}")
    _group(headers, scan)
    return scan


def _group(headers: list[DicomHeader], scan: DicomScan) -> None:
    by_uid: dict[str, list[DicomHeader]] = defaultdict(list)
    for h in headers:
        by_uid[h.series_uid or _stand_in_uid(h)].append(h)
    studies: dict[str, DicomStudy] = {}
    patients: dict[str, DicomPatient] = {}
    for key, group in by_uid.items():
        uid = group[0].series_uid  # "" for the stand-in groups: never invent a DICOM UID
        parts = _split_series(key, group)
        for k, (part_headers, note) in enumerate(parts, start=1):
            series_id = key if len(parts) == 1 else f"{key}:{k}"
            for series in _build_series(series_id, uid, part_headers, note, scan):
                first = series.first
                study = studies.get(first.study_uid)
                if study is None:
                    study = DicomStudy(first.study_uid, first.study_date, first.study_description)
                    studies[first.study_uid] = study
                    pkey = f"{first.patient_id}\x00{first.patient_name}"
                    patient = patients.get(pkey)
                    if patient is None:
                        patient = DicomPatient(first.patient_id, first.patient_name)
                        patients[pkey] = patient
                        scan.patients.append(patient)
                    patient.studies.append(study)
                study.series.append(series)
    for p in scan.patients:
        for st in p.studies:
            st.series.sort(key=lambda s: (s.series_number or 0, s.series_id))


def _stand_in_uid(h: DicomHeader) -> str:
    """An id for files without a SeriesInstanceUID (anonymised): from what a series shares."""
    key = "|".join(
        str(v)
        for v in (
            h.study_uid,
            h.frame_of_reference_uid,
            h.modality,
            h.series_number,
            h.series_description,
            h.patient_id,
        )
    )
    return "series-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def _split_series(uid: str, headers: list[DicomHeader]) -> list[tuple[list[DicomHeader], str]]:
    """Split one UID's files by everything that must be equal within one volume."""
    groups: dict[tuple, list[DicomHeader]] = defaultdict(list)
    for h in headers:
        f = h.frames[0]
        orient = None if f.orientation is None else tuple(np.round(f.orientation, 3))
        spacing = None if f.pixel_spacing is None else tuple(np.round(f.pixel_spacing, 4))
        # Each multi-frame file is its own volume; classic files group by shared properties.
        multi = h.path if h.number_of_frames > 1 and h.mosaic_shape is None else ""
        key = (
            h.series_number,
            h.rows,
            h.columns,
            h.samples_per_pixel,
            h.photometric[:4],
            orient,
            spacing,
            multi,
        )
        groups[key].append(h)
    if len(groups) == 1:
        return [(headers, "")]
    keys = sorted(groups, key=lambda k: (k[0] or 0, str(k)))
    note = (
        f"SeriesInstanceUID {uid} holds files that differ in series number, size, "
        f"spacing or orientation: split into {len(keys)} series"
    )
    return [(groups[k], note) for k in keys]


def _build_series(
    series_id: str, uid: str, headers: list[DicomHeader], note: str, scan: DicomScan
) -> list[DicomSeries]:
    frames = [f for h in headers for f in h.frames]
    warnings: list[str] = []
    orientation = frames[0].orientation
    usable = orientation is not None and all(f.position is not None for f in frames)
    if usable:
        row, col = orientation[:3], orientation[3:]
        normal = np.cross(row, col)
        if np.linalg.norm(normal) < 1e-6:
            usable = False
    if not usable:
        # No usable positions: keep the file/frame order (instance numbers) as slices.
        frames.sort(key=lambda f: (f.order_key, f.path))
        if len(frames) > 1:
            warnings.append(
                "no slice positions in the headers: slices ordered by instance "
                "number, slice spacing unknown"
            )
        return [_make_series(series_id, uid, headers, [frames], None, warnings, note)]
    normal = normal / np.linalg.norm(normal)
    dist = np.array([float(np.dot(f.position, normal)) for f in frames])
    order = np.argsort(dist, kind="stable")
    positions: list[list[int]] = []  # frame indices per distinct position, ascending
    last = None
    for idx in order:
        if last is None or abs(dist[idx] - last) > _POSITION_TOL_MM:
            positions.append([])
            last = dist[idx]
        positions[-1].append(int(idx))
    counts = {len(p) for p in positions}
    for p in positions:
        p.sort(key=lambda i: (frames[i].order_key, frames[i].path))
    duplicates = any(len({frames[i].order_key for i in p}) < len(p) for p in positions)
    if len(counts) == 1 and not duplicates:
        n_t = counts.pop()
        slices = [[frames[p[t]] for p in positions] for t in range(n_t)]
        return [_make_series(series_id, uid, headers, slices, normal, warnings, note)]
    # Unequal repeats (e.g. a re-acquired slice) or identical copies (same position and
    # instance number): the k-th repeat of each position forms its own series rather than a
    # 4D volume with holes or with copies as time points.
    out = []
    max_n = max(counts)
    why = "files repeat the same slices" if duplicates else "slice positions repeat unevenly"
    for k in range(max_n):
        sl = [frames[p[k]] for p in positions if len(p) > k]
        paths = {f.path for f in sl}
        hs = [h for h in headers if h.path in paths]
        w = warnings + [f"{why}: copy {k + 1} of {max_n}"]
        sid = f"{series_id}:r{k + 1}"
        out.append(_make_series(sid, uid, hs, [sl], normal, w, note))
    return out


def _make_series(series_id, uid, headers, slices, normal, warnings, note) -> DicomSeries:
    geometry, more, regularised = _geometry(headers[0], slices[0], normal)
    return DicomSeries(
        series_id, uid, headers, slices, geometry, warnings + more, note, regularised or ""
    )


def _geometry(
    h: DicomHeader, frames: list[Frame], normal
) -> tuple[Geometry, list[str], str | None]:
    """Spacing from positions along the slice normal (not SliceThickness), origin, direction;
    for slices that are not a regular stack, the regular grid they are resampled onto and the
    note saying so."""
    warnings: list[str] = []
    f0 = frames[0]
    ps = f0.pixel_spacing or (1.0, 1.0)
    if f0.pixel_spacing is None:
        warnings.append("no pixel spacing in the header: 1 mm assumed")
    direction = np.eye(3)
    origin = np.zeros(3)
    if (
        f0.orientation is not None
        and np.linalg.norm(np.cross(f0.orientation[:3], f0.orientation[3:])) > 1e-6
    ):
        row = f0.orientation[:3] / np.linalg.norm(f0.orientation[:3])
        col = f0.orientation[3:] / np.linalg.norm(f0.orientation[3:])
        n = np.cross(row, col) if normal is None else normal
        direction = np.column_stack([row, col, n / np.linalg.norm(n)])
        # Re-orthonormalise to absorb rounding in the header's cosines.
        u, _s, vt = np.linalg.svd(direction)
        direction = u @ vt
    if f0.position is not None:
        origin = np.asarray(f0.position, dtype=float)
    dz = h.spacing_between_slices or h.slice_thickness or 1.0
    if len(frames) > 1 and normal is not None:
        d = np.array([float(np.dot(f.position, normal)) for f in frames])
        dz = float(np.median(np.diff(d)))
        plan = plan_grid((h.rows, h.columns), ps, direction, [f.position for f in frames])
        if plan is not None:
            warnings.append(plan.note)
            return plan.geometry, warnings, plan.note
    geometry = Geometry(
        shape_zyx=(len(frames), h.rows, h.columns),
        spacing=(ps[1], ps[0], dz if dz > 0 else 1.0),
        origin=tuple(origin),
        direction=direction,
    )
    return geometry, warnings, None
