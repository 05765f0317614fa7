"""Judging a retrained model: the candidate and the active model measured in the same run, on
the same cases, with segmentation_core's evaluation harness (simulated clicks by the
EVALUATION.md protocol: first click at the centre of the target, each next one in the largest
error region), over the project's label values only.

To keep a retrain affordable on a 2-core CPU the protocol is capped: EVAL_CLICKS (5) clicks per
target (so Dice@1/3/5 are exact and NoC@85 counts up to 5; 6 means "not reached in 5"), at most
EVAL_MAX_CASES cases (the first ones by case id) and at most EVAL_MAX_TARGETS targets per model,
shared evenly by the cases (a case with more label values keeps an evenly spaced subset of
them). Both models are measured on exactly the same targets. Measured: 40 targets x 5 clicks
on a 30x101x122 CT took about a minute per model on the 2-core machine. The candidate becomes active only when
the mean of Dice@1, @3 and @5 is higher than the active model's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

EVAL_CLICKS = 5
EVAL_MAX_CASES = 4
EVAL_MAX_TARGETS = 40
KEYS = ("dice@1", "dice@3", "dice@5", "noc@85")


def evaluate_model(
    model_dir,
    cases: Sequence,
    values: Sequence[int],
    *,
    threads: int = 2,
    n_clicks: int = EVAL_CLICKS,
    max_targets: int = EVAL_MAX_TARGETS,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """Mean Dice@1/3/5 and NoC@85 over every target of `cases` (TrainingCase) whose value is in
    `values`: {"dice@1", "dice@3", "dice@5", "noc@85", "n_targets", "cases", "clicks"}."""
    from segmentation_core import open_session
    from segmentation_core.evaluation.harness import evaluate_case

    session = open_session("paddle", model_dir=model_dir, in_process=True, threads=threads)
    targets = []
    per_case = max(1, math.ceil(max_targets / max(1, len(cases))))
    try:
        for case in cases:
            if should_stop is not None and should_stop():
                break
            present = capped(sorted(set(np.unique(case.label).tolist()) & set(values)), per_case)
            if not present:
                continue
            res = evaluate_case(
                session, case.image, case.label, case.spacing_zyx, present, n_clicks
            )
            targets += res.targets
    finally:
        session.close()
    out: dict = {"n_targets": len(targets), "cases": [c.name for c in cases], "clicks": n_clicks}
    for key in KEYS:
        vals = [
            float(t.noc[key]) if key.startswith("noc@") else t.dice_at(int(key[5:]))
            for t in targets
        ]
        out[key] = round(float(np.mean(vals)), 4) if vals else None  # JSON has no NaN
    return out


def capped(values: list[int], n: int) -> list[int]:
    """At most `n` of `values`, evenly spaced (deterministic: both models get the same)."""
    if len(values) <= n:
        return values
    picks = np.linspace(0, len(values) - 1, n).round().astype(int)
    return [values[i] for i in sorted(set(picks.tolist()))]


def score(metrics: dict) -> float:
    """The gate's number: the mean of Dice@1, @3 and @5 (NaN when nothing was measured)."""
    vals = [metrics.get(k, float("nan")) for k in ("dice@1", "dice@3", "dice@5")]
    vals = [float("nan") if v is None else float(v) for v in vals]
    return float(np.mean(vals))


def better(candidate: dict, active: dict) -> bool:
    """True when the candidate should become active: strictly higher score, both measured."""
    c, a = score(candidate), score(active)
    return not math.isnan(c) and (math.isnan(a) or c > a)
