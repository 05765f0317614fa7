"""Smooth random fields: a coarse random grid upsampled to the image grid, separably.

Upsampling is a cubic-spline zoom written as one small matrix per axis (the zoom is linear,
so zooming the unit vectors gives its matrix), applied as three matrix products: a 10^3 grid
becomes a 256^3 field in a fraction of a second, where `ndimage.zoom` on the whole volume takes
several seconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage


@lru_cache(maxsize=32)
def _axis_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) float32: column j is the unit vector e_j zoomed to n_out points."""
    if n_in == 1:
        return np.ones((n_out, 1), dtype=np.float32)
    eye = np.eye(n_in, dtype=np.float64)
    m = ndimage.zoom(eye, (n_out / n_in, 1.0), order=3, mode="nearest", grid_mode=True)
    m = m[:n_out] if m.shape[0] >= n_out else np.pad(m, ((0, n_out - m.shape[0]), (0, 0)), "edge")
    return np.ascontiguousarray(m, dtype=np.float32)


def upsample(coarse: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A (a, b, c) coarse grid zoomed smoothly to `shape` (float32)."""
    mz, my, mx = (_axis_matrix(int(n), int(c)) for n, c in zip(shape, coarse.shape, strict=True))
    f = coarse.astype(np.float32)
    f = f @ mx.T  # (a, b, X)
    f = np.einsum("yb,abx->ayx", my, f)  # (a, Y, X)
    a = f.shape[0]
    out = mz @ f.reshape(a, -1)  # (Z, Y*X): one matrix product on the large side
    return out.reshape(shape)


class SmoothField:
    """A smooth field on `shape` kept as its (a, Y, X) partial product: z-slabs are made on
    demand, so a 256^3 displacement never needs its full 64 MB per component at once."""

    def __init__(self, coarse: np.ndarray, shape: tuple[int, int, int]) -> None:
        mz, my, mx = (
            _axis_matrix(int(n), int(c)) for n, c in zip(shape, coarse.shape, strict=True)
        )
        f = coarse.astype(np.float32) @ mx.T
        self._partial = np.einsum("yb,abx->ayx", my, f)
        self._mz = mz
        self.shape = tuple(int(n) for n in shape)

    def slab(self, z0: int, z1: int) -> np.ndarray:
        """The field's planes z0..z1-1, shape (z1 - z0, Y, X), float32."""
        a = self._partial.shape[0]
        out = self._mz[z0:z1] @ self._partial.reshape(a, -1)
        return out.reshape((z1 - z0,) + self.shape[1:])


def coarse_shape(shape, spacing_zyx, grid_mm: float) -> tuple[int, int, int]:
    """Points per axis of a coarse grid about `grid_mm` apart over the image's extent (at
    least 2, at most the image's own size): the field's smoothness is physical, not relative
    to the image size."""
    return tuple(
        int(min(n, max(2, np.ceil(n * s / grid_mm) + 1)))
        for n, s in zip(shape, spacing_zyx, strict=True)
    )


def coarse_noise(
    rng: np.random.Generator, shape: tuple[int, int, int], spacing_zyx, grid_mm: float, std: float
) -> np.ndarray:
    """N(0, std) on a coarse grid about `grid_mm` apart (see `coarse_shape`)."""
    return rng.standard_normal(coarse_shape(shape, spacing_zyx, grid_mm)).astype(
        np.float32
    ) * np.float32(std)


def random_field(
    rng: np.random.Generator, shape: tuple[int, int, int], spacing_zyx, grid_mm: float, std: float
) -> np.ndarray:
    """A smooth zero-mean random field on `shape`: N(0, std) on a coarse grid, upsampled."""
    return upsample(coarse_noise(rng, shape, spacing_zyx, grid_mm, std), shape)
