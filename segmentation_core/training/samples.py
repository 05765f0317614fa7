"""Builds one training patch: where to look, at which zoom, with which first click.

Mirrors what the engine does at inference: a patch centred near a click at a working spacing
from `working_spacing(level)`; the level is chosen so that sometimes the structure fits and
sometimes it overflows (as at the first AutoZoom step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from segmentation_core.encoding import normalise_patch
from segmentation_core.patch_frame import PatchFrame, fit_level, working_spacing
from segmentation_core.training import augment
from segmentation_core.training.clicks import interior_point
from segmentation_core.training.dataset import Target, TrainingCase

FINER_SCAN_FRACTION = 0.3


@dataclass
class PatchSample:
    image: np.ndarray  # normalised (D, H, W)
    target: np.ndarray  # bool (D, H, W)
    valid: np.ndarray  # bool: inside the image
    first_click: tuple[int, int, int]
    spacing: np.ndarray  # patch spacing (mm), after axis permutation
    # the network is shown this patch without its image channel (the affinity channels,
    # computed from the image, stay): see `trainer.TrainConfig.image_dropout`
    drop_image: bool = False


def _choose_level(target: Target, spacing_zyx, patch: int, rng: np.random.Generator) -> int:
    """A zoom level the engine passes through for this target.

    AutoZoom starts every first click at level 0 and doubles the spacing while the prediction
    touches the patch border, so a large organ is seen at every level from 0 up to the one
    whose field of view holds it ('fit'): sample uniformly over those, and sometimes one above.
    """
    z0, y0, x0, z1, y1, x1 = target.bbox
    extent_mm = np.array([z1 - z0, y1 - y0, x1 - x0]) * np.asarray(spacing_zyx)
    fit = fit_level(spacing_zyx, extent_mm, patch)
    if rng.random() < 0.15:
        return min(fit + 1, 3)
    return int(rng.integers(0, fit + 1))


def _spacing_jitter(spacing_zyx, rng: np.random.Generator) -> np.ndarray:
    """Working-spacing multipliers, sometimes a thick-slice axis (2-6 mm)."""
    return np.exp(rng.uniform(-0.25, 0.25, size=3))


def _first_click(case: TrainingCase, target: Target, mask_full, spacing, rng) -> np.ndarray | None:
    """A random interior voxel of the target (native indices; found in its bbox for speed)."""
    z0, y0, x0, z1, y1, x1 = target.bbox
    pt = interior_point(mask_full[z0:z1, y0:y1, x0:x1], sampling=spacing, rng=rng)
    if pt is None:
        return None
    return np.array(pt, float) + np.array([z0, y0, x0])


def _patch_frame(
    target: Target, spacing: np.ndarray, click_native: np.ndarray, patch: int, rng
) -> tuple[PatchFrame, np.ndarray]:
    """(frame, working spacing) of a patch around the click, at a random zoom level."""
    # sometimes pretend the scan was acquired finer (down to a third of its spacing): the
    # training scans are mostly 3 mm, users' CTs are often 1 mm, and at 1 mm a first click's
    # patch lies wholly inside a large organ, which the network must learn to fill
    virtual = spacing * (rng.uniform(1 / 3, 1.0) if rng.random() < FINER_SCAN_FRACTION else 1.0)
    level = _choose_level(target, virtual, patch, rng)
    work = working_spacing(virtual, level) * _spacing_jitter(spacing, rng)
    if rng.random() < 0.2:
        ax = int(rng.integers(3))
        work[ax] = max(work[ax], rng.uniform(2.0, 6.0))
    step = work / spacing
    # the click is not always at the centre (later clicks and re-centred zoom steps are not)
    shift = rng.uniform(-0.25, 0.25, size=3) * patch * step
    return PatchFrame.centred(click_native + shift, spacing, work, (patch,) * 3), work


def _sample_patch(case: TrainingCase, mask_full, frame: PatchFrame, spacing, rng):
    """(image, target, inside) of the frame, through a random elastic warp."""
    coords = augment.warped_coordinates(frame, spacing, rng)
    img = augment.sample_at(case.image, coords, order=1, cval=case.lo)
    tgt = augment.sample_at(mask_full, coords, order=1, cval=0.0) > 0.5
    inside = np.all(
        [(coords[i] >= -0.5) & (coords[i] <= case.image.shape[i] - 0.5) for i in range(3)], axis=0
    )
    return img, tgt, inside


def _normalised(img: np.ndarray, case: TrainingCase, rng) -> np.ndarray:
    """The patch in the network's input range, with random intensity changes and noise."""
    lo, hi = case.lo, case.hi
    img01 = (np.clip(img, lo, hi) - lo) / (hi - lo)
    img01 = augment.intensity_augment(img01, rng)
    img_n = normalise_patch(img01, 0.0, 1.0)
    if rng.random() < 0.3:
        img_n = img_n + rng.normal(0, rng.uniform(0.02, 0.15), img_n.shape).astype(np.float32)
    return img_n


