"""The training simulation keeps the mask the way the session does after a correction click."""

from __future__ import annotations

import numpy as np

from segmentation_core.training.trainer import _as_used


def test_first_prediction_is_taken_whole_and_corrections_merge_locally():
    pred = np.zeros((8, 16, 16), bool)
    pred[2:6, 2:6, 2:6] = True
    first = [((4, 4, 4), True)]
    assert np.array_equal(_as_used(np.zeros(pred.shape, np.float32), pred, first), pred)

    prev = pred.astype(np.float32)
    prev[2:6, 10:14, 10:14] = 1.0  # a leak the simulated user then clicks away
    after = np.zeros_like(pred)  # the network drops the leak and, unasked, the correct part too
    clicks = first + [((4, 12, 12), False)]
    used = _as_used(prev, after, clicks)
    assert not used[2:6, 10:14, 10:14].any() and used[2:6, 2:6, 2:6].all()
