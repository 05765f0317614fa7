"""Planning from tiny synthetic data: spacing rules, budget, normalisation, cascade."""

from __future__ import annotations

import numpy as np
import pytest
from auto_synthetic import TINY, sphere_case

from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.fingerprint import fingerprint
from segmentation_core.auto.plan import Budget, describe, fit_patch, make_plan, target_spacing


def test_target_spacing_is_the_median_per_axis():
    sp = np.array([[2.0, 1.0, 1.0], [3.0, 0.8, 0.8], [2.5, 0.9, 0.9]])
    assert target_spacing(sp).tolist() == [2.5, 0.9, 0.9]


def test_one_much_coarser_axis_takes_its_10th_percentile():
    sp = np.array([[5.0, 0.5, 0.5], [6.0, 0.5, 0.5], [4.0, 0.5, 0.5], [7.0, 0.5, 0.5]])
    # median z 5.5 > 3 x 0.5: z becomes the 10th percentile of 4, 5, 6, 7 = 4.3
    assert target_spacing(sp) == pytest.approx([4.3, 0.5, 0.5])


def test_patch_fits_the_budget_and_is_divisible_by_its_pooling():
    patch, kernels = fit_patch((30, 101, 122), Budget.cpu())
    assert np.prod(patch) <= 48**3
    factor = np.prod(np.asarray(kernels), axis=0)
    assert all(p % f == 0 for p, f in zip(patch, factor))
    assert patch == [32, 48, 64]
    # 4 x 6 x 4 after three poolings: only x can be pooled once more and keep >= 4 voxels
    assert kernels == [[2, 2, 2], [2, 2, 2], [2, 2, 2], [1, 1, 2]]


def test_a_1mm_brain_is_coarsened_for_the_cpu():
    fp = {
        "spacings_zyx": [[1.0, 1.0, 1.0]] * 3,
        "shapes_zyx": [[256, 256, 256]] * 3,
        "label_values": [17, 53],
        "modality": "MR",
        "foreground_intensity": {"p00_5": 0, "p99_5": 1, "mean": 0, "std": 1},
    }
    (stage,) = make_plan(fp, Budget.cpu(), minutes=20)["stages"]
    assert stage["spacing_zyx"] == [2.14359] * 3  # 1.1^8: the first at most 16 patches
    assert stage["median_shape_zyx"] == [119, 119, 119]
    assert stage["patch_zyx"] == [48, 48, 48]
    assert stage["widths"] == [16, 32, 64, 128]


def test_mr_plan_from_two_cases():
    cases = [sphere_case(0), sphere_case(1, shape=(20, 44, 36))]
    plan = make_plan(fingerprint(cases), TINY, {5: "core"})
    assert plan["label_values"] == [5, 9]
    assert plan["label_names"] == {"5": "core", "9": "label 9"}
    assert plan["n_classes"] == 3
    assert plan["normalization"] == {"scheme": "zscore", "mask": "nonzero"}
    (stage,) = plan["stages"]
    assert stage["name"] == "fullres"
    assert stage["spacing_zyx"] == [2.0, 1.0, 1.0]
    assert stage["median_shape_zyx"] == [22, 42, 36]
    assert stage["patch_zyx"] == [16, 32, 32]
    assert stage["extra_channels"] == 0
    assert "stage fullres: spacing [2.0, 1.0, 1.0] mm" in describe(plan)


def test_ct_normalisation_uses_foreground_percentiles():
    label = np.zeros((10, 10, 10), np.uint8)
    label[2:8, 2:8, 2:8] = 1
    image = np.full((10, 10, 10), -1000.0, np.float32)
    image[2:8, 2:8, 2:8] = np.linspace(0, 215, 216).reshape(6, 6, 6)
    case = AutoCase("ct", image, label, (1, 1, 1), "CT")
    plan = make_plan(fingerprint([case]), TINY)
    norm = plan["normalization"]
    assert norm["scheme"] == "ct"
    assert norm["clip"] == pytest.approx([np.percentile(np.arange(216.0), 0.5), 213.925])
    assert norm["mean"] == pytest.approx(107.5)
    assert norm["std"] == pytest.approx(np.arange(216.0).std(), rel=1e-6)


