"""Sliding-window inference equals a whole-volume forward pass where both fit."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.auto.infer import stage_probabilities, to_image_grid
from segmentation_core.auto.patches import crop
from segmentation_core.auto.sliding import (
    Cancelled,
    gaussian_weights,
    predict_windows,
    softmax,
    window_starts,
)


def voxelwise(x: np.ndarray) -> np.ndarray:
    """A 'network' whose logits depend on each voxel alone: windows cannot change its output."""
    v = x[0, 0]
    return np.stack([-v, v, 0.5 * v * v])


def run_windows(image, patch, overlap, predictors=(voxelwise,)):
    out = np.zeros((3, *image.shape), np.float32)
    slabs = []

    def on_slab(z0, z1, p):
        slabs.append((z0, z1))
        out[:, z0:z1] = p

    predict_windows(
        lambda s, p: crop(image, s, p, 0.0)[None],
        image.shape,
        patch,
        3,
        predictors,
        on_slab,
        overlap=overlap,
    )
    return out, slabs


def test_window_starts_cover_the_axis():
    assert window_starts(10, 16, 0.5) == [0]
    assert window_starts(40, 16, 0.5) == [0, 8, 16, 24]
    assert window_starts(41, 16, 0.5) == [0, 6, 12, 19, 25]


def test_gaussian_weights_peak_in_the_middle():
    g = gaussian_weights((8, 8, 8))
    assert g.max() == pytest.approx(1.0) and g.min() >= 1e-3
    assert g[3:5, 3:5, 3:5].min() == g.max()


@pytest.mark.parametrize("overlap", [0.0, 0.5, 0.75])
def test_many_windows_give_the_whole_volume_answer(overlap):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(37, 29, 21)).astype(np.float32)
    out, slabs = run_windows(image, (8, 16, 8), overlap)
    whole = softmax(voxelwise(image[None, None]))
    np.testing.assert_allclose(out, whole, atol=1e-5)  # float32 sums of up to 64 windows
    # the slabs are handed over in order and tile the volume exactly
    assert slabs[0][0] == 0 and slabs[-1][1] == 37
    assert all(a[1] == b[0] for a, b in zip(slabs, slabs[1:]))
    assert len(slabs) > 1


def test_one_window_equals_a_network_forward_pass():
    import paddle

    from segmentation_core.auto.runtime import EagerPredictor
    from segmentation_core.auto.unet import AutoUNet3D

    paddle.seed(1)
    net = AutoUNet3D(1, 3, [4, 8], [[2, 2, 2]])
    pred = EagerPredictor(net)
    image = np.random.default_rng(1).normal(size=(8, 16, 16)).astype(np.float32)
    out, _ = run_windows(image, (8, 16, 16), 0.5, [pred])
    np.testing.assert_allclose(out, softmax(pred(image[None, None])), atol=1e-6)


def test_a_volume_smaller_than_the_patch_is_padded():
    image = np.random.default_rng(2).normal(size=(5, 7, 6)).astype(np.float32)
    out, slabs = run_windows(image, (8, 8, 8), 0.5)
    np.testing.assert_allclose(out, softmax(voxelwise(image[None, None])), atol=1e-6)
    assert slabs == [(0, 5)]


def test_stop_raises_cancelled():
    image = np.zeros((16, 16, 16), np.float32)
    with pytest.raises(Cancelled):
        predict_windows(
            lambda s, p: crop(image, s, p, 0.0)[None],
            image.shape,
            (8, 8, 8),
            3,
            [voxelwise],
            lambda *a: None,
            should_stop=lambda: True,
        )


def test_resampling_back_keeps_the_image_grid():
    plan = {
        "n_classes": 3,
        "normalization": {"scheme": "ct", "clip": [-1e9, 1e9], "mean": 0.0, "std": 1.0},
        "stages": [{"spacing_zyx": [2.0, 2.0, 2.0], "patch_zyx": [8, 8, 8], "extra_channels": 0}],
    }
    image = np.zeros((20, 30, 10), np.float32)
    image[:, 10:, :] = 3.0
    probs = stage_probabilities(plan, [[voxelwise]], image, (1.0, 1.0, 1.0))
    assert probs.shape == (3, 10, 15, 5)
    classes = to_image_grid(probs, image.shape)
    assert classes.shape == image.shape
    # v = 0: all logits 0 -> ties -> class 0; v = 3: logit2 = 4.5 beats logit1 = 3
    assert (classes[:, :8] == 0).all() and (classes[:, 12:] == 2).all()
