"""The session contract, on the classic engine (no model needed): shapes, boxes, undo, replay."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core import open_session
from segmentation_core.evaluation.metrics import dice
from segmentation_core.types import Prediction, SegmentationError


@pytest.fixture
def session(blob_case):
    image, spacing, _ = blob_case
    s = open_session("classic")
    s.set_image(image, spacing)
    return s


def test_click_returns_box_and_mask_that_update_a_copy(session, blob_case):
    _, _, target = blob_case
    p = session.add_click((20, 20, 20))
    assert isinstance(p, Prediction)
    z0, y0, x0, z1, y1, x1 = p.bbox
    assert 0 <= z0 < z1 <= 40 and 0 <= y0 < y1 <= 48 and 0 <= x0 < x1 <= 56
    assert p.mask.dtype == bool and p.mask.shape == (z1 - z0, y1 - y0, x1 - x0)
    assert p.latency_s > 0 and p.passes
    seg = session.segmentation()
    assert seg.shape == target.shape and seg.dtype == bool
    mine = np.zeros(target.shape, bool)
    mine[p.slices] = p.mask
    assert np.array_equal(mine, seg)  # everything outside the box is unchanged (empty here)
    assert dice(seg, target) > 0.7  # the classic engine erodes blurred edges a little


def test_prediction_is_a_copy_and_image_is_copied(session, blob_case):
    image, spacing, _ = blob_case
    p = session.add_click((20, 20, 20))
    first = np.zeros(image.shape, bool)
    first[p.slices] = p.mask
    assert first.sum() > 100
    p.mask[...] = False
    np.testing.assert_array_equal(session.segmentation(), first)
    seg = session.segmentation()
    seg[...] = True
    assert not session.segmentation().all()
    caller = image.copy()
    session.set_image(caller, spacing)
    caller[...] = 0  # the session keeps its own copy
    again = session.add_click((20, 20, 20))  # a fresh start on the same pixels: same answer
    np.testing.assert_array_equal(session.segmentation(), first)
    assert again.bbox == p.bbox


def test_negative_click_removes_and_undo_restores(session, blob_case):
    _, _, target = blob_case
    session.add_click((20, 20, 20))
    one = session.segmentation()
    p = session.add_click((20, 30, 44), positive=True)  # grab the other ball too
    two = session.segmentation()
    assert two[20, 30, 44] and two.sum() > one.sum()
    copy = one.copy()
    copy[p.slices] = p.mask
    assert np.array_equal(copy, two)
    session.add_click((20, 30, 48), positive=False)
    three = session.segmentation()
    assert not three[20, 30, 48] and three.sum() < two.sum()
    assert len(session.clicks) == 3
    session.undo()
    assert np.array_equal(session.segmentation(), two)
    u = session.undo()
    assert np.array_equal(session.segmentation(), one)
    assert len(session.clicks) == 1 and u.mask.shape == tuple(
        u.bbox[3 + k] - u.bbox[k] for k in range(3)
    )
    session.undo()
    assert not session.segmentation().any() and session.undo() is None


def test_remove_click_replays_the_others(session, blob_case):
    image, spacing, _ = blob_case
    session.add_click((20, 30, 44))
    session.add_click((20, 20, 20))
    session.add_click((20, 30, 44), positive=False)
    p = session.remove_click(0)
    assert [c.zyx for c in session.clicks] == [(20, 20, 20), (20, 30, 44)]
    fresh = open_session("classic")
    fresh.set_image(image, spacing)
    fresh.add_click((20, 20, 20))
    fresh.add_click((20, 30, 44), positive=False)
    assert np.array_equal(session.segmentation(), fresh.segmentation())
    full = session.segmentation()
    assert np.array_equal(full[p.slices], p.mask)
    session.undo()  # undo after replay goes back through the replayed clicks
    assert len(session.clicks) == 1


def test_reset_clears(session):
    session.add_click((20, 20, 20))
    session.reset()
    assert session.clicks == [] and not session.segmentation().any()


@pytest.mark.parametrize(
    "click, match",
    [
        ((40, 0, 0), "outside"),
        ((1, 2), "three"),
        ((1.5, 2, 3), "integer"),
        ("abc", "three"),
        ((-1, 0, 0), "outside"),
    ],
)
def test_bad_clicks_are_refused_clearly(session, click, match):
    with pytest.raises(SegmentationError, match=match):
        session.add_click(click)
    assert session.clicks == []


def test_bad_images_and_options_are_refused_clearly(blob_case):
    image, spacing, _ = blob_case
    s = open_session("classic")
    with pytest.raises(SegmentationError, match="set_image"):
        s.add_click((0, 0, 0))
    with pytest.raises(SegmentationError, match="3D"):
        s.set_image(image[0], spacing)
    with pytest.raises(SegmentationError, match="spacing"):
        s.set_image(image, (1.0, 0.0, 1.0))
    with pytest.raises(SegmentationError, match="spacing"):
        s.set_image(image, (1.0, 1.0))
    with pytest.raises(SegmentationError, match="unknown engine"):
        open_session("magic")
    with pytest.raises(SegmentationError, match="remove_click|no click"):
        s.set_image(image, spacing)
        s.remove_click(0)


def test_float_image_with_nan_still_segments(blob_case):
    image, spacing, target = blob_case
    img = image.astype(np.float64)
    img[0, 0, :5] = np.nan
    s = open_session("classic")
    s.set_image(img, spacing)
    s.add_click((20, 20, 20))
    assert dice(s.segmentation(), target) > 0.7
