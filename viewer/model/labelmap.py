"""The label map: a (z, y, x) integer array on exactly the image's grid."""

from __future__ import annotations

import numpy as np

from viewer.model.geometry import Geometry

LABEL_DTYPE = np.uint16


class LabelMap:
    """Voxel labels (0 = background) sharing the image geometry. Change it through commands."""

    def __init__(self, geometry: Geometry, array: np.ndarray | None = None) -> None:
        self.geometry = geometry
        if array is None:
            array = np.zeros(geometry.shape_zyx, dtype=LABEL_DTYPE)
        if tuple(array.shape) != geometry.shape_zyx:
            raise ValueError(f"label shape {array.shape} differs from image {geometry.shape_zyx}")
        if array.dtype != LABEL_DTYPE:
            if array.size and (array.min() < 0 or array.max() > np.iinfo(LABEL_DTYPE).max):
                raise ValueError("label values must lie in 0..65535")
            array = array.astype(LABEL_DTYPE)
        self.array = array

    def values(self) -> list[int]:
        return [int(v) for v in np.unique(self.array) if v != 0]

    def mask(self, value: int) -> np.ndarray:
        return self.array == value

    def copy(self) -> LabelMap:
        return LabelMap(self.geometry, self.array.copy())
