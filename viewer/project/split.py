"""The validation split: which patients are kept out of training to judge a retrained model.

Rule (per patient, so two scans of one patient never sit on both sides):
- until the project has MIN_PATIENTS (5) patients with a finished case there is no split: every
  finished case trains, and a retrain measures on the training cases (and says so);
- at that moment round(20 %) of those patients, at least 1, become validation: the ones whose
  hash of the patient id is smallest (deterministic, no random state to keep);
- from then on the split is stored in project.json and never moves a patient: a patient
  finished later is assigned once, by the same hash (validation when its hash fraction is below
  20 %), and keeps that side across every retrain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

MIN_PATIENTS = 5
SHARE = 0.2
RULE = (
    f"per patient: chosen when {MIN_PATIENTS} patients have a finished case, {int(SHARE * 100)} %"
    " of them (at least 1) by smallest sha256 of the patient id; later patients by the same hash"
    f" (fraction < {SHARE}); an assigned patient never moves"
)


def patient_hash(patient_id: str) -> float:
    """A stable fraction in [0, 1) for a patient id."""
    digest = hashlib.sha256(patient_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def update_split(split: dict, finished_patients: Iterable[str]) -> dict:
    """The split after these patients have finished cases; `split` is project.json's entry
    ({"validation": [...], "training": [...], "chosen": bool, "rule": str}). Earlier
    assignments are kept as they are."""
    validation = list(split.get("validation", []))
    training = list(split.get("training", []))
    chosen = bool(split.get("chosen", False))
    patients = sorted(set(finished_patients))
    if not chosen:
        if len(patients) < MIN_PATIENTS:
            return {"validation": [], "training": [], "chosen": False, "rule": RULE}
        n_val = max(1, round(SHARE * len(patients)))
        ranked = sorted(patients, key=lambda p: (patient_hash(p), p))
        validation = sorted(ranked[:n_val])
        training = sorted(ranked[n_val:])
        return {"validation": validation, "training": training, "chosen": True, "rule": RULE}
    known = set(validation) | set(training)
    for p in patients:
        if p in known:
            continue
        (validation if patient_hash(p) < SHARE else training).append(p)
    return {
        "validation": sorted(validation),
        "training": sorted(training),
        "chosen": True,
        "rule": RULE,
    }
