"""Simulated clicker and metrics on tiny cases whose answers can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.evaluation.clicker import (
    edt_units,
    first_click,
    largest_component,
    next_click,
)
from segmentation_core.evaluation.metrics import dice, dsc_auc, noc


def test_first_click_is_the_centre_of_the_largest_component():
    t = np.zeros((12, 12, 20), bool)
    t[1:8, 1:8, 1:8] = True  # 7^3 cube: centre (4, 4, 4), depth 4
    t[2:5, 2:5, 12:15] = True  # smaller cube elsewhere
    assert largest_component(t).sum() == 343
    assert first_click(t, (1, 1, 1)) == ((4, 4, 4), True)


def test_image_border_counts_as_boundary_and_ties_take_lowest_flat_index():
    t = np.zeros((3, 3, 8), bool)
    t[:, :, 0:4] = True  # touches the image border; the padding makes it a boundary
    # depth 2 (one voxel in from every side) holds at the middle row: (1, 1, 1) and (1, 1, 2)
    assert first_click(t, (1, 1, 1)) == ((1, 1, 1), True)


def test_anisotropic_spacing_uses_millimetres():
    t = np.zeros((9, 9, 9), bool)
    t[1:8, 1:8, 1:4] = True  # 7 x 7 x 3 voxels
    assert edt_units((1, 1, 1)) == "voxel" and edt_units((3, 1, 1)) == "mm"
    # in voxels the slab is thinnest along x: depth 2 at x = 2 wherever z, y are 2..6; the
    # lowest flat index among those ties is (2, 2, 2)
    assert first_click(t, (1, 1, 1))[0] == (2, 2, 2)
    # z spacing 0.2 mm: along z the slab is 7 * 0.2 = 1.4 mm thin, so depth is bounded by z;
    # z = 4 is the middle, and the lowest (y, x) of equal depth wins: (4, 1, 1)
    assert first_click(t, (0.2, 1, 1))[0] == (4, 1, 1)


def test_next_click_goes_into_the_largest_error_with_the_right_sign():
    t = np.zeros((10, 10, 10), bool)
    t[2:7, 2:7, 2:7] = True
    pred = t.copy()
    pred[2:7, 2:7, 2:5] = False  # missed part: 5 x 5 x 3 = 75 voxels
    pred[8:10, 0:2, 0:2] = True  # extra part: 8 voxels
    # depth 2 at x = 3 for z, y in 3..5; lowest flat index (3, 3, 3)
    assert next_click(pred, t, (1, 1, 1)) == ((3, 3, 3), True)
    pred2 = t.copy()
    pred2[8:10, 0:3, 0:3] = True  # only a false positive left
    click = next_click(pred2, t, (1, 1, 1))
    assert click is not None and click[1] is False and pred2[click[0]] and not t[click[0]]
    assert next_click(t.copy(), t, (1, 1, 1)) is None


def test_dice_noc_auc():
    a = np.zeros((4, 4, 4), bool)
    b = a.copy()
    a[0, 0, :2] = True
    b[0, 0, 1:3] = True
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(a, a) == 1.0 and dice(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
    curve = [0.5, 0.82, 0.86, 0.95] + [0.95] * 16
    assert noc(curve, 0.80) == 2 and noc(curve, 0.85) == 3 and noc(curve, 0.90) == 4
    assert noc([0.5] * 20, 0.80) == 21  # never reached within 20: N + 1
    # trapezoid over clicks 1..5 with unit steps
    assert dsc_auc([0.0, 1.0, 1.0, 1.0, 1.0, 0.0]) == pytest.approx(0.5 + 3.0)
    assert dsc_auc([0.4]) == pytest.approx(1.6)  # a short curve keeps its last value
