"""The values of measurements: distances and angles in world millimetres/degrees (through the
true geometry, so anisotropic spacing and oblique directions are measured correctly), and ROI
statistics over the image voxels of one slice.

An ROI is the rectangle (or the ellipse inscribed in the rectangle) whose opposite corners are
the measurement's two points, in the view it was drawn in; the voxels inside are those whose
centres lie inside it on the slice nearest to the points. Area is that voxel count times the
in-plane pixel area (mm²), so mean, std and area describe the same voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.model.display_frame import DisplayFrame, view_axes
from viewer.model.geometry import Geometry
from viewer.model.measurements import Measurement

_EPS = 1e-6  # voxel centres on the ROI's edge (within rounding) count as inside


@dataclass(frozen=True)
class RoiStats:
    voxels: int
    area_mm2: float
    mean: float | None  # None when there are no voxels or the image is RGB
    std: float | None


def distance_mm(p0, p1) -> float:
    """Euclidean distance between two LPS world points (mm)."""
    return float(np.linalg.norm(np.asarray(p1, dtype=float) - np.asarray(p0, dtype=float)))


def angle_deg(a, vertex, b) -> float:
    """The angle a-vertex-b in degrees (0..180); 0 when an arm has no length."""
    u = np.asarray(a, dtype=float) - np.asarray(vertex, dtype=float)
    v = np.asarray(b, dtype=float) - np.asarray(vertex, dtype=float)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    c = float(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))
    return float(np.degrees(np.arccos(c)))


def measurement_slice(m: Measurement, frame: DisplayFrame) -> float:
    """The continuous slice coordinate of `m` in its view (its first point's)."""
    return float(frame.world_to_view(m.points[0], m.view)[0])


def roi_mask(m: Measurement, frame: DisplayFrame) -> tuple[int, np.ndarray] | None:
    """(slice index, boolean mask of the view's 2D image) of the voxels inside ROI `m`, or None
    when its slice is outside the image. Computed in the radiological layout; a left-right
    flip maps the ROI onto itself, so the voxels are the same in either convention."""
    v = frame.world_to_view(m.points_array(), m.view, True)
    n = frame.slice_count(m.view)
    s = int(np.rint(v[:, 0].mean()))
    if not 0 <= s < n:
        return None
    va = view_axes(m.view)
    nr, nc = frame.shape[va.row], frame.shape[va.col]
    r0, r1 = sorted(v[:, 1])
    c0, c1 = sorted(v[:, 2])
    rows = np.arange(nr, dtype=float)[:, None]
    cols = np.arange(nc, dtype=float)[None, :]
    if m.kind == "rectangle":
        mask = (rows >= r0 - _EPS) & (rows <= r1 + _EPS) & (cols >= c0 - _EPS) & (cols <= c1 + _EPS)
    elif m.kind == "ellipse":
        rc, cc = (r0 + r1) / 2.0, (c0 + c1) / 2.0
        ry, rx = max((r1 - r0) / 2.0, _EPS), max((c1 - c0) / 2.0, _EPS)
        mask = ((rows - rc) / ry) ** 2 + ((cols - cc) / rx) ** 2 <= 1.0 + _EPS
    else:
        raise ValueError(f"{m.kind} is not an ROI")
    return s, mask


def roi_stats(m: Measurement, volume_array: np.ndarray, geometry: Geometry) -> RoiStats:
    """Voxel count, area (mm²), mean and standard deviation (population, as numpy's default)
    of the image values inside ROI `m`."""
    frame = DisplayFrame.from_geometry(geometry)
    found = roi_mask(m, frame)
    if found is None:
        return RoiStats(0, 0.0, None, None)
    s, mask = found
    rs, cs = frame.pixel_spacing(m.view)
    count = int(mask.sum())
    if count == 0 or volume_array.ndim != 3:
        return RoiStats(count, count * rs * cs, None, None)
    values = frame.view_stack(volume_array, m.view)[s][mask].astype(np.float64)
    return RoiStats(count, count * rs * cs, float(values.mean()), float(values.std()))


def measurement_value(m: Measurement, volume_array: np.ndarray, geometry: Geometry):
    """The number(s) a measurement stands for: mm (ruler), degrees (angle), RoiStats (ROI)."""
    if m.kind == "ruler":
        return distance_mm(*m.points)
    if m.kind == "angle":
        return angle_deg(*m.points)
    return roi_stats(m, volume_array, geometry)


def _num(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"


def value_text(m: Measurement, value, unit: str = "") -> str:
    """Short text for the value: "12.3 mm", "90.0°", "mean 40.0 ± 2.1 HU, 123.4 mm² (96 vx)"."""
    if m.kind == "ruler":
        return f"{value:.1f} mm" if value >= 10 else f"{value:.2f} mm"
    if m.kind == "angle":
        return f"{value:.1f}°"
    u = f" {unit}" if unit else ""
    if value.mean is None:
        return f"{value.area_mm2:.1f} mm² ({value.voxels} vx)"
    return (
        f"mean {_num(value.mean)} ± {_num(value.std)}{u}, "
        f"{value.area_mm2:.1f} mm² ({value.voxels} vx)"
    )
