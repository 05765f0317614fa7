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
