"""Training patches: foreground-oversampled crops with augmentation, for one plan stage.

A third of the patches (nnU-Net's share) contain a voxel of a randomly chosen class present in
the case, at a random place in the patch, so small structures are seen often; the rest are
centred anywhere.
Spatial augmentation (rotation + elastic warp in millimetres) reuses the interactive training's
`segmentation_core.training.augment` (`warped_coordinates`, `sample_at`); intensity augmentation
(brightness, contrast, noise) works on the already normalised values. Mirroring only where the
plan says so: half the patches flipped left-right (array axis 2 in the canonical orientation),
the left/right classes exchanged; a liver or a spleen is never mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from segmentation_core.patch_frame import PatchFrame
from segmentation_core.training.augment import sample_at, warped_coordinates

MAX_LOCATIONS = 5000


@dataclass
class StageCase:
    """A case resampled and normalised for one stage."""

    name: str
    image: np.ndarray  # float32 (z, y, x), normalised
    classes: np.ndarray  # uint8 class indices
    spacing_zyx: tuple
    prev: np.ndarray | None = None  # previous stage's prediction (class indices) on this grid
    locations: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(0)
        for c in np.unique(self.classes):
            if c == 0:
                continue
            idx = np.argwhere(self.classes == c)
            if len(idx) > MAX_LOCATIONS:
                idx = idx[rng.choice(len(idx), MAX_LOCATIONS, replace=False)]
            self.locations[int(c)] = idx


def crop(array: np.ndarray, start, shape, cval) -> np.ndarray:
    """array[start:start+shape] with `cval` outside the array."""
    out = np.full(shape, cval, dtype=array.dtype)
    src_lo = np.maximum(start, 0)
    src_hi = np.minimum(np.asarray(start) + shape, array.shape)
    if np.any(src_hi <= src_lo):
        return out
    dst_lo = src_lo - start
    dst_hi = dst_lo + (src_hi - src_lo)
    out[dst_lo[0] : dst_hi[0], dst_lo[1] : dst_hi[1], dst_lo[2] : dst_hi[2]] = array[
        src_lo[0] : src_hi[0], src_lo[1] : src_hi[1], src_lo[2] : src_hi[2]
    ]
    return out


def one_hot_channels(classes: np.ndarray, n_classes: int) -> np.ndarray:
    return (classes[None] == np.arange(n_classes, dtype=classes.dtype)[:, None, None, None]).astype(
        np.float32
    )


class PatchSampler:
    """Batches (x: N, C, D, H, W float32; y: N, D, H, W int64) from a list of StageCases."""

    def __init__(
        self,
        cases: list[StageCase],
        patch_zyx,
        n_classes: int,
        extra_channels: int,
        rng: np.random.Generator,
        fg_fraction: float = 1 / 3,
        spatial_p: float = 0.3,
        augment: bool = True,
        pick=None,
        synth=None,
        synth_share: float = 0.0,
        mirror_swap: np.ndarray | None = None,
    ) -> None:
        if not cases and synth is None:
            raise ValueError("no training cases")
        self.cases = cases
        self.patch = np.asarray(patch_zyx, int)
        self.n_classes = n_classes
        self.extra = extra_channels
        self.rng = rng
        self.fg_fraction = fg_fraction
        self.spatial_p = spatial_p if augment else 0.0
        self.augment = augment
        # which case the next patch comes from (default: uniformly at random)
        self.pick = pick or (lambda: int(self.rng.integers(len(self.cases))))
        # generated images (`synth_source.GeneratedStageCases`): this share of the patches,
        # all of them when there are no cases
        self.synth = synth
        self.synth_share = synth_share if cases else 1.0
        # left-right flip of half the patches, the classes exchanged by this permutation
        # (`orientation.training_swap`); None: no flips
        self.mirror_swap = mirror_swap

    def next_case(self) -> StageCase:
        if self.synth is not None and (
            self.synth_share >= 1.0 or self.rng.random() < self.synth_share
        ):
            return self.synth()
        return self.cases[self.pick()]

    def centre(self, case: StageCase, force_fg: bool) -> np.ndarray:
        if force_fg and case.locations:
            cls = self.rng.choice(sorted(case.locations))
            locs = case.locations[int(cls)]
            voxel = locs[self.rng.integers(len(locs))].astype(float)
            # the voxel lands anywhere in the patch (nnU-Net's rule), not at its centre: a net
            # that always sees its structures in the middle learns the position, not the
            # anatomy, and finds nothing in a sliding window (measured: Dice 0 on whole volumes)
            return voxel + self.rng.uniform(-0.5, 0.5, 3) * (self.patch - 1)
        # anywhere, so that the patch can overlap the border by up to half a patch
        hi = np.maximum(np.asarray(case.image.shape) - 1, 0)
        return self.rng.uniform(0, 1, 3) * hi

    def one(self, case: StageCase, force_fg: bool):
        c = self.centre(case, force_fg)
        shape = tuple(int(s) for s in self.patch)
        cval = float(case.image.min())
        if self.rng.random() < self.spatial_p:
            frame = PatchFrame.centred(c, case.spacing_zyx, case.spacing_zyx, shape)
            coords = warped_coordinates(frame, case.spacing_zyx, self.rng, 15.0, 2.0)
            img = sample_at(case.image, coords, 1, cval)
            lab = sample_at(case.classes, coords, 0, 0).astype(np.uint8)
            prev = (
                None if case.prev is None else sample_at(case.prev, coords, 0, 0).astype(np.uint8)
            )
        else:
            start = np.round(c - (self.patch - 1) / 2).astype(int)
            img = crop(case.image, start, shape, cval)
            lab = crop(case.classes, start, shape, 0)
            prev = None if case.prev is None else crop(case.prev, start, shape, 0)
        if self.augment and self.mirror_swap is not None and self.rng.random() < 0.5:
            img, lab = img[..., ::-1], self.mirror_swap[lab[..., ::-1]].astype(np.uint8)
            if prev is not None:
                prev = self.mirror_swap[prev[..., ::-1]].astype(np.uint8)
        if self.augment:
            img = self.intensity(img)
        chans = [img[None]]
        if self.extra:
            chans.append(one_hot_channels(prev if prev is not None else lab * 0, self.extra))
        return np.concatenate(chans, axis=0), lab

    def intensity(self, img: np.ndarray) -> np.ndarray:
        r = self.rng
        if r.random() < 0.15:
            img = img * r.uniform(0.75, 1.25)
        if r.random() < 0.15:
            m = img.mean()
            img = (img - m) * r.uniform(0.75, 1.25) + m
        if r.random() < 0.1:
            img = img + r.normal(0, r.uniform(0, 0.3), img.shape)
        return img.astype(np.float32)

    def batch(self, n: int):
        xs, ys = [], []
        for i in range(n):
            case = self.next_case()
            # nnU-Net's rule: the last third of a batch is foreground-centred (batch 1: at random)
            if n > 1:
                force = i >= round(n * (1 - self.fg_fraction))
            else:
                force = self.rng.random() < self.fg_fraction
            x, y = self.one(case, bool(force))
            xs.append(x)
            ys.append(y)
        return np.stack(xs), np.stack(ys).astype(np.int64)
