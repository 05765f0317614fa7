"""The classic baseline (no learning): marker-controlled watershed inside an intensity band.

Works on the same encoded patch as the network (channel 0 normalised image, 1/2 click balls, 3
previous mask), inside the same AutoZoom loop, so the two engines are compared like for like.
Per patch:
  1. smooth the image a little; estimate the target's intensity (median and robust spread) from
     the balls around the positive clicks, and the background's from the negative ones;
  2. candidate voxels lie within k robust deviations of the target intensity (and closer to it
     than to the background intensity when there are negative clicks); a small opening cuts
     thin bridges to neighbouring structures of similar intensity;
  3. watershed on the gradient magnitude from markers (positive balls = target; negative balls
     and every non-candidate voxel = background) splits the candidates along edges;
  4. the previous mask seeds the target where a positive click is nearer than a negative one
     (so corrections are local and earlier work is kept); fill holes.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

BAND_K = 2.0
MIN_SPREAD = 0.04  # in patch z-score units: a seed in a flat region still gets a usable band
SEED_RADIUS_MM = 3.0


def _ball_mask(shape, centres: np.ndarray, radius_vox: np.ndarray) -> np.ndarray:
    out = np.zeros(shape, bool)
    r = np.ceil(radius_vox).astype(int)
    for c in np.rint(centres).astype(int):
        lo = np.maximum(c - r, 0)
        hi = np.minimum(c + r + 1, shape)
        if np.any(hi <= lo):
            continue
        zz, yy, xx = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        d = (
            ((zz - c[0]) / radius_vox[0]) ** 2
            + ((yy - c[1]) / radius_vox[1]) ** 2
            + ((xx - c[2]) / radius_vox[2]) ** 2
        )
        out[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]] |= d <= 1.0
    return out


def _stats(smooth_values: np.ndarray, raw_values: np.ndarray) -> tuple[float, float]:
    """Centre from the smoothed image; spread from the raw one (smoothed values in a small ball
    are correlated and would understate how much the structure varies further away)."""
    med = float(np.median(smooth_values))
    raw_med = float(np.median(raw_values))
    mad = float(np.median(np.abs(raw_values - raw_med))) * 1.4826
    return med, max(mad, MIN_SPREAD)


def _nearest_sign(shape, pos: np.ndarray, neg: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """True where the nearest click (in mm) is positive: decides between clicks close together."""
    seeds = np.zeros(shape, bool)
    for p in np.concatenate([pos, neg]):
        c = np.rint(p).astype(int)
        if np.all(c >= 0) and np.all(c < shape):
            seeds[tuple(c)] = True
    if not seeds.any():
        return np.ones(shape, bool)
    _, idx = ndimage.distance_transform_edt(~seeds, sampling=spacing, return_indices=True)
    sign = np.zeros(shape, bool)
    for p in pos:
        c = np.rint(p).astype(int)
        if np.all(c >= 0) and np.all(c < shape):
            sign[tuple(c)] = True
    return sign[tuple(idx)]


def classic_patch_model(
    x: np.ndarray, work_spacing: np.ndarray, pos: np.ndarray, neg: np.ndarray
) -> np.ndarray:
    """(1, C, D, H, W) encoded input -> (D, H, W) foreground probability (0 or 1)."""
    img = x[0, 0]
    pos_balls, neg_balls = x[0, 1] > 0.5, x[0, 2] > 0.5
    if not pos_balls.any():
        return np.zeros(img.shape, np.float32)
    sigma = np.clip(1.0 / np.asarray(work_spacing, float) * np.min(work_spacing), 0.3, 1.0) * 0.8
    smooth = ndimage.gaussian_filter(img, sigma)
    r_vox = np.maximum(SEED_RADIUS_MM / np.asarray(work_spacing, float), 1.0)
    pos_seed = _ball_mask(img.shape, pos, r_vox)
    mu, sd = _stats(smooth[pos_seed], img[pos_seed])
    dist_pos = np.abs(smooth - mu) / sd
    cand = dist_pos <= BAND_K
    nearer_pos = None
    if neg_balls.any():
        nearer_pos = _nearest_sign(img.shape, pos, neg, np.asarray(work_spacing, float))
        neg_seed = _ball_mask(img.shape, neg, r_vox)
        mu_n, sd_n = _stats(smooth[neg_seed], img[neg_seed])
        if abs(mu_n - mu) > BAND_K * sd:  # only a distinguishable background sharpens the band
            cand &= dist_pos <= np.abs(smooth - mu_n) / sd_n
    cand = ndimage.binary_opening(cand, iterations=1) | pos_balls | neg_balls
    markers = np.zeros(img.shape, np.int32)
    markers[~cand] = 2
    prev = x[0, 3] > 0.5
    if prev.any():
        # keep the previous mask where a positive click is nearer than any negative one: those
        # voxels seed the target; the rest of it is contested again by the watershed
        keep = ndimage.binary_erosion(prev)
        if nearer_pos is not None:
            keep &= nearer_pos
        markers[keep] = 1
    if nearer_pos is None:
        markers[pos_balls] = 1
    else:
        markers[pos_balls & nearer_pos] = 1
        markers[neg_balls & ~nearer_pos] = 2
    grad = ndimage.gaussian_gradient_magnitude(img, sigma)
    region = watershed(grad, markers) == 1
    region = ndimage.binary_fill_holes(region)
    return region.astype(np.float32)
