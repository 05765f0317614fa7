"""One training case for automatic segmentation, as plain arrays (no file formats here).

The CLI and the project load images through `viewer.io` and hand `AutoCase`s to the planner and
the trainer, so `segmentation_core` never reads files or imports the viewer. `modality` is the
viewer's decision (`viewer.model.modality.effective_modality`): "CT" selects CT normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AutoCase:
    """An image (z, y, x), its label map on the same grid, and where it came from."""

    name: str
    image: np.ndarray
    label: np.ndarray
    spacing_zyx: tuple[float, float, float]
    modality: str = ""
    patient: str = ""  # cases of one patient stay in one cross-validation fold ("" = own name)
    # ITK direction (3x3, columns = world directions of the x, y, z index axes); None: identity.
    # Training turns every case to one orientation (`segmentation_core.auto.orientation`).
    direction: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape != self.label.shape:
            raise ValueError(
                f"case {self.name}: image {self.image.shape} and label {self.label.shape} "
                "must be 3-D arrays of the same shape"
            )
        self.spacing_zyx = tuple(float(s) for s in self.spacing_zyx)  # type: ignore[assignment]
        if len(self.spacing_zyx) != 3 or min(self.spacing_zyx) <= 0:
            raise ValueError(f"case {self.name}: bad spacing {self.spacing_zyx}")
        if not self.patient:
            self.patient = self.name
