"""Largest-component filtering on the class probabilities, and when it is chosen."""

from __future__ import annotations

import numpy as np

from segmentation_core.auto.postprocess import (
    argmax_u8,
    class_dice,
    decide_largest_component,
    keep_largest_components,
)


def test_small_islands_go_to_the_next_most_likely_class():
    probs = np.zeros((3, 4, 10, 10), np.uint8)
    probs[0] = 100
    probs[1, :, 0:4, 0:4] = 200  # big component of class 1
    probs[1, :, 8:10, 8:10] = 200  # island of class 1 (16 voxels vs 64)
    probs[2, :, 8:10, 8:10] = 150  # class 2 is second there
    probs[2, :, 0:2, 6:8] = 200  # a lone class-2 component: left alone (class 2 not filtered)
    keep_largest_components(probs, [1])
    classes = argmax_u8(probs)
    assert (classes[:, 0:4, 0:4] == 1).all()
    assert (classes[:, 8:10, 8:10] == 2).all()
    assert (classes[:, 0:2, 6:8] == 2).all()
    assert int((classes == 1).sum()) == 64


def test_the_filter_is_chosen_per_class_only_where_it_helps():
    without = [{1: 0.80, 2: 0.90}, {1: 0.70, 2: None}]
    with_lcc = [{1: 0.85, 2: 0.90}, {1: 0.71, 2: None}]
    assert decide_largest_component(without, with_lcc, [1, 2]) == [1]  # 2: equal, not better


def test_class_dice():
    a = np.array([0, 1, 1, 2])
    b = np.array([0, 1, 2, 2])
    assert class_dice(a, b, 1) == 2 * 1 / 3
    assert class_dice(a, b, 3) is None
