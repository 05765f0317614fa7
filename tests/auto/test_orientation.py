"""The automatic model's orientation: every image is turned to LPS for training and inference,
and the labels come back voxel for voxel on the image's own grid."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from auto_model_factory import SHAPE, SPACING_ZYX, tiny_image, train_tiny_auto_model

from segmentation_core.auto import orientation as ori
from segmentation_core.auto import predict_volume
from segmentation_core.auto.cases import AutoCase


def signed_permutations():
    """All 48 axis-aligned ITK direction matrices."""
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            d = np.zeros((3, 3))
            for i, (w, s) in enumerate(zip(perm, signs, strict=True)):
                d[w, i] = s  # index axis i points along world axis w
            yield d


def world_coordinate_image(direction, shape_zyx, world_axis):
    """Each voxel's world coordinate along `world_axis` (0 = x, towards L; 2 = z, towards S)."""
    z, y, x = np.indices(shape_zyx)
    xyz = np.stack([x, y, z], axis=-1).astype(float)
    return (xyz @ np.asarray(direction).T)[..., world_axis]


@pytest.mark.parametrize("d", list(signed_permutations()))
def test_every_axis_aligned_image_comes_out_lps(d):
    shape = (3, 4, 5)
    r = ori.reorientation(d)
    for world_axis in range(3):
        turned = ori.to_canonical(world_coordinate_image(d, shape, world_axis), r)
        steps = np.diff(turned, axis=2 - world_axis)  # L along x, P along y, S along z
        assert np.all(steps == 1.0)
        for other in {0, 1, 2} - {2 - world_axis}:
            assert np.all(np.diff(turned, axis=other) == 0.0)
    a = np.arange(60).reshape(shape)
    np.testing.assert_array_equal(ori.from_canonical(ori.to_canonical(a, r), r), a)


def test_identity_and_none_are_no_turn():
    a = np.arange(24).reshape(2, 3, 4)
    for d in (None, np.eye(3)):
        r = ori.reorientation(d)
        assert r.is_identity
        assert ori.to_canonical(a, r) is a


def test_freesurfer_conformed_lia_and_its_spacing():
    # FreeSurfer's conformed volumes: x -> L, y -> I, z -> A
    d = np.array([[1.0, 0, 0], [0, 0, -1], [0, -1, 0]])
    r = ori.reorientation(d)
    assert r.order == (1, 0, 2) and r.flip == (True, True, False)
    assert ori.canonical_spacing((3.0, 2.0, 1.0), r) == (2.0, 3.0, 1.0)


def test_an_oblique_grid_takes_the_nearest_turn():
    a = np.deg2rad(30)
    # x and y rotated 30 degrees about z, z reversed: nearest is x -> L, y -> P, z -> I
    d = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, -1.0]])
    r = ori.reorientation(d)
    assert r.order == (0, 1, 2) and r.flip == (True, False, False)
    # 45 degrees: a tie between two world axes still gives a permutation
    b = np.deg2rad(45)
    d = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1.0]])
    assert sorted(ori.reorientation(d).order) == [0, 1, 2]


def test_a_case_is_turned_with_its_label_and_spacing():
    d = np.array([[0, 0, 1.0], [1.0, 0, 0], [0, -1.0, 0]])  # sagittal-like
    image = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    case = AutoCase("c", image, (image % 5).astype(np.uint16), (1.0, 2.0, 3.0), direction=d)
    turned = ori.canonical_case(case)
    r = ori.reorientation(d)
    np.testing.assert_array_equal(turned.image, ori.to_canonical(image, r))
    np.testing.assert_array_equal(turned.label, ori.to_canonical(case.label, r))
    assert turned.spacing_zyx == ori.canonical_spacing((1.0, 2.0, 3.0), r)
    assert turned.direction is None
    assert ori.canonical_case(turned) is turned


