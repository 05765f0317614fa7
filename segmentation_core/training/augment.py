"""Training augmentation: warped patch sampling (rotation + elastic), flips, axis order, intensity.

The network must not care how an array is oriented (arrays arrive in any of the 48 axis
orders), so axes are permuted and flipped at random; spacings are jittered and sometimes made
thick (2-6 mm) so one scan teaches many acquisitions.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.patch_frame import PatchFrame


def random_rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A small random rotation matrix (z, y, x axes)."""
    angles = np.deg2rad(rng.uniform(-max_deg, max_deg, size=3))
    mats = []
    for axis, a in enumerate(angles):
        c, s = np.cos(a), np.sin(a)
        m = np.eye(3)
        i, j = [k for k in range(3) if k != axis]
        m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
        mats.append(m)
    return mats[0] @ mats[1] @ mats[2]


def warped_coordinates(
    frame: PatchFrame,
    spacing_zyx,
    rng: np.random.Generator,
    max_rot_deg: float = 12.0,
    elastic_mm: float = 3.0,
) -> np.ndarray:
    """Native-index coordinates (3, D, H, W) of the patch grid after rotation and elastic warp.

    Rotation and displacement are applied in millimetres about the patch centre, so anisotropic
    voxels rotate correctly.
    """
    shape = np.asarray(frame.shape)
    grid = np.indices(frame.shape, dtype=np.float32).reshape(3, -1)
    native = grid * np.asarray(frame.step)[:, None] + np.asarray(frame.offset)[:, None]
    sp = np.asarray(spacing_zyx, float)[:, None]
    centre = (np.asarray(frame.offset) + (shape - 1) / 2 * np.asarray(frame.step))[:, None]
    mm = (native - centre) * sp
    if max_rot_deg > 0:
        mm = random_rotation(rng, max_rot_deg) @ mm
    if elastic_mm > 0:
        coarse = rng.normal(0, elastic_mm, size=(3, 4, 4, 4)).astype(np.float32)
        zoom = shape / 4.0
        field = np.stack([ndimage.zoom(c, zoom, order=3) for c in coarse])
        mm = mm + field.reshape(3, -1)
    return (mm / sp + centre).reshape(3, *frame.shape).astype(np.float32)


def sample_at(array: np.ndarray, coords: np.ndarray, order: int, cval: float) -> np.ndarray:
    """Interpolate `array` at native coordinates, reading only the box the coordinates touch."""
    lo = np.floor(coords.reshape(3, -1).min(axis=1)).astype(int) - 1
    hi = np.ceil(coords.reshape(3, -1).max(axis=1)).astype(int) + 2
    lo_c = np.clip(lo, 0, array.shape)
    hi_c = np.clip(hi, 0, array.shape)
    if np.any(hi_c <= lo_c):
        return np.full(coords.shape[1:], cval, np.float32)
    crop = np.asarray(
        array[lo_c[0] : hi_c[0], lo_c[1] : hi_c[1], lo_c[2] : hi_c[2]], dtype=np.float32
    )
    local = coords - lo_c.reshape(3, 1, 1, 1)
    return ndimage.map_coordinates(crop, local, order=order, mode="constant", cval=cval).astype(
        np.float32
    )


def intensity_augment(patch01: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma, contrast inversion and bias on a patch already scaled to 0..1."""
    p = patch01
    if rng.random() < 0.5:
        p = np.power(np.clip(p, 0, 1), np.exp(rng.uniform(-0.5, 0.5)))
    if rng.random() < 0.1:
        p = 1.0 - p  # MR contrasts differ (T1/T2): shape should matter more than brightness
    if rng.random() < 0.3:
        # smooth multiplicative bias field, as in MR
        coarse = rng.normal(1.0, 0.1, size=(2, 2, 2))
        p = p * ndimage.zoom(coarse, np.asarray(p.shape) / 2.0, order=1)
    return p.astype(np.float32)


def random_axes(rng: np.random.Generator):
    """A random axis permutation and flips, to apply identically to every channel."""
    return rng.permutation(3), rng.random(3) < 0.5


def apply_axes(arr: np.ndarray, perm, flips) -> np.ndarray:
    out = np.transpose(arr, perm)
    for ax in range(3):
        if flips[ax]:
            out = np.flip(out, axis=ax)
    return np.ascontiguousarray(out)
