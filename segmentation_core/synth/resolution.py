"""The acquisition resolution: a random voxel size per axis (sometimes one thick-slice axis),
a Gaussian blur whose sigma matches it, and the trip down to that grid and back."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.synth.params import SynthParams


def draw_resolution(
    rng: np.random.Generator, spacing_zyx: tuple[float, float, float], p: SynthParams
) -> np.ndarray:
    """Acquisition voxel size (z, y, x) in mm, never finer than the label map's spacing."""
    s = np.asarray(spacing_zyx, dtype=np.float64)
    res = s.copy()
    low = rng.random(3) < p.low_res_probability
    drawn = rng.uniform(*p.resolution_range_mm, 3)
    res[low] = drawn[low]
    if rng.random() < p.thick_slice_probability:
        axis = int(rng.integers(3))
        res[axis] = rng.uniform(*p.thick_slice_mm)
    return np.maximum(res, s)


def blur_sigmas(resolution_mm: np.ndarray, spacing_zyx) -> np.ndarray:
    """Gaussian sigma in voxels per axis: 0.75 x (resolution / spacing), SynthSeg's choice
    for a blur that stands in for the larger voxel; 0 where the resolution is the spacing."""
    ratio = np.asarray(resolution_mm, dtype=np.float64) / np.asarray(spacing_zyx, dtype=float)
    return np.where(ratio > 1.0 + 1e-6, 0.75 * ratio, 0.0)


def blur(image: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Separable Gaussian blur (float32, one 1D pass per blurred axis)."""
    for axis, sigma in enumerate(sigmas):
        if sigma > 0:
            image = ndimage.gaussian_filter1d(image, float(sigma), axis=axis, truncate=3.0)
    return image


def low_shape(shape, spacing_zyx, resolution_mm) -> tuple[int, int, int]:
    """The acquisition grid's shape covering the same field of view."""
    return tuple(
        max(2, int(round(n * s / r)))
        for n, s, r in zip(shape, spacing_zyx, resolution_mm, strict=True)
    )


def resample(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Linear resampling to `shape` over the same field of view (voxel centres aligned as
    grid cells: `grid_mode`)."""
    if tuple(image.shape) == tuple(shape):
        return image
    zoom = [n / m for n, m in zip(shape, image.shape, strict=True)]
    out = np.empty(shape, dtype=np.float32)
    ndimage.zoom(image, zoom, output=out, order=1, mode="nearest", grid_mode=True)
    return out
