"""Fill between slices: interpolate a segment drawn on some slices into the empty ones between.

Shape-based interpolation: each drawn slice becomes a signed distance map (mm, in-plane
spacing honoured); the maps of the two nearest drawn slices are moved so their centroids meet
at the interpolated centroid, then blended linearly, and the zero level is the interpolated
outline. The centroid alignment keeps objects that move between thick slices (which would not
overlap, so a plain blend would vanish) connected. scipy only, so it stays in the tools layer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from viewer.commands.mask_apply import MaskMode, PaintOptions, edit_from_mask
from viewer.tools.segment_region import segment_box, segment_name


def _signed_distance(mask2d: np.ndarray, spacing2d) -> np.ndarray:
    inside = ndimage.distance_transform_edt(mask2d, sampling=spacing2d)
    outside = ndimage.distance_transform_edt(~mask2d, sampling=spacing2d)
    return outside - inside  # negative inside


def interpolate_mask(mask: np.ndarray, axis: int, spacing_zyx) -> np.ndarray:
    """Fill the empty slices (across `axis`) lying between non-empty ones; drawn slices stay."""
    m = np.moveaxis(mask, axis, 0)
    spacing2d = tuple(s for k, s in enumerate(spacing_zyx) if k != axis)
    drawn = np.flatnonzero(m.reshape(m.shape[0], -1).any(axis=1))
    out = m.copy()
    sdf_cache: dict[int, np.ndarray] = {}

    def sdf(i: int) -> np.ndarray:
        if i not in sdf_cache:
            sdf_cache[i] = _signed_distance(m[i], spacing2d)
        return sdf_cache[i]

    far = float(sum(n * s for n, s in zip(m.shape[1:], spacing2d)))
    for a, b in zip(drawn[:-1], drawn[1:]):
        if b - a < 2:
            continue
        da, db = sdf(int(a)), sdf(int(b))
        ca = np.array(ndimage.center_of_mass(m[a]))
        cb = np.array(ndimage.center_of_mass(m[b]))
        for i in range(a + 1, b):
            t = (i - a) / (b - a)
            ct = (1 - t) * ca + t * cb
            sa = ndimage.shift(da, ct - ca, order=1, mode="constant", cval=far)
            sb = ndimage.shift(db, ct - cb, order=1, mode="constant", cval=far)
            out[i] = (1 - t) * sa + t * sb <= 0
    return np.moveaxis(out, 0, axis)


def fill_between_slices(doc, segment_id: int, axis: int = 0, options: PaintOptions | None = None):
    """Command that fills the segment on empty slices between drawn ones, across `axis`."""
    pad = [2, 2, 2]
    pad[axis] = 0
    found = segment_box(doc, segment_id, pad)
    if found is None:
        return None
    bbox, mask = found
    filled = interpolate_mask(mask, axis, doc.geometry.spacing_zyx)
    name = f"Fill between slices of {segment_name(doc, segment_id)}"
    return edit_from_mask(doc, bbox, filled & ~mask, segment_id, MaskMode.ADD, options, name)
