"""Cross-validation splits for exported datasets: every patient's cases stay in one fold."""

from __future__ import annotations

import hashlib

import numpy as np

from viewer.model.volume import Volume


def patient_key(volume: Volume, index: int) -> str:
    """A grouping key for the patient of `volume` (hashed: it is never written anywhere)."""
    meta = volume.metadata or {}
    for key in ("PatientID", "PatientName", "StudyInstanceUID"):
        value = str(meta.get(key, "") or "").strip()
        if value:
            return hashlib.sha256(f"{key}:{value}".encode()).hexdigest()
    return f"unknown-{index}"  # no patient information: the case is its own group


def group_kfold(
    case_ids: list[str], keys: list[str], folds: int, seed: int, notes: list[str]
) -> list[dict] | None:
    """nnU-Net style splits [{'train': [...], 'val': [...]}, ...] with no patient in two folds.

    Patients are shuffled with `seed`, then each (largest first) goes to the fold with the fewest
    cases. Returns None (and a note) when there are fewer than two patients.
    """
    groups: dict[str, list[str]] = {}
    for c, k in zip(case_ids, keys, strict=True):
        groups.setdefault(k, []).append(c)
    n = min(int(folds), len(groups))
    if n < 2:
        notes.append("splits_final.json not written: cross-validation needs at least 2 patients")
        return None
    if n < folds:
        notes.append(f"only {len(groups)} patients: writing {n} folds instead of {folds}")
    order = list(groups)
    np.random.default_rng(seed).shuffle(order)
    order.sort(key=lambda k: -len(groups[k]))  # stable: shuffled order among equal sizes
    members: list[list[str]] = [[] for _ in range(n)]
    for k in order:
        target = min(range(n), key=lambda f: len(members[f]))
        members[target].extend(groups[k])
    all_ids = sorted(case_ids)
    return [{"train": [c for c in all_ids if c not in set(m)], "val": sorted(m)} for m in members]
