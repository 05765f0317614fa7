"""Metrics of EVALUATION.md: Dice, NoC@t, DSC-AUC, latency percentiles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmentation_core.masks import dice

__all__ = ["AUC_CLICKS", "NOC_MAX_CLICKS", "NOC_THRESHOLDS", "dice", "dsc_auc", "noc", "percentile"]

NOC_THRESHOLDS = (0.80, 0.85, 0.90)
NOC_MAX_CLICKS = 20
AUC_CLICKS = 5


def noc(dice_curve: Sequence[float], threshold: float, max_clicks: int = NOC_MAX_CLICKS) -> int:
    """Clicks needed to reach `threshold` (1-based); max_clicks + 1 when not reached in max_clicks."""
    for i, d in enumerate(list(dice_curve)[:max_clicks]):
        if d >= threshold:
            return i + 1
    return max_clicks + 1


def dsc_auc(dice_curve: Sequence[float], n_clicks: int = AUC_CLICKS) -> float:
    """Trapezoid area under Dice over clicks 1..n (unit steps; 0..n-1, i.e. at most 4 for n=5).

    A curve shorter than n (stopped because the target was matched) keeps its last value."""
    curve = list(dice_curve)[:n_clicks]
    if not curve:
        return 0.0
    curve += [curve[-1]] * (n_clicks - len(curve))
    y = np.asarray(curve, float)
    return float(np.sum((y[1:] + y[:-1]) / 2.0))


def percentile(values: Sequence[float], q: float) -> float:
    v = np.asarray(values, float)
    return float(np.percentile(v, q)) if v.size else float("nan")
