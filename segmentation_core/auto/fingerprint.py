"""The dataset fingerprint: what the planner needs to know about the finished cases.

Spacings and shapes of every case, the intensities inside the labels (a bounded random sample
per case: percentiles, mean and standard deviation, as nnU-Net's CT normalisation uses), the
label values present, and the modality the viewer decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from segmentation_core.auto.cases import AutoCase

SAMPLES_PER_CASE = 10_000


def fingerprint(cases: Sequence[AutoCase], label_values: Sequence[int] | None = None, seed=0):
    """A JSON-ready dict describing `cases`; `label_values` restricts the foreground to those
    values (others count as background), None means every non-zero value present."""
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
    }
