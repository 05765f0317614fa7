"""What the network sees: intensity normalisation and the input channels built from clicks.

Input tensor (N, 4, D, H, W) float32:
  0 image, clipped to the image's robust range then z-scored within the patch
  1 positive clicks, 2 negative clicks: balls of CLICK_RADIUS patch voxels (value 1)
  3 previous mask (probability 0..1) resampled into the patch
Output: (N, 1, D, H, W) logits of the target.
"""

from __future__ import annotations

import numpy as np

IN_CHANNELS = 4
CLICK_RADIUS = 2.0
ENCODING_VERSION = 1


def robust_range(image: np.ndarray, max_samples: int = 2_000_000) -> tuple[float, float]:
    """0.5 / 99.5 percentiles of the image (subsampled for speed): the clip range of every patch."""
    flat = np.asarray(image).reshape(-1)
    if flat.size > max_samples:
        flat = flat[:: int(np.ceil(flat.size / max_samples))]
    flat = flat[np.isfinite(flat)] if np.issubdtype(flat.dtype, np.floating) else flat
    if flat.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(flat, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1.0
    return float(lo), float(hi)


def normalise_patch(patch: np.ndarray, lo: float, hi: float) -> np.ndarray:
    p = np.clip(patch, lo, hi).astype(np.float32)
    std = float(p.std())
    return (p - float(p.mean())) / max(std, 1e-3 * (hi - lo))


def click_map(shape, points, radius: float = CLICK_RADIUS) -> np.ndarray:
    """Binary balls around click points (patch coordinates, may lie outside the patch)."""
    out = np.zeros(shape, dtype=np.float32)
    r = int(np.ceil(radius))
    for pt in np.asarray(points, float).reshape(-1, 3):
        c = np.rint(pt).astype(int)
        lo = np.maximum(c - r, 0)
        hi = np.minimum(c + r + 1, np.asarray(shape))
        if np.any(hi <= lo):
            continue
        zz, yy, xx = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        d2 = (zz - pt[0]) ** 2 + (yy - pt[1]) ** 2 + (xx - pt[2]) ** 2
        out[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]][d2 <= radius**2] = 1.0
    return out


def build_input(
    image_norm: np.ndarray, pos_points, neg_points, prev_mask: np.ndarray
) -> np.ndarray:
    """Stack the four channels into a (1, 4, D, H, W) float32 array."""
    shape = image_norm.shape
    x = np.empty((1, IN_CHANNELS, *shape), dtype=np.float32)
    x[0, 0] = image_norm
    x[0, 1] = click_map(shape, pos_points)
    x[0, 2] = click_map(shape, neg_points)
    x[0, 3] = prev_mask
    return x
