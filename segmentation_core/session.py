"""The interactive session: image, clicks, the current mask, multi-level undo and click removal.

A session never writes into caller memory: it copies the image in and hands back `Prediction`
objects (box + mask). Each interaction records the old values of the box it changed, so undo is
exact and cheap; removing a click replays the remaining clicks from an empty mask. If the engine
fails during an interaction, the session is left exactly as it was before it. A correction
click (any click once the mask is not empty) keeps only the change connected to it
(`segmentation_core.local_merge`), unless the session was opened with local_corrections=False.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from segmentation_core.autozoom import VolumeContext, ZoomSegmenter
from segmentation_core.encoding import robust_range
from segmentation_core.local_merge import merge_correction
from segmentation_core.masks import CONN26, box_slices, mask_bbox, offset_box, union_box
from segmentation_core.types import BBox, Click, Prediction, SegmentationError

EMPTY_BOX: BBox = (0, 0, 0, 0, 0, 0)


@dataclass
class _Step:
    """Undo record of one interaction: the box it changed, the old values there (bit-packed: a
    click that redraws a whole 256^3 mask keeps 2 MB, not 16 MB), the old bbox."""

    box: BBox
    packed: np.ndarray
    seg_bbox: BBox | None

    @classmethod
    def record(cls, box: BBox, old: np.ndarray, seg_bbox: BBox | None) -> _Step:
        return cls(box, np.packbits(old, axis=None), seg_bbox)

    def old(self) -> np.ndarray:
        shape = tuple(self.box[k + 3] - self.box[k] for k in range(3))
        bits = np.unpackbits(self.packed, count=int(np.prod(shape)))
        return bits.view(bool).reshape(shape)


class InteractiveSession:
    """Click-to-segment session over one image (see `segmentation_core.open_session`)."""

    def __init__(
        self,
        segmenter: ZoomSegmenter,
        engine_name: str,
        keep_clicked_components: bool = True,
        closer=None,
        local_corrections: bool = True,
    ) -> None:
        self._segmenter = segmenter
        self.engine_name = engine_name
        self.keep_clicked_components = keep_clicked_components
        self.local_corrections = local_corrections
        self._closer = closer
        self._vol: VolumeContext | None = None
        self._mask: np.ndarray | None = None
        self._clicks: list[Click] = []
        self._steps: list[_Step] = []
        self._seg_bbox: BBox | None = None

    # --- image ------------------------------------------------------------------------------
    def set_image(self, array_zyx: np.ndarray, spacing_zyx: Sequence[float]) -> None:
        """Use a new image (any numeric dtype, 3D, (z, y, x)); clears clicks and mask."""
        arr = np.asarray(array_zyx)
        if arr.ndim != 3 or min(arr.shape) < 1:
            raise SegmentationError(
                f"the image must be a non-empty 3D (z, y, x) array, got shape {arr.shape}"
            )
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
            raise SegmentationError(f"the image must be real-valued, got dtype {arr.dtype}")
        sp = np.asarray(spacing_zyx, dtype=float).reshape(-1)
        if sp.size != 3 or not np.all(np.isfinite(sp)) or np.any(sp <= 0):
            raise SegmentationError(
                f"spacing must be three positive numbers (z, y, x) in mm, got {spacing_zyx!r}"
            )
        image = np.array(arr, dtype=np.float32 if arr.dtype == bool else arr.dtype, copy=True)
        if np.issubdtype(image.dtype, np.floating):
            # in place on our own copy: NaN and inf become the lowest finite value
            bad = ~np.isfinite(image)
            if bad.any():
                finite = image[~bad]
                image[bad] = finite.min() if finite.size else 0.0
                del finite
            del bad
        lo, hi = robust_range(image)
        image.setflags(write=False)
        self._vol = VolumeContext(image=image, spacing=sp, lo=lo, hi=hi)
        self._mask = np.zeros(image.shape, dtype=bool)
        self._clicks, self._steps, self._seg_bbox = [], [], None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self._require_image().image.shape  # type: ignore[return-value]

    @property
    def image(self) -> np.ndarray:
        """The session's own read-only copy of the image, as the engine sees it (non-finite
        pixels already replaced)."""
        return self._require_image().image

    def _require_image(self) -> VolumeContext:
        if self._vol is None:
            raise SegmentationError("no image: call set_image(array, spacing) first")
        return self._vol

    # --- state ------------------------------------------------------------------------------
    @property
    def clicks(self) -> list[Click]:
        return list(self._clicks)

    @property
    def undo_nbytes(self) -> int:
        """Memory held by the undo records: one bit per voxel of each click's changed box."""
        return sum(step.packed.nbytes for step in self._steps)

    def segmentation(self) -> np.ndarray:
        """A copy of the current full-size bool mask."""
        self._require_image()
        return self._mask.copy()

    # --- interactions -----------------------------------------------------------------------
    def _check_click(self, zyx) -> tuple[int, int, int]:
        vol = self._require_image()
        try:
            pt = tuple(int(v) for v in zyx)
            raw = [float(v) for v in zyx]
        except (TypeError, ValueError):
            raise SegmentationError(
                f"a click is three voxel indices (z, y, x), got {zyx!r}"
            ) from None
        if len(pt) != 3 or any(r != p for r, p in zip(raw, pt)):
            raise SegmentationError(
                f"a click is three integer voxel indices (z, y, x), got {zyx!r}"
            )
        if not all(0 <= p < s for p, s in zip(pt, vol.image.shape)):
            raise SegmentationError(f"click {pt} lies outside the image of shape {vol.image.shape}")
        return pt  # type: ignore[return-value]

    def add_click(self, zyx, positive: bool = True) -> Prediction:
        """Add a click and return what changed; raises EngineError with the state unchanged."""
        pt = self._check_click(zyx)
        t0 = time.perf_counter()
        click = Click(pt, bool(positive))
        step, passes = self._apply(self._clicks + [click])
        self._clicks.append(click)
        self._steps.append(step)
        return self._prediction(step.box, time.perf_counter() - t0, passes)

    def _apply(self, clicks: list[Click]) -> tuple[_Step, list[int]]:
        """Run the engine for the last of `clicks` and write the result into the mask."""
        vol = self._vol
        foot, region, passes = self._segmenter.segment(vol, clicks, self._mask, self._seg_bbox)
        # every True voxel before and after lies in `work_box`, so labelling there is exact
        work_box = union_box(foot, self._seg_bbox)
        old = self._mask[box_slices(work_box)].copy()
        work = old.copy()
        f = tuple(foot[k] - work_box[k % 3] for k in range(6))
        work[f[0] : f[3], f[1] : f[4], f[2] : f[5]] = region
        last = tuple(c - o for c, o in zip(clicks[-1].zyx, work_box[:3]))
        inside = all(0 <= c < s for c, s in zip(last, work.shape))
        if self.local_corrections and self._seg_bbox is not None and inside:
            work = merge_correction(old, work, last, clicks[-1].positive)
        if self.keep_clicked_components:
            work = self._keep_clicked(work, work_box, clicks)
        changed = offset_box(mask_bbox(work != old), work_box)
        box = union_box(foot, changed)
        seg_bbox = offset_box(mask_bbox(work), work_box)
        inner = tuple(box[k] - work_box[k % 3] for k in range(6))
        step = _Step.record(
            box, old[inner[0] : inner[3], inner[1] : inner[4], inner[2] : inner[5]], self._seg_bbox
        )
        self._mask[box_slices(work_box)] = work
        self._seg_bbox = seg_bbox
        return step, passes

    @staticmethod
    def _keep_clicked(work: np.ndarray, origin: BBox, clicks: list[Click]) -> np.ndarray:
        """Keep the 26-connected parts that hold a positive click (if any click is covered)."""
        pts = [np.subtract(c.zyx, origin[:3]) for c in clicks if c.positive]
        pts = [p for p in pts if np.all(p >= 0) and np.all(p < work.shape) and work[tuple(p)]]
        if not pts:
            return work
        labels, n = ndimage.label(work, structure=CONN26)
        if n <= 1:
            return work
        keep = np.zeros(n + 1, bool)
        keep[[labels[tuple(p)] for p in pts]] = True
        keep[0] = False
        return keep[labels]

    def _prediction(self, box: BBox, latency: float, passes: list[int]) -> Prediction:
        return Prediction(box, self._mask[box_slices(box)].copy(), latency, passes)

    def undo(self) -> Prediction | None:
        """Take back the last click; returns what changed (None when there was nothing to undo)."""
        self._require_image()
        if not self._steps:
            return None
        step = self._steps.pop()
        self._clicks.pop()
        self._mask[box_slices(step.box)] = step.old()
        self._seg_bbox = step.seg_bbox
        return self._prediction(step.box, 0.0, [])

    def reset(self) -> None:
        """Forget all clicks and the mask (keeps the image)."""
        vol = self._require_image()
        self._mask = np.zeros(vol.image.shape, dtype=bool)
        self._clicks, self._steps, self._seg_bbox = [], [], None

    def remove_click(self, index: int) -> Prediction:
        """Remove click `index` and replay the others from an empty mask; returns what changed."""
        self._require_image()
        n = len(self._clicks)
        if not isinstance(index, (int, np.integer)) or not -n <= index < n:
            raise SegmentationError(f"no click number {index} (the session has {n} clicks)")
        t0 = time.perf_counter()
        saved = (self._mask, self._clicks, self._steps, self._seg_bbox)
        before_box = self._seg_bbox
        remaining = [c for i, c in enumerate(self._clicks) if i != index % n]
        self.reset()
        passes: list[int] = []
        try:
            for c in remaining:
                step, p = self._apply(self._clicks + [c])
                self._clicks.append(c)
                self._steps.append(step)
                passes += p
        except Exception:
            self._mask, self._clicks, self._steps, self._seg_bbox = saved
            raise
        box = union_box(before_box, self._seg_bbox) or EMPTY_BOX
        return self._prediction(box, time.perf_counter() - t0, passes)

    # --- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the engine's worker process, if any."""
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> InteractiveSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
