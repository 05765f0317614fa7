"""What the network sees: intensity normalisation and the input channels built from clicks.

Input tensor (N, 6, D, H, W) float32:
  0 image, clipped to the image's robust range then z-scored within the patch
  1 positive clicks, 2 negative clicks: balls of CLICK_RADIUS patch voxels (value 1)
  3 previous mask (probability 0..1) resampled into the patch
  4 positive affinity, 5 negative affinity: how much each voxel looks like the image around the
    positive (negative) clicks (see `affinity_map`). A tiny click ball says *where*; these say
    *what*, which a small network trained on few scans cannot learn to infer by itself from a
    ball: the idea of image-aware interaction maps (DeepIGeoS, Wang et al. 2018) at the cost of
    one exp() per voxel.
Output: (N, 1, D, H, W) logits of the target.
"""

from __future__ import annotations

import numpy as np

IN_CHANNELS = 6
CLICK_RADIUS = 2.0
ENCODING_VERSION = 2
AFFINITY_MAX_CLICKS = 8  # the most recent clicks inside the patch; bounds the cost per pass
AFFINITY_MIN_WIDTH = 0.05  # z-score units: flat regions still get a finite width
AFFINITY_WIDTH_FACTOR = 2.0  # width = factor * local std around the click


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


def _ball(shape, centre, radius: float):
    """(slices, mask within them) of the voxels within `radius` of `centre`; None if outside."""
    r = int(np.ceil(radius))
    c = np.rint(centre).astype(int)
    lo = np.maximum(c - r, 0)
    hi = np.minimum(c + r + 1, np.asarray(shape))
    if np.any(hi <= lo):
        return None
    zz, yy, xx = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    d2 = (zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi)), d2 <= radius**2


def click_map(shape, points, radius: float = CLICK_RADIUS) -> np.ndarray:
    """Binary balls around click points (patch coordinates, may lie outside the patch)."""
    out = np.zeros(shape, dtype=np.float32)
    for pt in np.asarray(points, float).reshape(-1, 3):
        ball = _ball(shape, pt, radius)
        if ball is not None:
            out[ball[0]][ball[1]] = 1.0
    return out


def _local_stats(image: np.ndarray, centre: np.ndarray, radius: float) -> tuple[float, float]:
    """Mean and std of the image in the ball around `centre` (the nearest voxel if it is empty)."""
    ball = _ball(image.shape, centre, radius)
    vals = image[ball[0]][ball[1]] if ball is not None else np.empty(0, image.dtype)
    if vals.size == 0:
        c = np.clip(np.rint(centre).astype(int), 0, np.asarray(image.shape) - 1)
        vals = image[tuple(c)].reshape(1)
    return float(vals.mean()), float(vals.std())


def affinity_map(image_norm: np.ndarray, points, radius: float = CLICK_RADIUS) -> np.ndarray:
    """max over clicks of exp(-(I - m)^2 / 2w^2): m, w from the ball around each click.

    Computed on the normalised patch, so it is the same in training and at use and does not
    depend on the modality's units (the z-score is affine). Clicks outside the patch have no
    neighbourhood to measure and are skipped; only the last AFFINITY_MAX_CLICKS count."""
    shape = np.asarray(image_norm.shape)
    out = np.zeros(image_norm.shape, dtype=np.float32)
    pts = np.asarray(points, float).reshape(-1, 3)
    inside = [p for p in pts if np.all(p >= -0.5) and np.all(p <= shape - 0.5)]
    for pt in inside[-AFFINITY_MAX_CLICKS:]:
        mean, std = _local_stats(image_norm, pt, radius)
        width = max(AFFINITY_WIDTH_FACTOR * std, AFFINITY_MIN_WIDTH)
        d = (image_norm - np.float32(mean)) * np.float32(1.0 / width)
        np.maximum(out, np.exp(-0.5 * d * d), out=out)
    return out


def build_input(
    image_norm: np.ndarray, pos_points, neg_points, prev_mask: np.ndarray
) -> np.ndarray:
    """Stack the channels into a (1, IN_CHANNELS, D, H, W) float32 array."""
    shape = image_norm.shape
    x = np.empty((1, IN_CHANNELS, *shape), dtype=np.float32)
    x[0, 0] = image_norm
    x[0, 1] = click_map(shape, pos_points)
    x[0, 2] = click_map(shape, neg_points)
    x[0, 3] = prev_mask
    x[0, 4] = affinity_map(image_norm, pos_points)
    x[0, 5] = affinity_map(image_norm, neg_points)
    return x
