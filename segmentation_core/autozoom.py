"""AutoZoom: one interaction -> patch passes at growing zoom levels -> a mask in image voxels.

Both engines share this loop; they differ only in the patch model that maps the encoded input
(1, C, D, H, W) (C = encoding.IN_CHANNELS) to a foreground probability (D, H, W). A pass
samples a `PatchFrame` around the interaction at `working_spacing(spacing, level)`; when the
predicted mask touches a patch face behind which the image continues, the next pass doubles the
spacing (up to `max_level`), centred on the prediction and the clicks, and is fed this
prediction as its previous mask. A first (positive) click on an empty mask may instead start
at a coarser level, when the model is clearly surer of what it sees there (`first_pass`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from segmentation_core.encoding import build_input, normalise_patch
from segmentation_core.patch_frame import PatchFrame, fit_level, working_spacing
from segmentation_core.types import BBox, Click

# (1, C, D, H, W) input, working spacing of the patch (mm), positive and negative clicks in patch
# coordinates (n, 3) -> probability (D, H, W)
PatchModel = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ZoomConfig:
    patch_shape: tuple[int, int, int] = (64, 64, 64)
    max_level: int = 3
    threshold: float = 0.5
    # First click on an empty segmentation: also size the structure from the coarsest level
    # down and keep that answer when the model is clearly surer of it (`ZoomSegmenter.first_pass`);
    # False: every first click starts at level 0 only.
    size_first_click: bool = False
    # the coarse answer must leave at most this share of the finest one's uncertainty
    # (1 - mean probability inside the clicked part)
    uncertainty_ratio: float = 0.5


@dataclass
class VolumeContext:
    """The image as the engine sees it: array, spacing (z, y, x) mm and the clip range."""

    image: np.ndarray
    spacing: np.ndarray
    lo: float
    hi: float


def touches_open_border(fg: np.ndarray, frame: PatchFrame, image_shape) -> bool:
    """True when `fg` reaches a patch face beyond which the image still has voxels."""
    z0, y0, x0, z1, y1, x1 = frame.native_bbox(image_shape)
    lo, hi = (z0, y0, x0), (z1, y1, x1)
    for axis in range(3):
        if lo[axis] > 0 and fg.take(0, axis=axis).any():
            return True
        if hi[axis] < image_shape[axis] and fg.take(-1, axis=axis).any():
            return True
    return False


def _covers(frame: PatchFrame, box: BBox, image_shape) -> bool:
    fb = frame.native_bbox(image_shape)
    return all(fb[k] <= box[k] and box[k + 3] <= fb[k + 3] for k in range(3))


class ZoomSegmenter:
    """Runs a patch model over one interaction with AutoZoom; returns the footprint's new mask."""

    def __init__(self, model: PatchModel, config: ZoomConfig | None = None) -> None:
        self.model = model
        self.config = config or ZoomConfig()

    def _frame(self, vol: VolumeContext, centre, level: int) -> PatchFrame:
        ws = working_spacing(vol.spacing, level)
        f = PatchFrame.centred(centre, vol.spacing, ws, self.config.patch_shape)
        # snap the first patch voxel onto a native voxel: at native spacing the patch is then an
        # exact crop instead of a half-voxel-shifted (blurred) resampling
        return PatchFrame(tuple(np.round(f.offset).tolist()), f.step, f.shape)

    def start_frame(
        self, vol: VolumeContext, click: Click, seg_bbox: BBox | None
    ) -> tuple[np.ndarray, int]:
        """Centre and level of the first pass: the click at level 0, unless the current
        segmentation does not fit there; then its box (with the click) at the level that covers it."""
        centre = np.asarray(click.zyx, float)
        if seg_bbox is None or _covers(self._frame(vol, centre, 0), seg_bbox, vol.image.shape):
            return centre, 0
        lo = np.minimum(np.asarray(seg_bbox[:3]), centre)
        hi = np.maximum(np.asarray(seg_bbox[3:]), centre + 1)
        centre = (lo + hi - 1) / 2.0
        box = (*lo.astype(int).tolist(), *hi.astype(int).tolist())
        for level in range(self.config.max_level + 1):
            if _covers(self._frame(vol, centre, level), box, vol.image.shape):
                return centre, level
        return centre, self.config.max_level

    def _pass(self, vol, centre, level, pos, neg, mask, overlay):
        """One network pass: (frame, probability in the frame)."""
        frame = self._frame(vol, centre, level)
        img = normalise_patch(frame.sample(vol.image, order=1, cval=vol.lo), vol.lo, vol.hi)
        prev = self._previous(frame, mask, overlay)
        pos_p, neg_p = frame.to_patch(pos), frame.to_patch(neg)
        x = build_input(img, pos_p, neg_p, prev)
        return frame, self.model(x, working_spacing(vol.spacing, level), pos_p, neg_p)

    def first_pass(
        self,
        vol: VolumeContext,
        click: Click,
        pos: np.ndarray,
        neg: np.ndarray,
        mask: np.ndarray,
        passes: list[int],
    ) -> tuple[np.ndarray, int, tuple[PatchFrame, np.ndarray]]:
        """(centre, level, (frame, probability)) of the first pass for a first click.

        At level 0 a click inside a large organ sees only the organ's interior, and the network
        may answer with a small ball that never reaches the patch border, so AutoZoom never
        grows. So the first click is also sized from the coarsest level down (`_sized_pass`);
        the network's answer there replaces the level-0 one only when it is clearly surer: its
        uncertainty (1 - mean probability inside the clicked part) at most `uncertainty_ratio`
        of the level-0 answer's. A small structure is only an unsure blob at a coarse level; a
        large organ is whole and sure there. A wrong coarse answer is costly (the next clicks
        start at the level that holds it), hence a strict rule."""
        centre = np.asarray(click.zyx, float)
        plain = self._pass(vol, centre, 0, pos, neg, mask, None)
        passes.append(0)
        if touches_open_border(plain[1] > self.config.threshold, plain[0], vol.image.shape):
            return centre, 0, plain  # AutoZoom grows from here as usual
        sized = self._sized_pass(vol, click, pos, neg, mask, passes)
        if sized is not None:
            unsure_sized = 1.0 - self._confidence(sized[2], click)
            unsure_plain = 1.0 - self._confidence(plain, click)
            if unsure_sized <= self.config.uncertainty_ratio * unsure_plain:
                return sized
        return centre, 0, plain

    def _confidence(self, result, click: Click) -> float:
        frame, prob = result
        part = self._clicked_part(prob > self.config.threshold, frame, click)
        return 0.0 if part is None else float(prob[tuple(part.T)].mean())

    def _sized_pass(self, vol, click: Click, pos, neg, mask, passes: list[int]):
        """(centre, level, pass) from the coarsest level down, or None when it ends at level 0.

        Each pass measures the clicked part's extent; the next looks at the finer level it fits
        (centred on it, as a grow step would), until the level the part fits is the one it was
        seen at."""
        centre = np.asarray(click.zyx, float)
        level = self.config.max_level
        while level > 0:
            frame, prob = self._pass(vol, centre, level, pos, neg, mask, None)
            passes.append(level)
            part = self._clicked_part(prob > self.config.threshold, frame, click)
            if part is None:
                return None
            voxel_mm = np.asarray(frame.step) * vol.spacing
            extent_mm = (part.max(axis=0) - part.min(axis=0) + 1) * voxel_mm
            fit = fit_level(vol.spacing, extent_mm, self.config.patch_shape, self.config.max_level)
            if fit >= level:
                return centre, level, (frame, prob)
            pts = np.concatenate([frame.to_native(part), np.asarray(click.zyx, float)[None]])
            centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
            level = fit
        return None

    @staticmethod
    def _clicked_part(fg: np.ndarray, frame: PatchFrame, click: Click) -> np.ndarray | None:
        """Patch voxels (n, 3) of the predicted part that holds (or lies nearest to) the click."""
        if not fg.any():
            return None
        labels, _n = ndimage.label(fg)
        at = np.rint(frame.to_patch(np.asarray(click.zyx, float))[0]).astype(int)
        at = np.clip(at, 0, np.asarray(fg.shape) - 1)
        lab = labels[tuple(at)]
        if lab == 0:
            pts = np.argwhere(fg)
            lab = labels[tuple(pts[np.argmin(((pts - at) ** 2).sum(axis=1))])]
        return np.argwhere(labels == lab)

    def _previous(self, frame: PatchFrame, mask: np.ndarray, overlay) -> np.ndarray:
        """The previous mask (with the last pass pasted over it) sampled into `frame`."""
        shape = mask.shape
        z0, y0, x0, z1, y1, x1 = frame.native_bbox(shape)
        lo = np.maximum(np.array([z0, y0, x0]) - 1, 0)
        hi = np.minimum(np.array([z1, y1, x1]) + 1, shape)
        if np.any(hi <= lo):
            return np.zeros(frame.shape, np.float32)
        crop = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].astype(np.float32)
        if overlay is not None:
            ob, vals = overlay
            a = np.maximum(lo, ob[:3])
            b = np.minimum(hi, ob[3:])
            if np.all(b > a):
                crop[
                    a[0] - lo[0] : b[0] - lo[0],
                    a[1] - lo[1] : b[1] - lo[1],
                    a[2] - lo[2] : b[2] - lo[2],
                ] = vals[
                    a[0] - ob[0] : b[0] - ob[0],
                    a[1] - ob[1] : b[1] - ob[1],
                    a[2] - ob[2] : b[2] - ob[2],
                ]
        shifted = PatchFrame(tuple(np.asarray(frame.offset) - lo), frame.step, frame.shape)
        return shifted.sample(crop, order=1, cval=0.0)

    def segment(
        self,
        vol: VolumeContext,
        clicks: Sequence[Click],
        mask: np.ndarray,
        seg_bbox: BBox | None,
    ) -> tuple[BBox, np.ndarray, list[int]]:
        """Predict for the last click of `clicks` (all clicks are shown to the model).

        Returns (footprint bbox, new bool mask inside it, zoom level of every pass)."""
        cfg = self.config
        pos = np.array([c.zyx for c in clicks if c.positive], float).reshape(-1, 3)
        neg = np.array([c.zyx for c in clicks if not c.positive], float).reshape(-1, 3)
        passes: list[int] = []
        first = None
        if cfg.size_first_click and seg_bbox is None and clicks[-1].positive:
            centre, level, first = self.first_pass(vol, clicks[-1], pos, neg, mask, passes)
        else:
            centre, level = self.start_frame(vol, clicks[-1], seg_bbox)
        overlay = None
        while True:
            if first is not None:
                (frame, prob), first = first, None
            else:
                frame, prob = self._pass(vol, centre, level, pos, neg, mask, overlay)
                passes.append(level)
            fg = prob > cfg.threshold
            if level >= cfg.max_level or not touches_open_border(fg, frame, vol.image.shape):
                break
            # grow: centre on the prediction and the clicks, feed this prediction as previous
            pts = frame.to_native(np.argwhere(fg))
            pts = np.concatenate([pts, pos])
            centre = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
            overlay = frame.paste_back(prob, vol.image.shape, order=1)
            level += 1
        bbox, vals = frame.paste_back(prob, vol.image.shape, order=1)
        return bbox, vals > cfg.threshold, passes
