"""What tells apart DICOM series that share a description (a protocol repeated five times):
series number, acquisition time, slice count and in-plane size, plane orientation, modality.
The study browser shows these; they come from headers already read by the folder scan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# the normal's largest direction cosine above this (about 26 degrees off the axis) names the
# plane; MR planned a few degrees off the axis is still read as "axial" by radiologists
_PLANE_COSINE = 0.9
_PLANES = ("sagittal", "coronal", "axial")  # normal mostly along LPS x, y, z


@dataclass(frozen=True)
class SeriesSummary:
    number: int | None
    description: str
    modality: str
    time: str  # "HH:MM:SS" of the first acquisition, "" when the headers have none
    slices: int
    time_points: int
    rows: int
    columns: int
    plane: str  # axial / coronal / sagittal / oblique, "" without ImageOrientationPatient

    @property
    def size_text(self) -> str:
        """In-plane size as rows x columns, e.g. "256 x 232"."""
        return f"{self.rows} \u00d7 {self.columns}"


def plane_name(orientation) -> str:
    """Axial, coronal, sagittal or oblique from the 6 ImageOrientationPatient values."""
    if orientation is None or len(orientation) != 6:
        return ""
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row, col)
    length = float(np.linalg.norm(normal))
    if not np.isfinite(length) or length < 1e-6:
        return ""
    normal = np.abs(normal / length)
    axis = int(np.argmax(normal))
    return _PLANES[axis] if normal[axis] >= _PLANE_COSINE else "oblique"


def dicom_time(value: str) -> str:
    """DICOM TM ("HHMMSS.ffffff", "HHMM", "HH:MM:SS") as "HH:MM:SS" ("" when unreadable)."""
    text = (value or "").strip().replace(":", "").split(".")[0]
    if len(text) < 4 or not text.isdigit():
        return ""
    text = (text + "00")[:6]
    return f"{text[0:2]}:{text[2:4]}:{text[4:6]}"


def series_summary(series) -> SeriesSummary:
    """The summary of one `viewer.io.dicom_scan.DicomSeries`."""
    times = sorted(t for t in (dicom_time(h.acquisition_time) for h in series.headers) if t)
    first = series.first
    time = times[0] if times else dicom_time(first.series_time)
    frame = series.slices[0][0] if series.slices and series.slices[0] else None
    rows, cols = first.rows, first.columns  # a mosaic's: the tile size after unfolding
    return SeriesSummary(
        number=series.series_number,
        description=series.description,
        modality=series.modality,
        time=time,
        slices=series.slice_count,
        time_points=series.time_points,
        rows=rows,
        columns=cols,
        plane=plane_name(frame.orientation if frame is not None else None),
    )
