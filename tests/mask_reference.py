"""Reference masks computed from first principles (distances in mm), for exact brush assertions."""

from __future__ import annotations

import numpy as np


def within_mm(geometry, path_zyx, radius_mm: float) -> np.ndarray:
    """Voxels whose centre lies within radius_mm of the polyline through path_zyx (index points),
    measured in mm: for axis-aligned or two-point strokes, exactly what the brush should paint."""
    sp = np.asarray(geometry.spacing_zyx, float)
    grid = np.indices(geometry.shape_zyx).reshape(3, -1).T * sp
    inside = np.zeros(len(grid), bool)
    pts = [np.asarray(p, float) * sp for p in path_zyx]
    for a, b in zip(pts, pts[1:] or pts):
        d = b - a
        t = np.clip((grid - a) @ d / max(d @ d, 1e-12), 0.0, 1.0)
        inside |= np.linalg.norm(grid - a - t[:, None] * d, axis=1) <= radius_mm + 1e-9
    return inside.reshape(geometry.shape_zyx)


def in_plane(mask: np.ndarray, z: int) -> np.ndarray:
    """mask on slice z only (a disk brush paints one slice of the view)."""
    out = np.zeros_like(mask)
    out[z] = mask[z]
    return out
