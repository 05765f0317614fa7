"""Cross-validation folds assigned per patient: all cases of one patient sit in one fold.

Patients are shuffled with a fixed seed and dealt round-robin, so folds differ in size by at
most one patient and the assignment is the same on every run (and every machine) for the same
patient list. With fewer patients than folds, there are as many folds as patients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def assign_folds(patients: Sequence[str], k: int = 5, seed: int = 0) -> list[int]:
    """The fold (0..k'-1) of each entry of `patients` (one entry per case)."""
    unique = sorted(set(patients))
    if len(unique) < 2:
        raise ValueError("cross-validation needs cases from at least 2 patients")
    k = max(2, min(int(k), len(unique)))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[j]: i % k for i, j in enumerate(order)}
    return [fold_of[p] for p in patients]


def n_folds(assignment: Sequence[int]) -> int:
    return max(assignment) + 1 if assignment else 0


def split(assignment: Sequence[int], fold: int) -> tuple[list[int], list[int]]:
    """(train indices, validation indices) for `fold`."""
    train = [i for i, f in enumerate(assignment) if f != fold]
    val = [i for i, f in enumerate(assignment) if f == fold]
    return train, val
