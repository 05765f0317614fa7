"""A dummy engine for the registry tests: the few lines a new engine needs."""

from __future__ import annotations

import numpy as np

from segmentation_core.engines import POINTS, SessionOptions
from segmentation_core.types import Prediction


class CubeSession:
    """Answers each click with the 3x3x3 cube around it (clipped to the image)."""

    def __init__(self, options: SessionOptions) -> None:
        self.options, self.shape, self.closed = options, None, False

    def set_image(self, array_zyx, spacing_zyx) -> None:
        self.shape = np.shape(array_zyx)

    def add_click(self, zyx, positive: bool = True) -> Prediction:
        lo = [max(0, int(v) - 1) for v in zyx]
        hi = [min(s, int(v) + 2) for v, s in zip(zyx, self.shape)]
        return Prediction((*lo, *hi), np.full([h - low for low, h in zip(lo, hi)], positive))

    def undo(self) -> None:
        return None

    def reset(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class CubeEngine:
    name, title, fallback = "cube", "Cube (test)", "classic"
    capabilities, model_formats = frozenset({POINTS}), ()

    def open(self, model_dir, options: SessionOptions) -> CubeSession:
        return CubeSession(options)
