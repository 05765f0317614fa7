"""Local merge of correction clicks: a click changes only the region it lies in."""

from __future__ import annotations

import numpy as np

from segmentation_core.autozoom import ZoomConfig, ZoomSegmenter
from segmentation_core.local_merge import merge_correction
from segmentation_core.session import InteractiveSession


def _boxes():
    old = np.zeros((10, 20, 20), bool)
    old[2:8, 2:8, 2:8] = True  # part A, correct
    old[2:8, 12:18, 12:18] = True  # part B, a leak the user trims
    return old


def test_negative_click_removes_only_the_region_it_lies_in():
    old = _boxes()
    new = old.copy()
    new[2:8, 12:18, 12:18] = False  # the network drops the leak ...
    new[2:8, 2:5, 2:8] = False  # ... and, unasked, half of the correct part
    out = merge_correction(old, new, (4, 14, 14), positive=False)
    assert not out[2:8, 12:18, 12:18].any()
    assert out[2:8, 2:8, 2:8].all()  # the far change is not taken over


def test_positive_click_adds_only_the_region_it_lies_in():
    old = np.zeros((10, 20, 20), bool)
    old[2:8, 2:8, 2:8] = True
    new = old.copy()
    new[2:8, 8:12, 2:8] = True  # grown where the user clicked (connected to the click)
    new[2:8, 15:19, 15:19] = True  # a new blob far away, not asked for
    new[2:4, 2:8, 2:8] = False  # and a loss of the old part
    out = merge_correction(old, new, (5, 10, 5), positive=True)
    assert out[2:8, 8:12, 2:8].all() and out[2:8, 2:8, 2:8].all()
    assert not out[2:8, 15:19, 15:19].any()


def test_a_prediction_that_ignores_the_click_is_taken_whole():
    old = _boxes()
    new = old.copy()
    new[2:8, 2:5, 2:8] = False  # the clicked voxel (in B) is unchanged
    out = merge_correction(old, new, (4, 14, 14), positive=False)
    assert np.array_equal(out, new)


def _forgetful_model(x, _spacing, pos, neg):
    """Balls around the positive clicks minus balls around the negative ones; once there is a
    negative click it also forgets the first positive click: a whole redraw that errs far away."""
    shape = x.shape[2:]
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    prob = np.zeros(shape, np.float32)
    for k, p in enumerate(pos):
        if k == 0 and len(neg):
            continue
        prob[np.linalg.norm(grid - p, axis=-1) <= 6] = 1.0
    for p in neg:
        prob[np.linalg.norm(grid - p, axis=-1) <= 4] = 0.0
    return prob


def test_session_negative_click_keeps_the_far_part():
    """A negative click on one part leaves the part the model forgot untouched."""
    image = np.zeros((32, 32, 48), np.float32)
    kept = {}
    for local in (True, False):
        seg = ZoomSegmenter(_forgetful_model, ZoomConfig(patch_shape=(32, 32, 48)))
        s = InteractiveSession(seg, "stub", local_corrections=local)
        s.set_image(image, (1.0, 1.0, 1.0))
        s.add_click((16, 16, 10))
        s.add_click((16, 16, 34))
        s.add_click((16, 16, 40), positive=False)
        after = s.segmentation()
        assert not after[16, 16, 40] and after[16, 16, 31]
        kept[local] = bool(after[16, 16, 10])
    assert kept == {True: True, False: False}
