"""The network's input encoding: channel count, click balls and the affinity channels."""

from __future__ import annotations

import numpy as np

from segmentation_core.encoding import IN_CHANNELS, affinity_map, build_input, normalise_patch


def _two_region_patch() -> np.ndarray:
    """Left half ~0, right half ~5 (z-score units), light noise."""
    rng = np.random.default_rng(0)
    img = rng.normal(0.0, 0.05, (16, 16, 16)).astype(np.float32)
    img[:, :, 8:] += 5.0
    return img


def test_affinity_marks_voxels_that_look_like_the_clicked_region():
    img = _two_region_patch()
    aff = affinity_map(img, [(8, 8, 3)])
    assert aff[:, :, :8].mean() > 0.8  # same region as the click
    assert aff[:, :, 8:].max() < 1e-3  # the other region
    both = affinity_map(img, [(8, 8, 3), (8, 8, 12)])
    assert both.min() > 0.1  # max over clicks: both regions now look clicked


def test_affinity_skips_clicks_outside_the_patch():
    img = _two_region_patch()
    assert not affinity_map(img, [(8, 8, 40), (-3, 2, 2)]).any()
    assert not affinity_map(img, []).any()


def test_build_input_stacks_all_channels():
    img = normalise_patch(_two_region_patch(), -10.0, 10.0)
    prev = np.zeros(img.shape, np.float32)
    prev[4:8] = 1.0
    x = build_input(img, [(8, 8, 3)], [(8, 8, 12)], prev)
    assert x.shape == (1, IN_CHANNELS, 16, 16, 16) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0], img)
    assert x[0, 1, 8, 8, 3] == 1.0 and x[0, 1, 8, 8, 12] == 0.0  # positive ball
    assert x[0, 2, 8, 8, 12] == 1.0 and x[0, 2, 8, 8, 3] == 0.0  # negative ball
    np.testing.assert_array_equal(x[0, 3], prev)
    assert x[0, 4, :, :, :8].mean() > 0.8 and x[0, 4, :, :, 8:].max() < 1e-3
    assert x[0, 5, :, :, 8:].mean() > 0.8 and x[0, 5, :, :, :8].max() < 1e-3
