"""Random spatial deformation of a label map: affine (rotation, scaling, shear, translation)
plus a smooth elastic displacement, sampled nearest-neighbour so label values stay exact.

The transform works in millimetres about the grid centre, so anisotropic spacing rotates
correctly. The output is made in z-slabs (indices rounded and gathered with `np.take`): memory
stays at a few slabs of coordinates instead of three full float64 coordinate volumes.
"""

from __future__ import annotations

import numpy as np

from segmentation_core.synth.fields import SmoothField, coarse_noise
from segmentation_core.synth.params import SynthParams

_SLAB = 16  # z-planes per slab: a few MB of coordinates at 256^2


def _rotation(angles_rad: np.ndarray) -> np.ndarray:
    """Rotation about the three axes, composed in a fixed order."""
    out = np.eye(3)
    for axis, a in enumerate(angles_rad):
        c, s = np.cos(a), np.sin(a)
        i, j = [k for k in range(3) if k != axis]
        r = np.eye(3)
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        out = r @ out
    return out


def random_affine(rng: np.random.Generator, p: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """(3x3 matrix, translation in mm), both (z, y, x): output mm -> source mm."""
    rot = _rotation(np.deg2rad(rng.uniform(-p.rotation_deg, p.rotation_deg, 3)))
    scale = np.diag(rng.uniform(1 - p.scaling, 1 + p.scaling, 3))
    shear = np.eye(3)
    off = ~np.eye(3, dtype=bool)
    shear[off] = rng.uniform(-p.shear, p.shear, 6)
    t = rng.uniform(-p.translation_mm, p.translation_mm, 3)
    return rot @ scale @ shear, t


def deform_labels(
    labels: np.ndarray,
    spacing_zyx: tuple[float, float, float],
    matrix: np.ndarray,
    translation_mm: np.ndarray,
    displacement: list[SmoothField] | None,
) -> np.ndarray:
    """`labels` resampled (nearest) through source = matrix @ p + t + displacement(p), with p
    the output voxel's position in mm from the grid centre; outside the input gives 0."""
    shape = labels.shape
    s = np.asarray(spacing_zyx, dtype=np.float64)
    c = (np.asarray(shape, dtype=np.float64) - 1) / 2
    # index = (m @ p + t) / s + c, written per output index axis to stay float32 on slabs
    m = (matrix * s[None, :]) / s[:, None]  # index-space matrix
    offset = translation_mm / s + c - m @ c
    yy = np.arange(shape[1], dtype=np.float32)[:, None]
    xx = np.arange(shape[2], dtype=np.float32)[None, :]
    in_plane = [np.float32(m[k, 1]) * yy + np.float32(m[k, 2]) * xx for k in range(3)]
    flat_src = labels.reshape(-1)
    out = np.empty(shape, dtype=labels.dtype)
    stride = np.array([shape[1] * shape[2], shape[2], 1], dtype=np.int64)
    for z0 in range(0, shape[0], _SLAB):
        z1 = min(shape[0], z0 + _SLAB)
        zz = np.arange(z0, z1, dtype=np.float32)[:, None, None]
        valid = np.ones((z1 - z0,) + shape[1:], dtype=bool)
        flat = np.zeros((z1 - z0,) + shape[1:], dtype=np.int64)
        for k in range(3):
            idx = in_plane[k][None] + (np.float32(m[k, 0]) * zz + np.float32(offset[k]))
            if displacement is not None:
                idx += displacement[k].slab(z0, z1) / np.float32(s[k])
            np.floor(idx + np.float32(0.5), out=idx)
            valid &= (idx >= 0) & (idx <= shape[k] - 1)
            flat += np.clip(idx, 0, shape[k] - 1).astype(np.int64) * stride[k]
        slab = np.take(flat_src, flat)
        slab[~valid] = 0
        out[z0:z1] = slab
    return out


def random_deformation(
    rng: np.random.Generator, labels: np.ndarray, spacing_zyx, p: SynthParams
) -> np.ndarray:
    """The label map through a random affine and (when on) a random elastic field."""
    matrix, t = random_affine(rng, p)
    displacement = None
    if p.elastic:
        std = rng.uniform(0, p.elastic_std_mm)
        displacement = [
            SmoothField(
                coarse_noise(rng, labels.shape, spacing_zyx, p.elastic_grid_mm, std), labels.shape
            )
            for _ in range(3)
        ]
    return deform_labels(labels, spacing_zyx, matrix, t, displacement)