def test_large_volume_is_coarsened_and_gets_a_low_resolution_stage():
    cases = [sphere_case(0, shape=(48, 40, 36))]
    budget = Budget.cpu(max_patch_voxels=2048, base_width=4, max_pools=3)
    plan = make_plan(fingerprint(cases), budget)
    low, full = plan["stages"]
    assert (low["name"], full["name"]) == ("lowres", "fullres")
    # the full-resolution volume is at most 16 patches, the low one about one patch
    assert np.prod(full["median_shape_zyx"]) <= 16 * 2048
    assert np.prod(low["median_shape_zyx"]) <= 1.2 * 2048
    assert full["extra_channels"] == 3 and low["extra_channels"] == 0
    assert np.all(np.asarray(low["spacing_zyx"]) > np.asarray(full["spacing_zyx"]))


def test_no_cascade_on_a_short_cpu_budget():
    cases = [sphere_case(0, shape=(48, 40, 36))]
    budget = Budget.cpu(max_patch_voxels=2048, base_width=4, max_pools=3)
    plan = make_plan(fingerprint(cases), budget, minutes=30)
    assert [s["name"] for s in plan["stages"]] == ["fullres"]
    cascade_why = [w for w in plan["why"] if w.startswith("no low-resolution stage")]
    assert cascade_why == [
        "no low-resolution stage: 30 minutes is less than 120, and two networks would each get "
        "half of it"
    ]
    assert [s["name"] for s in make_plan(fingerprint(cases), budget, minutes=120)["stages"]] == [
        "lowres",
        "fullres",
    ]


def test_no_cascade_when_not_allowed():
    cases = [sphere_case(0, shape=(48, 40, 36))]
    budget = Budget.cpu(max_patch_voxels=2048, base_width=4, max_pools=3, allow_cascade=False)
    assert [s["name"] for s in make_plan(fingerprint(cases), budget)["stages"]] == ["fullres"]


def test_empty_labels_are_refused():
    case = AutoCase("e", np.zeros((4, 4, 4)), np.zeros((4, 4, 4), np.uint8), (1, 1, 1))
    with pytest.raises(ValueError, match="empty"):
        fingerprint([case])


def test_spacing_and_foreground_share_can_be_set():
    fp = {
        "spacings_zyx": [[1.0, 1.0, 1.0]] * 3,
        "shapes_zyx": [[256, 256, 256]] * 3,
        "label_values": [17, 53],
        "modality": "MR",
        "foreground_intensity": {"p00_5": 0, "p99_5": 1, "mean": 0, "std": 1},
    }
    plan = make_plan(fp, Budget.cpu(), minutes=20, spacing_mm=2.0, foreground=1.0)
    (stage,) = plan["stages"]
    assert stage["spacing_zyx"] == [2.0, 2.0, 2.0]  # not coarsened to 2.14 as by default
    assert stage["median_shape_zyx"] == [128, 128, 128]
    assert plan["foreground_oversampling"] == 1.0
    assert plan["class_weighted_ce"] is True
    assert "target spacing 2 mm, as asked" in plan["why"]
    assert make_plan(fp, Budget.cpu())["foreground_oversampling"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="foreground share must be in \\[0, 1\\], got 1.5"):
        make_plan(fp, Budget.cpu(), foreground=1.5)
    with pytest.raises(ValueError, match="target spacing must be positive, got 0"):
        make_plan(fp, Budget.cpu(), spacing_mm=0.0)


def test_mr_zscore_over_the_nonzero_voxels_scores_a_stripped_image_on_its_tissue():
    from segmentation_core.auto.preprocess import normalise

    tissue = np.array([10.0, 20.0, 30.0, 40.0], np.float32)
    stripped = np.zeros((4, 4, 4), np.float32)
    stripped[1, 1, :] = tissue
    out = normalise(stripped.copy(), {"scheme": "zscore", "mask": "nonzero"})
    expected = (tissue - 25.0) / np.float32(np.std([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_allclose(out[1, 1, :], expected, rtol=1e-6)
    assert np.count_nonzero(out) == 4  # the zeros stay 0
    # without zeros it is the plain per-image z-score
    full = np.arange(1.0, 65.0, dtype=np.float32).reshape(4, 4, 4)
    masked = normalise(full.copy(), {"scheme": "zscore", "mask": "nonzero"})
    np.testing.assert_allclose(masked, normalise(full.copy(), {"scheme": "zscore"}), rtol=1e-6)
    # an all-zero image stays zero (no division by a zero std)
    assert (
        np.count_nonzero(
            normalise(np.zeros((2, 2, 2), np.float32), {"scheme": "zscore", "mask": "nonzero"})
        )
        == 0
    )
