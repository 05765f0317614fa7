"""Regular grids for DICOM series whose slices are not: uneven spacing, gaps, gantry tilt.

A volume needs one spacing along its normal and slices stacked along that normal. When the
slice positions say otherwise (a missing slice, variable spacing, a tilted gantry's sheared
stack), stacking them at one spacing would put voxels in the wrong place. Like 3D Slicer's
acquisition geometry regularisation, such a series is resampled in patient space onto an
orthogonal grid: its axes are the in-plane row and column directions and the slice normal, its
slice spacing the most common step (the finer on a tie; adjusted so that the first and the last
slice are grid planes), its in-plane extent the union of all slices. Values are linear along the normal
between the two nearest slices and bilinear within a slice; where a slice is hit exactly (an
untouched slice, a whole-pixel shift), its pixels are copied unchanged.

`plan_grid` (at scan time, headers only) says whether and onto which grid; `resample` (at load
time) moves the decoded slices onto it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from viewer.model.geometry import Geometry

_SNAP = 1e-4  # pixels or slice fractions closer than this to a whole number are exact
_MAX_GROWTH = 4  # the regular grid has at most this many times the stored slices


@dataclass(frozen=True)
class GridPlan:
    """The regular grid a series is resampled onto, and the note telling the user why."""

    geometry: Geometry
    note: str


def plan_grid(
    shape_rc: tuple[int, int],
    pixel_spacing: tuple[float, float],
    direction: np.ndarray,
    positions: list[np.ndarray],
) -> GridPlan | None:
    """The grid for slices of `shape_rc` (rows, cols) at these ImagePositionPatient values,
    sorted along the normal (`direction`'s third column); None when they already form a
    regular stack (even steps within 1 %, stacked along the normal)."""
    if len(positions) < 2:
        return None
    row, col, normal = direction[:, 0], direction[:, 1], direction[:, 2]
    sy, sx = pixel_spacing
    p0 = np.asarray(positions[0], dtype=float)
    rel = np.array([np.asarray(p, dtype=float) - p0 for p in positions])
    d = rel @ normal  # distance of each slice along the normal
    steps = np.diff(d)
    dz = float(np.median(steps))
    uneven = steps.max() - steps.min() > max(0.01 * dz, 0.01)
    # In-plane drift of each slice: more than 1 % of its distance (0.6 degrees) or a tenth of a
    # pixel, whichever is more (header rounding stays below both).
    drift = np.linalg.norm(rel - d[:, None] * normal, axis=1)
    tilted = bool((drift > np.maximum(0.01 * np.abs(d), 0.1 * min(sx, sy))).any())
    shift = rel[-1] - d[-1] * normal
    if not uneven and not tilted:
        return None
    n_z = max(1, int(round(d[-1] / _common_step(steps)))) + 1
    n_z = min(n_z, _MAX_GROWTH * len(positions))  # stray near-duplicate steps never explode it
    dz_new = d[-1] / (n_z - 1)
    # In-plane extent: every slice's pixels, in whole pixels of the first slice.
    ox, oy = rel @ row / sx, rel @ col / sy
    lo_x = int(np.ceil(-ox.min() - _SNAP)) if ox.min() < 0 else 0
    hi_x = int(np.ceil(ox.max() - _SNAP)) if ox.max() > 0 else 0
    lo_y = int(np.ceil(-oy.min() - _SNAP)) if oy.min() < 0 else 0
    hi_y = int(np.ceil(oy.max() - _SNAP)) if oy.max() > 0 else 0
    origin = p0 - lo_x * sx * row - lo_y * sy * col
    geometry = Geometry(
        (n_z, shape_rc[0] + lo_y + hi_y, shape_rc[1] + lo_x + hi_x),
        (sx, sy, dz_new),
        origin,
        direction,
    )
    why = []
    if uneven:
        why.append(f"uneven slice spacing ({steps.min():.3f} to {steps.max():.3f} mm)")
    if tilted:
        angle = np.degrees(np.arctan2(np.linalg.norm(shift), abs(d[-1])))
        why.append(f"slices sheared by {angle:.1f} degrees (gantry tilt)")
    note = (
        f"{' and '.join(why)}: resampled onto a regular {dz_new:.3f} mm grid along the slice "
        f"normal ({len(positions)} slices -> {n_z}, linear interpolation)"
    )
    return GridPlan(geometry, note)


def _common_step(steps: np.ndarray) -> float:
    """The most common slice step (within 2 % of the median; ties: the finer), so a gap (two
    steps) or a stray near-duplicate does not set the grid."""
    bins = np.round(steps / (0.02 * float(np.median(steps)))).astype(np.int64)
    values, counts = np.unique(bins, return_counts=True)
    best = values[counts == counts.max()].min()
    return float(np.median(steps[bins == best]))


def resample(
    stack: np.ndarray, positions: list[np.ndarray], geometry: Geometry, fill: float | None = None
) -> np.ndarray:
    """Move `stack` (one decoded slice per position, sorted along the normal; (n, rows, cols)
    or (n, rows, cols, c)) onto `geometry`. Outside every slice: `fill` (default: the minimum,
    i.e. air or padding). Integer images stay integer (rounded)."""
    g = geometry
    row, col, normal = g.direction[:, 0], g.direction[:, 1], g.direction[:, 2]
    sx, sy, dz = g.spacing
    origin = np.asarray(g.origin)
    rel = np.array([np.asarray(p, dtype=float) - origin for p in positions])
    d = rel @ normal
    # Where each slice's pixel (0, 0) lies on the grid, in grid pixels (y, x).
    offsets = np.column_stack([rel @ col / sy, rel @ row / sx])
    fill = float(stack.min()) if fill is None else float(fill)
    out = np.empty(g.shape_zyx + stack.shape[3:], dtype=stack.dtype)
    cache: dict[int, np.ndarray] = {}

    def on_grid(k: int) -> np.ndarray:
        """Slice k placed on the grid's (rows, cols) canvas (float64)."""
        if k not in cache:
            if len(cache) > 2:
                cache.pop(min(cache))  # slices are visited in order: keep the last two
            cache[k] = _place(stack[k], offsets[k], out.shape[1:], fill)
        return cache[k]

    for z in range(g.shape_zyx[0]):
        t = z * dz
        i = int(np.clip(np.searchsorted(d, t, side="right") - 1, 0, len(d) - 2))
        w = (t - d[i]) / (d[i + 1] - d[i])
        if abs(w) < _SNAP:
            values = on_grid(i)
        elif abs(w - 1) < _SNAP:
            values = on_grid(i + 1)
        else:
            w = float(np.clip(w, 0.0, 1.0))
            values = (1 - w) * on_grid(i) + w * on_grid(i + 1)
        if out.dtype.kind in "iu":
            info = np.iinfo(out.dtype)
            values = np.clip(np.rint(values), info.min, info.max)
        out[z] = values
    return out


def _place(
    pixels: np.ndarray, offset_yx: np.ndarray, shape: tuple[int, ...], fill: float
) -> np.ndarray:
    """`pixels` on a canvas of `shape` with its pixel (0, 0) at `offset_yx` (grid pixels):
    copied at the whole-pixel part, shifted bilinearly by the remaining fraction."""
    whole = np.floor(offset_yx + _SNAP).astype(int)
    frac = offset_yx - whole
    frac[np.abs(frac) < _SNAP] = 0.0
    canvas = np.full(shape, fill, dtype=np.float64)
    y0, x0 = whole
    h, w = pixels.shape[:2]
    cy0, cx0 = max(y0, 0), max(x0, 0)
    cy1, cx1 = min(y0 + h, shape[0]), min(x0 + w, shape[1])
    if cy1 > cy0 and cx1 > cx0:
        canvas[cy0:cy1, cx0:cx1] = pixels[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    if frac.any():
        shift = (*frac, *([0.0] * (canvas.ndim - 2)))
        canvas = ndimage.shift(canvas, shift, order=1, mode="constant", cval=fill, prefilter=False)
    return canvas