def _click_in_patch(frame, click_native, tgt, work, patch: int, rng) -> np.ndarray | None:
    """Where the native click landed in the patch, or a random target voxel when it missed."""
    click_patch = frame.to_patch(click_native)[0]
    c = np.clip(np.rint(click_patch).astype(int), 0, patch - 1)
    if not tgt[tuple(c)]:
        interior = interior_point(tgt, sampling=work, rng=rng)
        if interior is None:
            return None
        c = np.array(interior)
    return c


def make_patch_sample(
    case: TrainingCase, target: Target, patch: int, rng: np.random.Generator
) -> PatchSample | None:
    """One augmented training patch around a random first click on `target` (None: unusable)."""
    spacing = np.asarray(case.spacing_zyx, float)
    mask_full = case.label == target.value
    click_native = _first_click(case, target, mask_full, spacing, rng)
    if click_native is None:
        return None
    frame, work = _patch_frame(target, spacing, click_native, patch, rng)
    img, tgt, inside = _sample_patch(case, mask_full, frame, spacing, rng)
    if not tgt.any():
        return None
    img_n = _normalised(img, case, rng)
    c = _click_in_patch(frame, click_native, tgt, work, patch, rng)
    if c is None:
        return None

    perm, flips = augment.random_axes(rng)
    img_n = augment.apply_axes(img_n, perm, flips)
    tgt = augment.apply_axes(tgt, perm, flips)
    inside = augment.apply_axes(inside, perm, flips)
    c = c[perm]
    for ax in range(3):
        if flips[ax]:
            c[ax] = patch - 1 - c[ax]
    return PatchSample(img_n, tgt, inside, tuple(int(v) for v in c), work[perm])


def synthetic_blob_sample(
    case: TrainingCase, patch: int, rng: np.random.Generator
) -> PatchSample | None:
    """A smooth random blob with its own texture pasted on a real background patch.

    Teaches 'segment the thing I clicked' beyond the anatomy in the training set (lesions).
    """
    spacing = np.asarray(case.spacing_zyx, float)
    level = int(rng.integers(0, 2))
    work = working_spacing(spacing, level)
    centre = np.array([rng.uniform(0, s) for s in case.image.shape])
    frame = PatchFrame.centred(centre, spacing, work, (patch,) * 3)
    img = frame.sample(case.image, order=1, cval=case.lo)
    lo, hi = case.lo, case.hi
    img01 = (np.clip(img, lo, hi) - lo) / (hi - lo)

    radius = rng.uniform(3, patch / 3)
    zz, yy, xx = np.indices((patch,) * 3, dtype=np.float32) - (patch - 1) / 2
    axes = radius * np.exp(rng.uniform(-0.4, 0.4, size=3))
    r = np.sqrt((zz / axes[0]) ** 2 + (yy / axes[1]) ** 2 + (xx / axes[2]) ** 2)
    noise = ndimage.zoom(rng.normal(0, 0.25, (4, 4, 4)), patch / 4, order=3)
    blob = r + noise[:patch, :patch, :patch] < 1.0
    blob = ndimage.binary_opening(blob, iterations=1)
    if blob.sum() < 20:
        return None
    level_val = rng.uniform(0, 1)
    texture = ndimage.gaussian_filter(rng.normal(0, 1, blob.shape), rng.uniform(0.5, 2))
    soft = ndimage.gaussian_filter(blob.astype(np.float32), rng.uniform(0.5, 1.5))
    lesion = np.clip(level_val + 0.05 * texture, 0, 1)
    img01 = img01 * (1 - soft) + lesion * soft
    img_n = normalise_patch(img01.astype(np.float32), 0.0, 1.0)
    c = interior_point(blob, sampling=work, rng=rng)
    return PatchSample(img_n, blob, np.ones_like(blob), tuple(int(v) for v in c), work)
