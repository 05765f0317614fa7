"""Intensity draws: a Gaussian per label (the image's tissue contrast), the multiplicative
bias field, noise, min-max normalisation and gamma."""

from __future__ import annotations

import numpy as np

from segmentation_core.synth.fields import SmoothField, coarse_noise
from segmentation_core.synth.params import SynthParams

_SLAB = 32


def label_values(labels: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer label map (bincount when they are small
    non-negative ints: several times faster than `np.unique`'s sort on 256^3)."""
    lo, hi = int(labels.min()), int(labels.max())
    if lo >= 0 and hi < 1 << 20:
        return np.flatnonzero(np.bincount(labels.reshape(-1))).astype(np.int64)
    return np.unique(labels).astype(np.int64)


def draw_gaussians(
    rng: np.random.Generator, values: np.ndarray, p: SynthParams
) -> tuple[np.ndarray, np.ndarray]:
    """(means, stds), one per value, drawn in the order of `values`. With a prior, a share of
    the images moves the listed values' means to the prior's contrast (the extra draws happen
    only when a prior is set, so images without one are the same for a seed as before)."""
    means = rng.uniform(*p.mean_range, len(values)).astype(np.float32)
    stds = rng.uniform(*p.std_range, len(values)).astype(np.float32)
    if p.prior and p.prior_probability > 0 and rng.random() < p.prior_probability:
        table = dict(p.prior)
        gain = rng.uniform(*p.prior_gain)
        jitter = rng.normal(0.0, p.prior_std, len(values)) if p.prior_std > 0 else 0 * means
        for i, v in enumerate(values):
            if int(v) in table:
                means[i] = np.float32(np.clip(table[int(v)] * gain + jitter[i], *p.mean_range))
    return means, stds


def paint(
    rng: np.random.Generator,
    labels: np.ndarray,
    values: np.ndarray,
    means: np.ndarray,
    stds: np.ndarray,
) -> np.ndarray:
    """float32 image: each voxel ~ N(mean, std) of its label. Values of `labels` missing from
    `values` cannot occur (the deformation only moves existing values, or writes 0, which the
    caller includes)."""
    lo = int(values[0])
    span = int(values[-1]) - lo + 1
    if span <= 1 << 20:  # dense lookup table indexed by value
        lut_mean = np.zeros(span, dtype=np.float32)
        lut_std = np.zeros(span, dtype=np.float32)
        lut_mean[values - lo] = means
        lut_std[values - lo] = stds
        index = labels - lo if lo else labels
    else:
        index = np.searchsorted(values, labels)
        lut_mean, lut_std = means, stds
    image = np.take(lut_mean, index)
    if np.any(stds > 0):
        image += np.take(lut_std, index) * rng.standard_normal(labels.shape, dtype=np.float32)
    return image


def apply_bias(rng: np.random.Generator, image: np.ndarray, spacing_zyx, p: SynthParams) -> None:
    """Multiply `image` in place by exp(smooth field), the field's std ~ U(0, bias_std)."""
    std = rng.uniform(0, p.bias_std)
    field = SmoothField(
        coarse_noise(rng, image.shape, spacing_zyx, p.bias_grid_mm, std), image.shape
    )
    for z0 in range(0, image.shape[0], _SLAB):
        z1 = min(image.shape[0], z0 + _SLAB)
        image[z0:z1] *= np.exp(field.slab(z0, z1))


def add_noise(rng: np.random.Generator, image: np.ndarray, p: SynthParams) -> None:
    """Add N(0, sigma) noise in place, sigma ~ U(0, noise_std)."""
    sigma = np.float32(rng.uniform(0, p.noise_std))
    image += sigma * rng.standard_normal(image.shape, dtype=np.float32)


def normalise(image: np.ndarray) -> None:
    """Min-max to [0, 1] in place, the maximum exactly 1 (a constant image becomes 0)."""
    image -= image.min()
    top = image.max()  # divide by the shifted maximum itself: it lands on 1.0 exactly
    if top > 0:
        image /= top


def apply_gamma(rng: np.random.Generator, image: np.ndarray, p: SynthParams) -> float:
    """image ** exp(N(0, gamma_log_std)) in place (image in [0, 1]); returns the exponent."""
    exponent = float(np.exp(rng.normal(0.0, p.gamma_log_std)))
    np.power(image, np.float32(exponent), out=image)
    return exponent
