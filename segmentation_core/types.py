"""Value types of the session API: clicks, predictions and the errors a session raises."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BBox = tuple[int, int, int, int, int, int]


class SegmentationError(Exception):
    """Base class of everything a session raises on purpose (bad input, engine failure)."""


class EngineError(SegmentationError):
    """The inference engine failed for this interaction; the session state is unchanged."""


class EngineCrashed(EngineError):
    """The inference worker process died (killed, segfault); it has been restarted."""


class EngineTimeout(EngineError):
    """The inference worker did not answer in time; it has been restarted."""


@dataclass(frozen=True)
class Click:
    """One interaction: a voxel (z, y, x) of the image and its sign."""

    zyx: tuple[int, int, int]
    positive: bool = True


@dataclass
class Prediction:
    """What changed: `mask` (bool, the box's shape) is the session's segmentation inside `bbox`.

    `bbox` is half-open (z0, y0, x0, z1, y1, x1) in image voxels, so `seg[z0:z1, y0:y1, x0:x1] =
    mask` brings a copy of the segmentation up to date. `latency_s` is the wall time of the
    interaction; `passes` lists the zoom level of every network/algorithm pass it took.
    """

    bbox: BBox
    mask: np.ndarray
    latency_s: float = 0.0
    passes: list[int] = field(default_factory=list)

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        z0, y0, x0, z1, y1, x1 = self.bbox
        return slice(z0, z1), slice(y0, y1), slice(x0, x1)
