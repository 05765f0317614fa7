"""Drives a session through the EVALUATION.md protocol over every target of one labelled case.

The harness only talks to the public session API (set_image, add_click, reset, Prediction) and
rebuilds its own copy of the mask from the returned boxes, so it checks that contract as well.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from segmentation_core.evaluation.clicker import (
    edt_units,
    first_click,
    next_click,
)
from segmentation_core.evaluation.metrics import NOC_THRESHOLDS, dice, dsc_auc, noc, percentile
from segmentation_core.masks import mask_bbox
from segmentation_core.memory import current_rss_bytes, peak_rss_self_bytes, reset_peak_rss
from segmentation_core.types import EngineError

MIN_VOLUME_ML = 0.5
MIN_VOXELS = 20
REPORT_CLICKS = (1, 3, 5, 10)


@dataclass
class TargetResult:
    value: int
    voxels: int
    volume_ml: float
    dice: list[float] = field(default_factory=list)  # after each click, padded to n_clicks
    clicks: list[tuple[tuple[int, int, int], bool]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    noc: dict[str, int] = field(default_factory=dict)
    dsc_auc: float = 0.0
    error: str | None = None

    def dice_at(self, k: int) -> float:
        return self.dice[min(k, len(self.dice)) - 1] if self.dice else 0.0


@dataclass
class CaseResult:
    engine: str
    n_clicks: int
    spacing_zyx: tuple[float, float, float]
    edt_units: str
    image_bytes: int
    targets: list[TargetResult] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    latency_p50_s: float = float("nan")
    latency_p95_s: float = float("nan")
    peak_rss_bytes: int = 0  # of this run where the peak can be reset (Linux), else lifetime
    rss_at_start_bytes: int | None = None  # with the caller's image and label already loaded
    worker_peak_rss_bytes: int | None = None
    device: str = "cpu"
    cpu_count: int = os.cpu_count() or 1
    wall_s: float = 0.0

    def mean(self, key: str) -> float:
        vals = [_target_metric(t, key) for t in self.targets]
        return float(np.mean(vals)) if vals else float("nan")

    def to_json(self) -> dict:
        d = asdict(self)
        d["mean"] = {k: self.mean(k) for k in summary_keys(self.n_clicks)}
        return d


def summary_keys(n_clicks: int) -> list[str]:
    keys = [f"dice@{k}" for k in REPORT_CLICKS if k <= n_clicks]
    return keys + [f"noc@{int(t * 100)}" for t in NOC_THRESHOLDS] + ["dsc_auc"]


def _target_metric(t: TargetResult, key: str) -> float:
    if key.startswith("dice@"):
        return t.dice_at(int(key[5:]))
    if key.startswith("noc@"):
        return float(t.noc[key])
    return t.dsc_auc


def value_counts(label: np.ndarray, chunk_voxels: int = 1 << 22) -> np.ndarray:
    """Voxels per label value 0..max: bincount slab by slab, since it converts its input to
    int64 (a 256^3 label map would cost 128 MB at once)."""
    flat = np.asarray(label).reshape(-1)
    if flat.size == 0:
        return np.zeros(1, np.int64)
    counts = np.zeros(int(flat.max()) + 1, np.int64)
    for i in range(0, flat.size, chunk_voxels):
        chunk = flat[i : i + chunk_voxels].astype(np.int64, copy=False)
        counts += np.bincount(chunk, minlength=counts.size)
    return counts


def select_targets(
    label: np.ndarray, spacing_zyx, values: Sequence[int] | None = None
) -> tuple[list[tuple[int, int, float]], list[dict]]:
    """(value, voxels, mL) of every target to evaluate, and the skipped ones with the reason."""
    counts = value_counts(label)
    present = [int(v) for v in np.flatnonzero(counts) if v != 0]
    wanted = present if values is None else [int(v) for v in values]
    voxel_ml = float(np.prod(spacing_zyx)) / 1000.0
    keep, skipped = [], []
    for v in wanted:
        n = int(counts[v]) if 0 <= v < counts.size else 0
        ml = n * voxel_ml
        if n == 0:
            skipped.append({"value": v, "reason": "not in the label"})
        elif n < MIN_VOXELS or ml < MIN_VOLUME_ML:
            skipped.append({"value": v, "reason": f"too small ({n} voxels, {ml:.3f} mL)"})
        else:
            keep.append((v, n, ml))
    return keep, skipped


def evaluate_target(session, target: np.ndarray, spacing_zyx, n_clicks: int) -> TargetResult:
    """One target: reset, then up to n_clicks simulated clicks; Dice after each."""
    session.reset()
    res = TargetResult(value=0, voxels=int(target.sum()), volume_ml=0.0)
    pred = np.zeros(target.shape, bool)
    target_box = mask_bbox(target)
    click = first_click(target, spacing_zyx)
    while click is not None and len(res.dice) < n_clicks:
        zyx, positive = click
        try:
            p = session.add_click(zyx, positive=positive)
        except EngineError as e:
            res.error = str(e)
            break
        pred[p.slices] = p.mask
        res.clicks.append((zyx, positive))
        res.latencies_s.append(p.latency_s)
        res.dice.append(dice(pred, target))
        click = next_click(pred, target, spacing_zyx, target_box)
    if not res.dice:
        res.dice = [0.0]
    # a perfect mask needs no more clicks: the curve stays where it is
    res.dice += [res.dice[-1]] * (n_clicks - len(res.dice))
    res.noc = {f"noc@{int(t * 100)}": noc(res.dice, t, n_clicks) for t in NOC_THRESHOLDS}
    res.dsc_auc = dsc_auc(res.dice)
    return res


def evaluate_case(
    session,
    image: np.ndarray,
    label: np.ndarray,
    spacing_zyx,
    values: Sequence[int] | None = None,
    n_clicks: int = 20,
    progress=None,
) -> CaseResult:
    """Every target of one case through one session; latency after one warm-up click."""
    t0 = time.perf_counter()
    reset_peak_rss()
    rss_at_start = current_rss_bytes()
    spacing = tuple(float(s) for s in spacing_zyx)
    targets, skipped = select_targets(label, spacing, values)
    out = CaseResult(
        engine=getattr(session, "engine_name", "?"),
        n_clicks=n_clicks,
        spacing_zyx=spacing,  # type: ignore[arg-type]
        edt_units=edt_units(spacing),
        image_bytes=int(image.nbytes),
        skipped=skipped,
        rss_at_start_bytes=rss_at_start,
    )
    session.set_image(image, spacing)
    if targets:  # warm-up: the first click of the first target, not counted
        session.add_click(first_click(label == targets[0][0], spacing)[0], positive=True)
    for v, _n, ml in targets:
        res = evaluate_target(session, label == v, spacing, n_clicks)
        res.value, res.volume_ml = v, ml
        out.targets.append(res)
        if progress is not None:
            progress(res)
    lat = [x for t in out.targets for x in t.latencies_s]
    out.latency_p50_s, out.latency_p95_s = percentile(lat, 50), percentile(lat, 95)
    out.peak_rss_bytes = peak_rss_self_bytes()
    predictor = getattr(session, "predictor", None)
    if predictor is not None:
        out.device = getattr(predictor, "device", "cpu")
        if hasattr(predictor, "peak_rss_bytes"):
            out.worker_peak_rss_bytes = predictor.peak_rss_bytes()
    out.wall_s = time.perf_counter() - t0
    return out
