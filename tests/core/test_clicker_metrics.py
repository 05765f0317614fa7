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


# --- the bounding-box clicker picks exactly the clicks of the plain full-volume definition ---


def _reference_click(mask: np.ndarray, spacing) -> tuple[int, int, int]:
    """EVALUATION.md read literally: label the whole volume, pad the component's box by 25 %,
    scipy's distance transform, first maximum in flat order."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    comp = labels == int(np.argmax(sizes))
    idx = np.argwhere(comp)
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    size = hi - lo
    pad = np.maximum((size * 0.25).astype(int), 1)
    crop = np.zeros(size + 2 * pad, bool)
    inner = tuple(slice(p, p + s) for p, s in zip(pad, size))
    crop[inner] = comp[tuple(slice(a, b) for a, b in zip(lo, hi))]
    sampling = np.asarray(spacing, float) if edt_units(spacing) == "mm" else None
    edt = ndimage.distance_transform_edt(crop, sampling=sampling)[inner]
    best = np.flatnonzero(edt == edt.max())[0]
    return tuple(int(v) for v in np.add(np.unravel_index(best, edt.shape), lo))


@pytest.mark.parametrize("spacing", [(1, 1, 1), (3, 1, 1), (6.5, 0.78, 0.78), (0.7, 0.9, 2.5)])
def test_clicks_match_the_full_volume_definition(spacing, monkeypatch):
    from scipy import ndimage

    from segmentation_core.evaluation import clicker

    monkeypatch.setattr(clicker, "CHUNK_VOXELS", 60)  # many slabs: ties across slab borders
    rng = np.random.default_rng(7)
    for i in range(60):
        shape = tuple(int(s) for s in rng.integers(4, 22, 3))
        target = ndimage.binary_opening(rng.random(shape) < rng.uniform(0.3, 0.8))
        if i % 2:
            pred = rng.random(shape) < 0.3  # scattered errors: many components, size ties
        else:
            pred = ndimage.binary_dilation(target)  # one shell of error
        if target.any():
            assert first_click(target, spacing) == (_reference_click(target, spacing), True)
        error = pred != target
        want = None
        if error.any():
            pt = _reference_click(error, spacing)
            want = (pt, bool(target[pt]))
        assert next_click(pred, target, spacing) == want


def test_equal_components_tie_to_the_first_in_flat_order():
    m = np.zeros((6, 6, 12), bool)
    m[3:5, 1:3, 1:3] = True  # starts later in flat order (z = 3)...
    m[1:3, 3:5, 8:10] = True  # ...than this one (z = 1), same size
    assert np.array_equal(np.argwhere(largest_component(m))[0], (1, 3, 8))


def test_value_counts_and_mask_bbox():
    from segmentation_core.evaluation.clicker import mask_bbox
    from segmentation_core.evaluation.harness import value_counts

    lab = np.zeros((5, 6, 7), np.uint16)
    lab[1:3, 2:5, 3:4] = 9
    lab[4, 5, 6] = 2
    counts = value_counts(lab, chunk_voxels=7)  # several chunks
    assert counts.tolist() == np.bincount(lab.ravel()).tolist() and counts[9] == 6
    assert mask_bbox(lab == 9) == (1, 2, 3, 3, 5, 4)
    assert mask_bbox(lab == 5) is None
