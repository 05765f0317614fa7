"""Left-right mirroring with the left/right classes exchanged: the plan decides from the label
names, training flips half the patches, and test-time mirroring exchanges the classes back."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.auto import orientation as ori
from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.fingerprint import fingerprint
from segmentation_core.auto.patches import PatchSampler, StageCase
from segmentation_core.auto.plan import make_plan
from segmentation_core.auto.sliding import predict_windows


def fingerprint_for(values):
    return {
        "spacings_zyx": [[1.0, 1.0, 1.0]] * 2,
        "shapes_zyx": [[40, 40, 40]] * 2,
        "label_values": values,
        "modality": "MR",
        "foreground_intensity": {"p00_5": 0, "p99_5": 1, "mean": 0.5, "std": 0.2},
    }


def test_the_plan_mirrors_only_when_every_class_has_a_partner():
    brain = {10: "left thalamus", 49: "right thalamus", 17: "Left-Hippocampus",
             53: "Right-Hippocampus"}  # fmt: skip
    plan = make_plan(fingerprint_for(sorted(brain)), label_names=brain)
    # classes in value order: 10 -> 1, 17 -> 2, 49 -> 3, 53 -> 4
    assert plan["mirror_axes"] == [ori.LEFT_RIGHT_AXIS]
    assert plan["mirror_pairs"] == [[1, 3], [2, 4]]
    assert "left-right mirroring with 2 left/right pairs exchanged" in plan["why"]
    ct = {1: "liver", 2: "spleen", 3: "left kidney", 4: "right kidney"}
    plan = make_plan(fingerprint_for(sorted(ct)), label_names=ct)
    assert plan["mirror_axes"] == [] and plan["mirror_pairs"] == [[3, 4]]
    assert (
        "no mirroring: liver, spleen have no left/right partner and are not symmetric about the "
        "midline" in plan["why"]
    )
    assert ori.training_swap(plan) is None


def head_case(one_sided: bool) -> AutoCase:
    """A canonical-orientation map: a left/right pair (values 11/50), a midline block (16) and,
    if asked, a block on one side only (1)."""
    label = np.zeros((20, 24, 40), np.uint16)
    label[5:15, 4:10, 5:10] = 50  # right: towards low x in LPS
    label[5:15, 4:10, 30:35] = 11  # left; the pairs' midline is x = 19.5
    label[5:15, 12:18, 17:23] = 16  # on the midline
    if one_sided:
        label[5:15, 19:23, 2:9] = 1
    return AutoCase("head", label.astype(np.float32), label, (1.0, 1.0, 1.0))


NAMES = {11: "Left-Caudate", 50: "Right-Caudate", 16: "Brain-Stem", 1: "Liver"}


@pytest.mark.parametrize("one_sided", [False, True])
def test_a_midline_structure_does_not_stop_mirroring_but_a_one_sided_one_does(one_sided):
    case = head_case(one_sided)
    values = sorted(int(v) for v in np.unique(case.label) if v)
    fp = fingerprint([case], pairs=ori.mirror_pairs(NAMES))
    expected = {"16": 1.0, "1": 0.0} if one_sided else {"16": 1.0}
    assert fp["self_mirror_dice"] == expected
    plan = make_plan(fp, label_names={v: NAMES[v] for v in values})
    if one_sided:
        assert plan["mirror_axes"] == []
        assert plan["why"][-1] == (
            "no mirroring: Liver have no left/right partner and are not symmetric about the midline"
        )
    else:
        assert plan["mirror_axes"] == [ori.LEFT_RIGHT_AXIS]
        assert plan["why"][-1] == (
            "left-right mirroring with 1 left/right pairs exchanged (on the midline: Brain-Stem)"
        )


def test_inference_mirroring_follows_the_plan():
    plan = {"n_classes": 5, "mirror_axes": [2], "mirror_pairs": [[1, 3], [2, 4]]}
    axes, swap = ori.plan_mirroring(plan, True)
    assert axes == (2,) and swap[0] == 2 and swap[1].tolist() == [0, 3, 4, 1, 2]
    assert ori.plan_mirroring(plan, False) == ((), None)
    ct = {"n_classes": 3, "mirror_axes": [], "mirror_pairs": []}
    assert ori.plan_mirroring(ct, True) == ((), None)  # never a mirrored abdomen
    older = {"n_classes": 3, "mirror_axes": []}  # a plan from before: every axis, as it was
    assert ori.plan_mirroring(older, True) == ((0, 1, 2), None)


def test_by_default_inference_mirrors_exactly_when_the_model_trained_with_mirroring():
    plan = {"n_classes": 5, "mirror_axes": [2], "mirror_pairs": [[1, 3], [2, 4]]}
    axes, swap = ori.plan_mirroring(plan, None)
    assert axes == (2,) and swap[0] == 2 and swap[1].tolist() == [0, 3, 4, 1, 2]
    ct = {"n_classes": 3, "mirror_axes": [], "mirror_pairs": []}
    assert ori.plan_mirroring(ct, None) == ((), None)
    older = {"n_classes": 3, "mirror_axes": []}  # older models predict as they always did
    assert ori.plan_mirroring(older, None) == ((), None)


def ramp_case():
    """Image = x index; class 1 (left) where x < 10, class 2 (right) from x = 10."""
    shape = (12, 12, 20)
    image = np.broadcast_to(np.arange(20, dtype=np.float32), shape).copy()
    classes = np.where(image < 10, 1, 2).astype(np.uint8)
    return StageCase("ramp", image, classes, (1.0, 1.0, 1.0))


@pytest.mark.parametrize("swap", [None, np.array([0, 2, 1])])
def test_training_flips_half_the_patches_and_exchanges_the_sides(swap):
    sampler = PatchSampler(
        [ramp_case()], (8, 8, 8), 3, 0, np.random.default_rng(3), spatial_p=0.0, mirror_swap=swap
    )
    sampler.intensity = lambda img: img  # only the flip changes the values here
    flipped = 0
    for _ in range(40):
        x, y = sampler.one(sampler.cases[0], force_fg=False)
        img = x[0]
        inside = y > 0  # voxels of the volume (the padding outside is class 0)
        steps = np.diff(img, axis=2)[inside[:, :, 1:] & inside[:, :, :-1]]
        if steps.size == 0:
            continue
        rising = bool(np.all(steps == 1))
        assert rising or np.all(steps == -1)
        flipped += not rising
        # a flipped patch shows the left structure on the other side, named as the right one
        expected = np.where(img < 10, 1, 2) if rising else np.where(img < 10, 2, 1)
        assert np.array_equal(y[inside], expected[inside])
    if swap is None:
        assert flipped == 0
    else:
        assert 10 <= flipped <= 30


def test_test_time_mirroring_exchanges_the_classes_back():
    patch = (4, 6, 8)
    ramp = np.broadcast_to(np.linspace(-1, 1, patch[2], dtype=np.float32), patch)

    def lateral(x):
        # an equivariant network: class 1 grows towards x's end, class 2 towards its start,
        # and the previous stage's one-hot channels pass through
        out = np.stack([np.zeros(patch, np.float32), 3 * ramp, -3 * ramp])
        return out + 2.0 * x[0, 1:]

    rng = np.random.default_rng(0)
    prev = rng.integers(0, 3, (8, 10, 16))
    image = rng.normal(size=(8, 10, 16)).astype(np.float32)

    def get_input(start, shape):
        from segmentation_core.auto.patches import crop, one_hot_channels

        p = crop(prev.astype(np.uint8), start, shape, 0)
        return np.concatenate([crop(image, start, shape, 0.0)[None], one_hot_channels(p, 3)])

    def run(**kw):
        got = {}

        def on_slab(z0, z1, p):
            got[z0] = p.copy()

        predict_windows(get_input, image.shape, patch, 3, [lateral], on_slab, **kw)
        return np.concatenate([got[k] for k in sorted(got)], axis=1)

    plain = run()
    swapped = run(mirror_axes=(2,), swap=(2, np.array([0, 2, 1])))
    np.testing.assert_allclose(swapped, plain, atol=1e-6)
    unswapped = run(mirror_axes=(2,))
    assert np.abs(unswapped - plain).max() > 0.1
