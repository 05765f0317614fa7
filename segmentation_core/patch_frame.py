"""The working frame of one inference: a fixed-size patch resampled from the image around a point.

A `PatchFrame` maps patch voxels to (continuous) native voxel indices by a per-axis scale and
offset (no rotation: the patch is axis-aligned with the image array). Training crops and
inference crops are both made here, so the network always sees data prepared the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# The smallest working spacing (mm) at zoom level 0; finer native data is downsampled to it so a
# 64-voxel patch still covers a few centimetres.
BASE_SPACING_MM = 1.0


def working_spacing(spacing_zyx, level: int) -> np.ndarray:
    """Per-axis patch spacing (mm) at a zoom level: never finer than native, doubling per level."""
    sp = np.asarray(spacing_zyx, dtype=float)
    base = max(float(sp.min()), BASE_SPACING_MM)
    return np.maximum(sp, base * (2.0**level))


# A structure "fits" a zoom level when it spans at most this share of the patch on every axis.
FIT_FRACTION = 0.8


def fit_level(spacing_zyx, extent_mm, patch, max_level: int = 3) -> int:
    """The finest level (at most `max_level`) whose patch (edge in voxels, one per axis or one
    for all) holds `extent_mm` within FIT_FRACTION: the level training shows a structure
    whole at, and the one AutoZoom's first-click sizing looks at next."""
    extent = np.asarray(extent_mm, float)
    edge = np.asarray(patch, float)
    for level in range(max_level):
        if np.all(extent <= working_spacing(spacing_zyx, level) * edge * FIT_FRACTION):
            return level
    return max_level


@dataclass(frozen=True)
class PatchFrame:
    """Patch voxel p (z, y, x) sits at native continuous index `offset + p * step`."""

    offset: tuple[float, float, float]
    step: tuple[float, float, float]
    shape: tuple[int, int, int]

    @classmethod
    def centred(cls, centre_zyx, spacing_zyx, work_spacing_zyx, shape) -> PatchFrame:
        step = np.asarray(work_spacing_zyx, float) / np.asarray(spacing_zyx, float)
        shape_arr = np.asarray(shape, float)
        offset = np.asarray(centre_zyx, float) - (shape_arr - 1) / 2.0 * step
        return cls(tuple(offset), tuple(step), tuple(int(s) for s in shape))

    # --- coordinates -----------------------------------------------------------------------
    def to_patch(self, points_native) -> np.ndarray:
        p = np.asarray(points_native, float).reshape(-1, 3)
        return (p - np.asarray(self.offset)) / np.asarray(self.step)

    def to_native(self, points_patch) -> np.ndarray:
        p = np.asarray(points_patch, float).reshape(-1, 3)
        return p * np.asarray(self.step) + np.asarray(self.offset)

    def native_bbox(self, image_shape) -> tuple[int, int, int, int, int, int]:
        """Half-open native voxel box covered by the patch, clipped to the image."""
        lo = np.asarray(self.offset) - 0.5 * np.asarray(self.step)
        hi = np.asarray(self.offset) + (np.asarray(self.shape) - 0.5) * np.asarray(self.step)
        lo_i = np.clip(np.ceil(lo - 1e-6), 0, image_shape).astype(int)
        hi_i = np.clip(np.floor(hi + 1e-6) + 1, 0, image_shape).astype(int)
        hi_i = np.maximum(hi_i, lo_i)
        return (*lo_i.tolist(), *hi_i.tolist())  # type: ignore[return-value]

    # --- resampling ------------------------------------------------------------------------
    def sample(self, array: np.ndarray, order: int = 1, cval: float = 0.0) -> np.ndarray:
        """Resample `array` (native grid) into the patch (float32)."""
        # Only read the region the patch touches (cheap for big volumes).
        bbox = self.native_bbox(array.shape)
        z0, y0, x0, z1, y1, x1 = bbox
        # pad one voxel so linear interpolation at the crop edge sees its neighbour
        z0, y0, x0 = max(z0 - 1, 0), max(y0 - 1, 0), max(x0 - 1, 0)
        z1, y1, x1 = (
            min(z1 + 1, array.shape[0]),
            min(y1 + 1, array.shape[1]),
            min(x1 + 1, array.shape[2]),
        )
        if z1 <= z0 or y1 <= y0 or x1 <= x0:
            return np.full(self.shape, cval, dtype=np.float32)
        crop = np.asarray(array[z0:z1, y0:y1, x0:x1], dtype=np.float32)
        offset = np.asarray(self.offset) - np.array([z0, y0, x0], float)
        return ndimage.affine_transform(
            crop,
            np.asarray(self.step),
            offset=offset,
            output_shape=self.shape,
            order=order,
            mode="constant",
            cval=cval,
            prefilter=False,
        ).astype(np.float32, copy=False)

    def paste_back(self, patch_values: np.ndarray, image_shape, order: int = 1):
        """Resample patch values back onto the native grid inside the patch footprint.

        Returns (bbox, values) with values of the bbox's shape (float32).
        """
        bbox = self.native_bbox(image_shape)
        z0, y0, x0, z1, y1, x1 = bbox
        out_shape = (z1 - z0, y1 - y0, x1 - x0)
        if min(out_shape) <= 0:
            return bbox, np.zeros(out_shape, np.float32)
        inv_step = 1.0 / np.asarray(self.step)
        offset = (np.array([z0, y0, x0], float) - np.asarray(self.offset)) * inv_step
        vals = ndimage.affine_transform(
            np.asarray(patch_values, np.float32),
            inv_step,
            offset=offset,
            output_shape=out_shape,
            order=order,
            mode="nearest",
            prefilter=False,
        )
        return bbox, vals.astype(np.float32, copy=False)
