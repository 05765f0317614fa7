"""AutoZoom's first-click sizing: a click inside a large organ is answered from the level where the
organ is whole, a small structure keeps its finest-level answer, and later clicks never search."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.autozoom import ZoomConfig, ZoomSegmenter
from segmentation_core.session import InteractiveSession

PATCH = (16, 16, 16)


def _ball(shape, centre, radius: float) -> np.ndarray:
    zz, yy, xx = np.indices(shape)
    c = np.asarray(centre, float).reshape(3)
    return (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= radius**2


def _near_sighted_model(x, _spacing, pos, _neg):
    """Like the base network's failure: inside a region wider than the patch (a flat image
    channel) it answers a small, unsure ball; when the bright region it clicked is in view it
    answers that region, surely."""
    img = x[0, 0]
    if len(pos) == 0:
        return np.zeros(img.shape, np.float32)
    click = tuple(np.clip(np.rint(pos[-1]).astype(int), 0, np.asarray(img.shape) - 1))
    bright = img > 0.5 * img.max() if img.max() > 0 else np.zeros(img.shape, bool)
    if not bright[click]:
        return np.where(_ball(img.shape, pos[-1], 2.5), 0.7, 0.01).astype(np.float32)
    labels, _n = ndimage.label(bright)
    return np.where(labels == labels[click], 0.95, 0.01).astype(np.float32)


def _fixed_model(fine_p: float, coarse_p: float):
    """A sure/unsure small ball at the finest level, a big ball at the coarser ones."""

    def model(x, spacing, pos, _neg):
        shape = x.shape[2:]
        if float(np.min(spacing)) <= 1.0:
            return np.where(_ball(shape, pos[-1], 2.5), fine_p, 0.01).astype(np.float32)
        return np.where(_ball(shape, pos[-1], 5.0), coarse_p, 0.01).astype(np.float32)

    return model


def _session(model, sizing: bool) -> InteractiveSession:
    seg = ZoomSegmenter(model, ZoomConfig(patch_shape=PATCH, size_first_click=sizing))
    return InteractiveSession(seg, "stub")


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_a_click_inside_a_large_organ_is_answered_at_the_level_that_holds_it():
    image = np.zeros((96, 96, 96), np.float32)
    image[20:76, 20:76, 20:76] = 100.0  # 56 mm across: three times the finest patch
    organ = image > 0
    results = {}
    for sizing in (False, True):
        s = _session(_near_sighted_model, sizing)
        s.set_image(image, (1.0, 1.0, 1.0))
        p = s.add_click((48, 48, 48))
        results[sizing] = (_dice(s.segmentation(), organ), p.passes)
    plain_dice, plain_passes = results[False]
    sized_dice, sized_passes = results[True]
    assert plain_passes == [0]
    assert plain_dice < 0.01  # the small ball
    assert sized_passes == [0, 3]  # the finest answer, then the coarsest, where it fits
    assert sized_dice > 0.8  # drawn with 8 mm voxels: its faces are a voxel off at most


def test_a_sure_small_answer_is_kept_over_an_unsure_coarse_one():
    image = np.random.default_rng(0).normal(size=(96, 96, 96)).astype(np.float32)
    masks, passes = {}, {}
    for sizing in (False, True):
        s = _session(_fixed_model(fine_p=0.9, coarse_p=0.6), sizing)
        s.set_image(image, (1.0, 1.0, 1.0))
        passes[sizing] = s.add_click((48, 48, 48)).passes
        masks[sizing] = s.segmentation()
    assert passes[False] == [0]
    assert passes[True] == [0, 3]  # the coarse ball fits level 3: searched, then refused
    np.testing.assert_array_equal(masks[True], masks[False])


def test_a_clearly_surer_coarse_answer_replaces_the_finest_one():
    image = np.random.default_rng(0).normal(size=(96, 96, 96)).astype(np.float32)
    s = _session(_fixed_model(fine_p=0.7, coarse_p=0.99), True)
    s.set_image(image, (1.0, 1.0, 1.0))
    p = s.add_click((48, 48, 48))
    # the radius-5 ball at level 3 (8 mm voxels) is about 80 mm across: far more than the
    # finest level's radius-2.5 ball of 1 mm voxels
    assert p.passes == [0, 3]
    assert int(s.segmentation().sum()) > 50 * int(_ball((16, 16, 16), (8, 8, 8), 2.5).sum())


def test_only_the_first_click_on_an_empty_mask_searches():
    image = np.zeros((96, 96, 96), np.float32)
    image[20:76, 20:76, 20:76] = 100.0
    s = _session(_near_sighted_model, True)
    s.set_image(image, (1.0, 1.0, 1.0))
    assert s.add_click((48, 48, 48)).passes == [0, 3]  # the 56 mm organ fits level 3's 0.8
    # the next click starts where the mask fits (level 2's 64 mm patch; the coarse mask's edge
    # reaches its border, so it grows once): no level-0 pass, no search
    assert s.add_click((30, 30, 30)).passes == [2, 3]
    s.reset()
    assert s.add_click((48, 48, 48)).passes == [0, 3]  # an emptied mask searches again


def test_a_negative_first_click_does_not_search():
    image = np.zeros((96, 96, 96), np.float32)
    image[20:76, 20:76, 20:76] = 100.0
    s = _session(_near_sighted_model, True)
    s.set_image(image, (1.0, 1.0, 1.0))
    assert s.add_click((48, 48, 48), positive=False).passes == [0]
