"""Voxel-mask helpers, one copy for the core and the viewer: half-open boxes
(z0, y0, x0, z1, y1, x1) (find, combine, shift, slice; `BBox` is `segmentation_core.types`'s),
the 26-connectivity structure and Dice."""

from __future__ import annotations

import numpy as np

from segmentation_core.types import BBox

__all__ = ["CONN26", "BBox", "box_slices", "dice", "mask_bbox", "offset_box", "union_box"]

# Face, edge and corner neighbours: what "connected" means for every component in RadLabel
# (clicked parts, correction regions, the simulated user's error components).
CONN26 = np.ones((3, 3, 3), dtype=bool)
CONN26.setflags(write=False)


def mask_bbox(mask: np.ndarray, pad: int = 0) -> BBox | None:
    """Box of the True voxels grown by `pad` (clipped to the array), None when there are none.

    Axis reductions only: no temporary of the mask's size."""
    lo, hi = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        idx = np.flatnonzero(np.any(mask, axis=other))
        if idx.size == 0:
            return None
        lo.append(max(0, int(idx[0]) - pad))
        hi.append(min(mask.shape[axis], int(idx[-1]) + 1 + pad))
    return (*lo, *hi)  # type: ignore[return-value]


def union_box(a: BBox | None, b: BBox | None) -> BBox | None:
    """The smallest box holding both (either may be None)."""
    if a is None or b is None:
        return a if b is None else b
    return (*(min(a[k], b[k]) for k in range(3)), *(max(a[k], b[k]) for k in range(3, 6)))  # type: ignore[return-value]


def offset_box(inner: BBox | None, origin) -> BBox | None:
    """`inner`, given in the indices of a crop that starts at `origin[:3]`, in the full array's."""
    if inner is None:
        return None
    o = origin[:3]
    return (*(inner[k] + o[k] for k in range(3)), *(inner[k + 3] + o[k] for k in range(3)))  # type: ignore[return-value]


def box_slices(box) -> tuple[slice, slice, slice]:
    """The slices that cut `box` out of a (z, y, x) array."""
    z0, y0, x0, z1, y1, x1 = (int(v) for v in box)
    return slice(z0, z1), slice(y0, y1), slice(x0, x1)


def dice(prediction: np.ndarray, target: np.ndarray) -> float:
    """2|P∩T| / (|P|+|T|); 1.0 when both are empty."""
    p, t = np.asarray(prediction, bool), np.asarray(target, bool)
    denom = int(p.sum()) + int(t.sum())
    if denom == 0:
        return 1.0
    return 2.0 * int(np.logical_and(p, t).sum()) / denom
