"""Putting a label array from one grid onto another: exact reorder when voxels coincide, else
nearest-neighbour resampling. Every label import and export goes through `fit_to_grid`."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from viewer.errors import GeometryError
from viewer.model.geometry import Geometry

SAME = "same grid"
REORIENTED = "same voxels, reordered (flip/permutation/shift)"
RESAMPLED = "resampled with nearest neighbour"

_TOL = 1e-3  # in voxels: centres closer than this are the same voxel


def _src_index_from_dst(src: Geometry, dst: Geometry) -> np.ndarray:
    """4x4 matrix mapping a dst (x, y, z) index to the src (x, y, z) index of the same point."""
    return np.linalg.inv(src.index_to_world_matrix()) @ dst.index_to_world_matrix()


def fit_to_grid(array: np.ndarray, src: Geometry, dst: Geometry) -> tuple[np.ndarray, str]:
    """Return (`array` resampled onto `dst`, how). Voxels outside `src` become 0.

    Raises GeometryError when the two grids do not overlap at all (a label of another image).
    """
    if tuple(array.shape) != src.shape_zyx:
        raise ValueError(f"array shape {array.shape} does not match grid {src.shape_zyx}")
    if src.same_grid(dst):
        return array, SAME
    m = _src_index_from_dst(src, dst)
    lin, t = m[:3, :3], m[:3, 3]
    perm = np.round(lin)
    exact = (
        np.allclose(lin, perm, atol=_TOL)
        and np.allclose(np.abs(perm).sum(axis=0), 1)
        and np.allclose(np.abs(perm).sum(axis=1), 1)
        and np.allclose(t, np.round(t), atol=_TOL)
    )
    out = _reorder(array, src, dst, perm, np.round(t)) if exact else _resample(array, dst, m)
    if array.any() and not out.any():
        raise GeometryError(
            f"the label grid (origin {np.round(src.origin, 2).tolist()}, size "
            f"{list(src.size_xyz)}) does not overlap the image grid (origin "
            f"{np.round(dst.origin, 2).tolist()}, size {list(dst.size_xyz)})"
        )
    return out, REORIENTED if exact else RESAMPLED


def _reorder(
    array: np.ndarray, src: Geometry, dst: Geometry, perm: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Exact copy when every dst voxel centre is a src voxel centre (signed axis permutation)."""
    src_xyz = array.transpose(2, 1, 0)
    dst_size = dst.size_xyz
    src_axes, index_lists, valid_lists = [], [], []
    for j in range(3):  # dst axis j (x, y, z) reads src axis i with sign s
        i = int(np.argmax(np.abs(perm[:, j])))
        s = int(perm[i, j])
        idx = s * np.arange(dst_size[j]) + int(t[i])
        ok = (idx >= 0) & (idx < src.size_xyz[i])
        src_axes.append(i)
        index_lists.append(idx[ok])
        valid_lists.append(np.nonzero(ok)[0])
    out_xyz = np.zeros(dst_size, dtype=array.dtype)
    if all(len(v) for v in valid_lists):
        moved = src_xyz.transpose(*src_axes)
        out_xyz[np.ix_(*valid_lists)] = moved[np.ix_(*index_lists)]
    return np.ascontiguousarray(out_xyz.transpose(2, 1, 0))


def _resample(array: np.ndarray, dst: Geometry, m: np.ndarray) -> np.ndarray:
    """Nearest-neighbour resampling through the affine map (in zyx order for scipy)."""
    rev = [2, 1, 0]
    matrix = m[:3, :3][np.ix_(rev, rev)]
    offset = m[:3, 3][rev]
    return ndimage.affine_transform(
        array, matrix, offset=offset, output_shape=dst.shape_zyx, order=0, mode="constant", cval=0
    )
