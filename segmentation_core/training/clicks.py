"""Click simulation shared by training and evaluation-style loops (inside a patch).

Follows the evaluation protocol: a click goes to the voxel farthest from the boundary of the
largest 26-connected error component; it is positive where the target is 1.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_STRUCT26 = np.ones((3, 3, 3), bool)


def largest_component(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask, structure=_STRUCT26)
    if n <= 1:
        return mask.astype(bool)
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def interior_point(mask: np.ndarray, sampling=None, rng: np.random.Generator | None = None):
    """The most interior voxel of `mask`'s largest component; with `rng`, a random interior one.

    Random clicks are drawn with probability ∝ distance², so they fall well inside the structure
    most of the time but not always at its centre (users do not click at the exact centre).
    """
    comp = largest_component(mask)
    if not comp.any():
        return None
    padded = np.pad(comp, 1)
    dist = ndimage.distance_transform_edt(padded, sampling=sampling)[1:-1, 1:-1, 1:-1]
    if rng is None:
        return np.unravel_index(int(np.argmax(dist)), dist.shape)
    w = dist.ravel() ** 2
    idx = int(rng.choice(w.size, p=w / w.sum()))
    return np.unravel_index(idx, dist.shape)


def next_click(
    pred: np.ndarray, target: np.ndarray, valid: np.ndarray | None = None, sampling=None
):
    """(point, positive) for the next corrective click, or None when there is no error."""
    err = pred != target
    if valid is not None:
        err &= valid
    if not err.any():
        return None
    pt = interior_point(err, sampling=sampling)
    return pt, bool(target[pt])
