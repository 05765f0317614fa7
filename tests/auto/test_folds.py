"""Cross-validation folds are assigned per patient."""

from __future__ import annotations

import pytest

from segmentation_core.auto.folds import assign_folds, split


def test_cases_of_one_patient_share_a_fold():
    patients = ["a", "b", "a", "c", "d", "b", "e", "f", "a", "g"]
    folds = assign_folds(patients, k=5, seed=0)
    for p in set(patients):
        assert len({f for f, q in zip(folds, patients) if q == p}) == 1
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    # 7 patients dealt round-robin to 5 folds: fold sizes in patients are 2,2,1,1,1
    per_fold = [len({q for f, q in zip(folds, patients) if f == k}) for k in range(5)]
    assert sorted(per_fold) == [1, 1, 1, 2, 2]


def test_assignment_is_reproducible_and_ignores_case_order():
    a = assign_folds(["x", "y", "z", "w"], k=2, seed=3)
    b = assign_folds(["w", "z", "y", "x"], k=2, seed=3)
    assert dict(zip(["x", "y", "z", "w"], a)) == dict(zip(["w", "z", "y", "x"], b))


def test_fewer_patients_than_folds():
    assert sorted(set(assign_folds(["a", "b", "c"], k=5))) == [0, 1, 2]
    with pytest.raises(ValueError, match="at least 2 patients"):
        assign_folds(["a", "a"], k=5)


def test_split():
    assert split([0, 1, 0, 2], 0) == ([1, 3], [0, 2])
