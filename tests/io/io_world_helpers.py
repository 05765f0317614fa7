"""Test helpers: read reference NIfTIs independently (nibabel) and compare images in world space.

Two grids describe the same voxels when the map from one's index to the other's index is a
signed axis permutation plus an integer shift; the reference is then mapped onto our grid.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np

from viewer.model.geometry import Geometry

LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read_reference(path, time_index: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(array indexed [i, j, k(, c)], 4x4 index(i, j, k) -> LPS world) from a NIfTI via nibabel."""
    img = nib.load(str(path))
    data = np.asanyarray(img.dataobj)
    if data.dtype.names:  # RGB(A) structured dtype
        data = np.stack([data[n] for n in data.dtype.names[:3]], axis=-1)
    elif data.ndim >= 4:
        data = data[:, :, :, time_index or 0]
        while data.ndim > 3:
            data = data[..., 0]
    if data.ndim == 2:
        data = data[:, :, None]
    return data, LPS_FROM_RAS @ img.affine


def reference_on_grid(
    geometry: Geometry, ref: np.ndarray, ref_affine: np.ndarray, tol: float = 0.02
) -> np.ndarray:
    """The reference voxels on our (z, y, x) grid; asserts the grids coincide up to flips."""
    t = np.linalg.inv(ref_affine) @ geometry.index_to_world_matrix()
    rot = t[:3, :3]
    perm = np.rint(rot)
    assert np.allclose(rot, perm, atol=tol), f"grids are not axis-aligned:\n{rot}"
    assert np.allclose(np.abs(perm).sum(axis=0), 1) and np.allclose(np.abs(perm).sum(axis=1), 1)
    shift = t[:3, 3]
    assert np.allclose(shift, np.rint(shift), atol=tol * 5), f"grids are offset: {shift}"
    nz, ny, nx = geometry.shape_zyx
    z, y, x = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    ours = np.stack([x.ravel(), y.ravel(), z.ravel()])
    idx = (perm @ ours + np.rint(shift)[:, None]).astype(int)
    for axis in range(3):
        assert idx[axis].min() >= 0 and idx[axis].max() < ref.shape[axis], (
            f"our grid leaves the reference along axis {axis}: shape {ref.shape[:3]}"
        )
    values = ref[idx[0], idx[1], idx[2]]
    return values.reshape((nz, ny, nx) + ref.shape[3:])


def geometry_of_affine(shape_ijk, affine_lps: np.ndarray) -> Geometry:
    m = affine_lps[:3, :3]
    spacing = np.linalg.norm(m, axis=0)
    return Geometry(
        (shape_ijk[2], shape_ijk[1], shape_ijk[0]),
        tuple(spacing),
        tuple(affine_lps[:3, 3]),
        m / spacing,
    )
