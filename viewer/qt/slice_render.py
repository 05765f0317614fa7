"""Turns 2D slices into display pixels with lookup tables: grey levels and the label overlay.

Pure numpy; the tables are rebuilt only when window/level or segment colours change, so a slice
change costs one table lookup per image (no full-volume work per frame).
"""

from __future__ import annotations

import numpy as np

from viewer.model.segments import SegmentTable
from viewer.model.view_state import WindowLevel


class GreyLUT:
    """Maps raw voxel values to uint8 grey through window/level (and invert).

    8- and 16-bit integer images use a table indexed by the value's bit pattern (no arithmetic
    per pixel); other types fall back to a vectorised linear ramp.
    """

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self._table: np.ndarray | None = None
        self._key: tuple | None = None
        if self.dtype.kind in "ui" and self.dtype.itemsize <= 2:
            self._index_dtype = np.dtype(f"u{self.dtype.itemsize}")
            n = 1 << (8 * self.dtype.itemsize)
            raw = np.arange(n, dtype=np.int64)
            if self.dtype.kind == "i":
                raw = np.where(raw >= n // 2, raw - n, raw)  # two's complement bit pattern -> value
            self._values = raw.astype(np.float64)
        else:
            self._index_dtype = None

    def set_window(self, window: WindowLevel, invert: bool = False) -> None:
        key = (window.low, window.high, invert)
        if key == self._key:
            return
        self._key = key
        if self._index_dtype is not None:
            self._table = self._ramp(self._values, window, invert)

    @staticmethod
    def _ramp(values: np.ndarray, window: WindowLevel, invert: bool) -> np.ndarray:
        scale = 255.0 / max(window.high - window.low, 1e-12)
        g = np.clip((values - window.low) * scale, 0.0, 255.0)
        if invert:
            g = 255.0 - g
        g = np.nan_to_num(g, nan=0.0)  # NaN voxels (no data) are drawn black, not undefined
        return (g + 0.5).astype(np.uint8)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """uint8 grey of a 2D slice (any strides)."""
        if self._key is None:
            raise RuntimeError("set_window() first")
        if self._table is not None:
            return np.take(self._table, image.view(self._index_dtype))
        low, high, invert = self._key
        return self._ramp(image.astype(np.float32), WindowLevel.from_range(low, high), invert)


class OverlayLUT:
    """Label value -> RGBA colour (alpha 0 for background and hidden segments)."""

    def __init__(self) -> None:
        self.table = np.zeros((1, 4), dtype=np.uint8)

    def update(self, segments: SegmentTable, max_label: int = 0) -> None:
        n = max([max_label, *segments.ids(), 0]) + 1
        table = np.zeros((n, 4), dtype=np.uint8)
        for s in segments:
            if s.visible:
                table[s.id, :3] = s.colour
                table[s.id, 3] = 255
        self.table = table

    def apply(self, labels: np.ndarray, outline: bool = False) -> np.ndarray | None:
        """RGBA (rows, cols, 4) for a 2D label slice, or None when nothing would be drawn."""
        if not labels.any():
            return None
        lab = labels
        if outline:
            lab = labels * boundary_mask(labels)
        if int(lab.max()) >= len(self.table):  # values unknown to the table draw as nothing
            lab = np.where(lab < len(self.table), lab, 0)
        return np.take(self.table, lab, axis=0)


def boundary_mask(labels: np.ndarray) -> np.ndarray:
    """True on labelled pixels that touch a pixel of another value (4-neighbourhood)."""
    b = np.zeros(labels.shape, dtype=bool)
    b[1:, :] |= labels[1:, :] != labels[:-1, :]
    b[:-1, :] |= labels[:-1, :] != labels[1:, :]
    b[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    b[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    b[0, :] = b[-1, :] = True
    b[:, 0] |= True
    b[:, -1] |= True
    return b & (labels != 0)
