"""Voxel masks of brush shapes (disk in a view plane, sphere) sized in mm on anisotropic grids."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def half_extent(radius_mm: float, spacing_zyx: tuple[float, float, float], axis: int | None):
    """Half-size in voxels per (z, y, x) axis; 0 along `axis` (a 2D disk), None for a sphere."""
    n = [int(np.floor(radius_mm / s + 1e-9)) for s in spacing_zyx]
    if axis is not None:
        n[axis] = 0
    return tuple(n)


@lru_cache(maxsize=64)
def _kernel(radius_mm: float, spacing_zyx: tuple[float, float, float], axis: int | None):
    n = half_extent(radius_mm, spacing_zyx, axis)
    grids = np.ogrid[tuple(slice(-k, k + 1) for k in n)]
    r2 = sum((g * s) ** 2 for g, s in zip(grids, spacing_zyx))
    k = r2 <= radius_mm**2 + 1e-9
    k[n] = True  # the centre voxel is always painted, however small the brush
    k.setflags(write=False)
    return k


def ball(radius_mm: float, spacing_zyx, axis: int | None = None) -> np.ndarray:
    """Boolean kernel of all voxels whose centre lies within `radius_mm` of the centre voxel.

    With `axis` given, the kernel is a disk one voxel thick across that axis (the view plane).
    """
    spacing = tuple(float(s) for s in spacing_zyx)
    return _kernel(round(float(radius_mm), 6), spacing, axis)


def stamp_along(
    centres: np.ndarray, kernel: np.ndarray
) -> tuple[tuple[int, int, int, int, int, int], np.ndarray]:
    """Union of `kernel` placed at each integer (z, y, x) centre: returns (bbox, mask)."""
    centres = np.asarray(centres, dtype=int).reshape(-1, 3)
    n = np.array(kernel.shape) // 2
    lo = centres.min(axis=0) - n
    hi = centres.max(axis=0) + n + 1
    if len(centres) == 1:
        return (*lo.tolist(), *hi.tolist()), kernel.copy()
    mask = np.zeros(tuple(hi - lo), dtype=bool)
    for c in centres:
        o = c - n - lo
        mask[
            o[0] : o[0] + kernel.shape[0],
            o[1] : o[1] + kernel.shape[1],
            o[2] : o[2] + kernel.shape[2],
        ] |= kernel
    return (*lo.tolist(), *hi.tolist()), mask


def line_centres(a, b, step_vox: float) -> np.ndarray:
    """Integer voxel centres from a to b (continuous indices), at most `step_vox` apart."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n = max(1, int(np.ceil(np.max(np.abs(b - a)) / max(step_vox, 1e-3))))
    t = np.linspace(0.0, 1.0, n + 1)[:, None]
    pts = np.rint(a + (b - a) * t).astype(int)
    return np.unique(pts, axis=0)
