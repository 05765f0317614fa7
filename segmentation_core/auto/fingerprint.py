"""The dataset fingerprint: what the planner needs to know about the finished cases.

Spacings and shapes of every case, the intensities inside the labels (a bounded random sample
per case: percentiles, mean and standard deviation, as nnU-Net's CT normalisation uses), the
label values present, the modality the viewer decided, and, when some labels come in left/right
pairs, how symmetric each unpaired label is about the pairs' midline (the brain-stem mirrors
onto itself, a liver onto nothing), which decides whether training may mirror left-right.
Cases are in the canonical orientation (`orientation`): left-right is array axis 2.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from segmentation_core.auto.cases import AutoCase

SAMPLES_PER_CASE = 10_000
SYMMETRY_GRID = 128  # the label map is strided down to about this many voxels per axis


def fingerprint(
    cases: Sequence[AutoCase],
    label_values: Sequence[int] | None = None,
    seed=0,
    pairs: Sequence[tuple[int, int]] = (),
):
    """A JSON-ready dict describing `cases`; `label_values` restricts the foreground to those
    values (others count as background), None means every non-zero value present. `pairs`:
    left/right label value pairs (by name); the other values get a self-mirror Dice."""
    if not cases:
        raise ValueError("no cases to plan from")
    rng = np.random.default_rng(seed)
    present: set[int] = set()
    samples = []
    for c in cases:
        values = np.unique(c.label)
        present.update(int(v) for v in values if v != 0)
        fg = c.label > 0 if label_values is None else np.isin(c.label, list(label_values))
        inside = c.image[fg]
        if inside.size:
            take = min(SAMPLES_PER_CASE, inside.size)
            samples.append(rng.choice(inside.astype(np.float32), take, replace=False))
    values = sorted(present) if label_values is None else sorted(int(v) for v in label_values)
    if not values:
        raise ValueError("the cases' labels are empty: nothing to learn")
    fg_all = np.concatenate(samples) if samples else np.zeros(1, np.float32)
    modality = Counter(c.modality.upper() for c in cases).most_common(1)[0][0]
    mirror = self_mirror_dice(cases, values, pairs) if pairs else {}
    return {
        "n_cases": len(cases),
        "spacings_zyx": [list(c.spacing_zyx) for c in cases],
        "shapes_zyx": [list(c.image.shape) for c in cases],
        "label_values": values,
        "modality": modality,
        "foreground_intensity": {
            "p00_5": float(np.percentile(fg_all, 0.5)),
            "p99_5": float(np.percentile(fg_all, 99.5)),
            "mean": float(fg_all.mean()),
            "std": float(fg_all.std()),
        },
        "self_mirror_dice": {str(v): d for v, d in mirror.items()},
    }


def self_mirror_dice(cases, values, pairs) -> dict[int, float]:
    """Mean over cases of each unpaired value's Dice with its own left-right mirror image about
    the midline of the pairs (the median of each pair's centroid midpoints; the best of three
    neighbouring mirror planes, so a thin midline structure is not failed by half a voxel)."""
    paired = {v for p in pairs for v in p}
    scores: dict[int, list[float]] = {}
    for c in cases:
        k = max(1, -(-max(c.label.shape) // SYMMETRY_GRID))
        lab = np.asarray(c.label[::k, ::k, ::k])
        mids = []
        for a, b in pairs:
            xa, xb = np.nonzero(lab == a)[2], np.nonzero(lab == b)[2]
            if xa.size and xb.size:
                mids.append((xa.mean() + xb.mean()) / 2)
        if not mids:
            continue
        plane = int(round(2 * float(np.median(mids))))  # x -> plane - x
        width = lab.shape[2]
        for v in values:
            if v in paired:
                continue
            mask = lab == v
            n = int(mask.sum())
            if not n:
                continue
            best = 0.0
            for p in (plane - 1, plane, plane + 1):
                src = p - np.arange(width)
                ok = (src >= 0) & (src < width)
                mirrored = np.zeros_like(mask)
                mirrored[..., ok] = mask[..., src[ok]]
                best = max(best, 2.0 * int((mask & mirrored).sum()) / (n + int(mirrored.sum())))
            scores.setdefault(int(v), []).append(best)
    return {v: float(np.mean(d)) for v, d in sorted(scores.items())}
