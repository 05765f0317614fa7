"""The image volume: a (z, y, x) array with its geometry and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.model.geometry import Geometry


@dataclass
class Volume:
    """An image: `array` is (z, y, x) for scalar images, (z, y, x, c) for RGB/multi-component."""

    array: np.ndarray
    geometry: Geometry
    modality: str = ""  # "CT", "MR", ... when known
    source_path: str = ""
    name: str = ""
    metadata: dict = field(default_factory=dict)  # e.g. DICOM UIDs needed for SEG export

    def __post_init__(self) -> None:
        if tuple(self.array.shape[:3]) != self.geometry.shape_zyx:
            raise ValueError(
                f"array shape {self.array.shape} does not match geometry {self.geometry.shape_zyx}"
            )

    @property
    def is_rgb(self) -> bool:
        return self.array.ndim == 4 and self.array.shape[3] in (3, 4)

    @property
    def is_segmentable(self) -> bool:
        """Intensity-based tools and AI need a scalar image."""
        return self.array.ndim == 3

    def value_range(self) -> tuple[float, float]:
        if self.array.size == 0:
            return (0.0, 0.0)
        return float(np.min(self.array)), float(np.max(self.array))