def test_a_generator_label_map_is_turned():
    from segmentation_core.synth.compact import CompactMap

    lia = np.array([[1.0, 0, 0], [0, 0, -1], [0, -1, 0]])
    labels = np.zeros((4, 5, 6), np.int32)
    labels[1:3, 0:2, 4:6] = 17
    labels[0, 4, 0] = 53
    cmap = CompactMap.from_labels("s1", labels, (1.0, 2.0, 3.0), margin_mm=None, direction=lia)
    assert cmap.direction == tuple(lia.ravel())
    turned = ori.canonical_map(cmap)
    r = ori.reorientation(lia)
    np.testing.assert_array_equal(turned.labels(), ori.to_canonical(labels, r))
    assert turned.spacing_zyx == (2.0, 1.0, 3.0) and turned.direction is None
    assert turned.codes.flags["C_CONTIGUOUS"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return train_tiny_auto_model(tmp_path_factory.mktemp("orient_model"))


def source_of(canonical: np.ndarray, r: ori.Reorientation) -> np.ndarray:
    """The array an image with this turn stores for a canonical-orientation image."""
    return ori.from_canonical(canonical, r)


@pytest.mark.parametrize(
    "d",
    [
        np.array([[1.0, 0, 0], [0, 0, -1], [0, -1, 0]]),  # FreeSurfer LIA
        np.array([[0, 0, -1.0], [1.0, 0, 0], [0, -1.0, 0]]),  # a sagittal series
        np.diag([-1.0, -1.0, 1.0]),  # RAS-stored axial
    ],
)
def test_prediction_follows_the_anatomy_not_the_array_order(model, d):
    image, _ = tiny_image(5)
    expected = predict_volume(model, image, SPACING_ZYX, threads=1)
    r = ori.reorientation(d)
    stored = source_of(image, r)
    spacing = tuple(SPACING_ZYX[int(np.argsort(r.order)[k])] for k in range(3))
    assert ori.canonical_spacing(spacing, r) == SPACING_ZYX
    labels = predict_volume(model, stored, spacing, direction=d, threads=1)
    assert labels.shape == stored.shape
    np.testing.assert_array_equal(labels, source_of(expected, r))
    assert len(np.unique(expected)) > 1  # a real answer, not all background


def test_the_plan_names_the_orientation_and_an_older_model_keeps_array_order(model, tmp_path):
    import shutil

    plan_path = model / "plan.json"
    assert json.loads(plan_path.read_text())["orientation"] == "LPS"
    old = tmp_path / "old"
    shutil.copytree(model, old)
    for path in old.rglob("*.json"):  # every copy of the plan, wherever the card keeps it
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and "orientation" in doc:
            doc.pop("orientation")
            path.write_text(json.dumps(doc))
        if isinstance(doc, dict) and isinstance(doc.get("plan"), dict):
            doc["plan"].pop("orientation", None)
            path.write_text(json.dumps(doc))
    image, _ = tiny_image(5)
    d = np.diag([-1.0, -1.0, 1.0])
    turned = predict_volume(model, image, SPACING_ZYX, direction=d, threads=1)
    assert not np.array_equal(turned, predict_volume(model, image, SPACING_ZYX, threads=1))
    without = predict_volume(old, image, SPACING_ZYX, threads=1)
    assert np.array_equal(predict_volume(old, image, SPACING_ZYX, direction=d, threads=1), without)


def test_training_turns_the_cases_first(tmp_path):
    from segmentation_core.auto.train import AutoTrainConfig, train_auto

    d = np.array([[0, 0, -1.0], [1.0, 0, 0], [0, -1.0, 0]])
    r = ori.reorientation(d)
    spacing = tuple(SPACING_ZYX[int(np.argsort(r.order)[k])] for k in range(3))
    cfg = AutoTrainConfig(minutes=0, max_steps=1, fold="all", threads=1, prefetch=False)
    plans = []
    for name, turn in (("lps", None), ("turned", d)):
        cases = []
        for s in (0, 1):
            image, label = tiny_image(s)
            if turn is not None:
                image, label = source_of(image, r), source_of(label, r)
            sp = SPACING_ZYX if turn is None else spacing
            cases.append(AutoCase(f"case{s}", image, label, sp, "MR", direction=turn))
        train_auto(cases, tmp_path / name, cfg)
        plans.append(json.loads((tmp_path / name / "plan.json").read_text()))
    assert [s["spacing_zyx"] for s in plans[0]["stages"]] == [
        s["spacing_zyx"] for s in plans[1]["stages"]
    ]
    assert plans[0]["stages"][0]["patch_zyx"] == plans[1]["stages"][0]["patch_zyx"]
    assert plans[0]["fingerprint"] == plans[1]["fingerprint"]
    assert SHAPE == tiny_image(0)[0].shape


@pytest.mark.parametrize(
    "names, pairs",
    [
        ({1: "Left-Hippocampus", 2: "Right-Hippocampus", 3: "Brain-Stem"}, [(1, 2)]),
        ({4: "left kidney", 7: "right kidney", 9: "liver"}, [(4, 7)]),
        ({1: "lh.caudate", 2: "rh.caudate", 3: "L putamen", 5: "R putamen"}, [(1, 2), (3, 5)]),
        ({1: "Left-Amygdala", 2: "Right-Thalamus"}, []),
        ({1: "Liver", 2: "Spleen"}, []),
    ],
)
def test_left_right_pairs_come_from_the_names(names, pairs):
    assert ori.mirror_pairs(names) == pairs
    perm = ori.swap_permutation(10, pairs)
    for a, b in pairs:
        assert perm[a] == b and perm[b] == a
