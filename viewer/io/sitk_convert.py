"""The one place that converts between SimpleITK images and RadLabel `Geometry` / `Volume`.

SimpleITK arrays come out (z, y, x) already; ITK's spacing, origin and direction are exactly
`Geometry`'s conventions (x, y, z order, LPS world, direction columns = index axes).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from viewer.model.geometry import Geometry

# Direction matrices whose columns deviate from orthonormal by more than this are refused:
# they carry a shear or scale that a (spacing, direction) grid cannot represent.
ORTHONORMAL_TOL = 1e-3
NON_ORTHONORMAL_REASON = (
    "non-orthonormal affine: the voxel axes in the header are sheared or not perpendicular, "
    "which cannot be shown as an image grid (resample it to an orthonormal grid first)"
)


def direction_is_orthonormal(direction: np.ndarray, tol: float = ORTHONORMAL_TOL) -> bool:
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    return bool(np.allclose(d.T @ d, np.eye(3), atol=tol))


def orthonormalize(direction: np.ndarray) -> np.ndarray:
    """Nearest orthonormal matrix (polar decomposition); removes float noise from headers."""
    u, _s, vt = np.linalg.svd(np.asarray(direction, dtype=float).reshape(3, 3))
    return u @ vt


def geometry_from_image(image: sitk.Image) -> Geometry:
    """Geometry of the first three dimensions of a 2D, 3D or 4D SimpleITK image."""
    dim = image.GetDimension()
    size = list(image.GetSize()) + [1] * (3 - dim)
    spacing = list(image.GetSpacing()) + [1.0] * (3 - dim)
    origin = list(image.GetOrigin()) + [0.0] * (3 - dim)
    full = np.array(image.GetDirection(), dtype=float).reshape(dim, dim)
    direction = np.eye(3)
    k = min(dim, 3)
    direction[:k, :k] = full[:k, :k]
    return Geometry(
        shape_zyx=(size[2], size[1], size[0]),
        spacing=tuple(spacing[:3]),
        origin=tuple(origin[:3]),
        direction=direction,
    )


def apply_geometry(image: sitk.Image, geometry: Geometry) -> sitk.Image:
    """Set spacing, origin and direction of a 3D image from `geometry` (in place; returned)."""
    image.SetSpacing(tuple(float(s) for s in geometry.spacing))
    image.SetOrigin(tuple(float(o) for o in geometry.origin))
    image.SetDirection(tuple(float(v) for v in np.asarray(geometry.direction).ravel()))
    return image


def image_from_array(array: np.ndarray, geometry: Geometry) -> sitk.Image:
    """A 3D SimpleITK image (vector pixels for (z, y, x, c) arrays) on exactly `geometry`."""
    if tuple(array.shape[:3]) != geometry.shape_zyx:
        raise ValueError(f"array shape {array.shape} does not match geometry {geometry.shape_zyx}")
    if array.ndim not in (3, 4):
        raise ValueError(f"expected a (z, y, x) or (z, y, x, c) array, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=array.ndim == 4)
    return apply_geometry(image, geometry)


def array_from_image(image: sitk.Image) -> np.ndarray:
    """A numpy copy of a 3D image's voxels, (z, y, x) or (z, y, x, c) for vector pixels."""
    return sitk.GetArrayFromImage(image)


def reference_image(geometry: Geometry, pixel_id: int = sitk.sitkUInt8) -> sitk.Image:
    """An empty-ish image that only carries a grid, for use as a resampling reference."""
    image = sitk.Image([int(s) for s in geometry.size_xyz], pixel_id)
    return apply_geometry(image, geometry)
