"""The simulated user of EVALUATION.md: where the next click goes and with which sign.

- first click: positive, at the maximum of the Euclidean distance transform of the target's
  largest 26-connected component;
- later clicks: at the maximum of the distance transform of the largest 26-connected component
  of the error (prediction != target); positive where the target is 1, negative otherwise.
The distance transform runs on the component's bounding box padded by 25 % (at least one voxel)
with background all around, so the image border acts as a boundary and never clips the
component. Units: voxels when the spacing is isotropic, millimetres when it is anisotropic (as
the protocol asks; `edt_units` says which). Ties go to the lowest flat index of the image.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

CONN26 = np.ones((3, 3, 3), dtype=bool)
ISOTROPY_TOL = 1e-3  # relative: spacings that differ less than this count as isotropic


def is_anisotropic(spacing_zyx) -> bool:
    sp = np.asarray(spacing_zyx, float)
    return bool(sp.max() - sp.min() > ISOTROPY_TOL * sp.max())


def edt_units(spacing_zyx) -> str:
    return "mm" if is_anisotropic(spacing_zyx) else "voxel"


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component (ties: the one met first in flat order)."""
    labels, n = ndimage.label(mask, structure=CONN26)
    if n <= 1:
        return labels > 0
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def padded_edt_argmax(component: np.ndarray, spacing_zyx) -> tuple[int, int, int]:
    """Voxel of the maximum distance to the component's outside (see module docstring)."""
    idx = np.argwhere(component)
    if idx.size == 0:
        raise ValueError("empty component")
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    size = hi - lo
    pad = np.maximum((size * 0.25).astype(int), 1)
    crop = np.zeros(size + 2 * pad, dtype=bool)
    crop[pad[0] : pad[0] + size[0], pad[1] : pad[1] + size[1], pad[2] : pad[2] + size[2]] = (
        component[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    )
    sampling = np.asarray(spacing_zyx, float) if is_anisotropic(spacing_zyx) else None
    edt = ndimage.distance_transform_edt(crop, sampling=sampling)
    edt = edt[pad[0] : pad[0] + size[0], pad[1] : pad[1] + size[1], pad[2] : pad[2] + size[2]]
    # lowest flat index of the image among the maxima: flat order of the crop is the same order
    best = np.flatnonzero(edt == edt.max())[0]
    return tuple(int(v) for v in np.add(np.unravel_index(best, edt.shape), lo))  # type: ignore[return-value]


def first_click(target: np.ndarray, spacing_zyx) -> tuple[tuple[int, int, int], bool]:
    return padded_edt_argmax(largest_component(target), spacing_zyx), True


def next_click(
    prediction: np.ndarray, target: np.ndarray, spacing_zyx
) -> tuple[tuple[int, int, int], bool] | None:
    """The corrective click, or None when the prediction equals the target."""
    error = prediction != target
    if not error.any():
        return None
    pt = padded_edt_argmax(largest_component(error), spacing_zyx)
    return pt, bool(target[pt])
