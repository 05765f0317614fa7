"""Dice + cross-entropy: the Dice term averages only the classes present in the batch."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from segmentation_core.auto.loss import dice_ce


def test_absent_classes_do_not_enter_the_dice_term():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 3, 2, 4, 4)).astype(np.float32)
    target = np.zeros((1, 2, 4, 4), np.int64)
    target[0, :, :2] = 1  # class 1 present, class 2 absent
    got = float(dice_ce(paddle.to_tensor(logits), paddle.to_tensor(target), 3))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ce = -np.log(np.take_along_axis(p, target[:, None], axis=1)).mean()
    t1 = target == 1
    d1 = (2 * (p[:, 1] * t1).sum() + 1e-5) / (p[:, 1].sum() + t1.sum() + 1e-5)
    assert got == pytest.approx(ce + (1 - d1), rel=1e-5)


def test_no_foreground_in_the_batch_leaves_cross_entropy_only():
    logits = np.zeros((1, 3, 2, 2, 2), np.float32)
    target = np.zeros((1, 2, 2, 2), np.int64)
    got = float(dice_ce(paddle.to_tensor(logits), paddle.to_tensor(target), 3))
    assert got == pytest.approx(np.log(3), rel=1e-6)


def test_class_weights_are_the_square_root_of_background_over_class_capped():
    from segmentation_core.auto.loss import MAX_CLASS_WEIGHT, class_weights

    target = np.zeros((1, 10, 10, 10), np.int64)  # 1000 voxels
    target[0, 0, 0, :4] = 1  # 4 voxels of class 1
    target[0, 1, :, :] = 2  # 100 voxels of class 2
    # class 3 absent; background 896 voxels
    w = class_weights(target, 5)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, [1.0, np.sqrt(896 / 4), np.sqrt(896 / 100), 1.0, 1.0], rtol=1e-6)
    one = np.zeros((1, 20, 20, 20), np.int64)
    one[0, 0, 0, 0] = 1  # 1 voxel in 8000: sqrt(7999) is above the cap
    assert class_weights(one, 5)[1] == MAX_CLASS_WEIGHT
    target[0, 2:, :, :] = 2  # class 2 now outnumbers the background: never below 1
    assert class_weights(target, 5)[2] == 1.0


def test_weighted_cross_entropy_is_the_weighted_mean_over_voxels():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(1, 3, 2, 4, 4)).astype(np.float32)
    target = np.zeros((1, 2, 4, 4), np.int64)  # no foreground Dice term: cross-entropy only
    target[0, 0, 0, 0] = 1
    w = np.array([1.0, 5.0, 2.0], np.float32)
    got = float(dice_ce(paddle.to_tensor(logits), paddle.to_tensor(target), 3, weights=w))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    nll = -np.log(np.take_along_axis(p, target[:, None], axis=1))[:, 0]
    ce = (w[target] * nll).sum() / w[target].sum()
    t1 = target == 1
    d1 = (2 * (p[:, 1] * t1).sum() + 1e-5) / (p[:, 1].sum() + t1.sum() + 1e-5)
    assert got == pytest.approx(ce + (1 - d1), rel=1e-5)
