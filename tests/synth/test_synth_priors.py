"""Contrast priors (segmentation_core.synth.priors): a share of the images takes the prior's
means for the listed values; without a prior the draws (and images) are unchanged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from synth_maps import tiny_head

from segmentation_core.synth import SynthParams, generate, generate_detailed
from segmentation_core.synth.priors import T1_FREESURFER, prior_table

SPACING = (1.5, 1.0, 1.0)


def test_prior_with_no_spread_gives_exactly_the_prior_means_and_keeps_others_random():
    p = replace(
        SynthParams().all_off(),
        prior=prior_table("t1"),
        prior_probability=1.0,
        prior_gain=(1.0, 1.0),
        prior_std=0.0,
    )
    r = generate_detailed(tiny_head(), SPACING, np.random.default_rng(5), p)
    # tiny_head holds 0, 2, 3, 17, 53 and 510: the FreeSurfer values take T1 levels exactly
    assert {v: r.means[v] for v in (2, 3, 17, 53)} == {2: 110.0, 3: 70.0, 17: 71.0, 53: 71.0}
    # 0 and 510 have no prior: drawn uniformly as without one
    plain = generate_detailed(
        tiny_head(), SPACING, np.random.default_rng(5), SynthParams().all_off()
    )
    assert r.means[0] == plain.means[0] and r.means[510] == plain.means[510]


def test_gain_scales_every_prior_mean_by_one_draw():
    p = replace(
        SynthParams().all_off(),
        prior=((2, 100.0), (3, 50.0)),
        prior_probability=1.0,
        prior_gain=(0.5, 2.0),
        prior_std=0.0,
    )
    r = generate_detailed(tiny_head(), SPACING, np.random.default_rng(11), p)
    gain = r.means[2] / 100.0
    assert 0.5 <= gain <= 2.0
    assert r.means[3] == pytest.approx(50.0 * gain, rel=1e-6)


def test_prior_probability_is_the_share_of_prior_images():
    p = replace(
        SynthParams().all_off(),
        prior=prior_table("t1"),
        prior_probability=0.25,
        prior_gain=(1.0, 1.0),
        prior_std=0.0,
    )
    rng = np.random.default_rng(0)
    n = 400
    # a prior image has white matter at exactly 110; a uniform draw never lands on it
    hits = sum(generate_detailed(tiny_head(8), SPACING, rng, p).means[2] == 110.0 for _ in range(n))
    assert 70 <= hits <= 130  # Binomial(400, 0.25): mean 100, sd 8.7


def test_without_a_prior_the_images_are_those_of_before():
    m = tiny_head()
    a, _ = generate(m, SPACING, np.random.default_rng(9))
    b, _ = generate(
        m, SPACING, np.random.default_rng(9), replace(SynthParams(), prior_probability=0.9)
    )
    assert a.tobytes() == b.tobytes()  # probability without a table: no extra draws


def test_t1_prior_orders_tissues_as_a_t1_does_and_unknown_names_fail():
    t = T1_FREESURFER
    assert t[2] > t[13] > t[10] > t[12] > t[11] > t[3] > t[4]
    with pytest.raises(ValueError, match="unknown intensity prior 'flair' \\(known: t1\\)"):
        prior_table("flair")


def test_a_compact_map_applies_the_prior_to_real_values_not_to_its_codes():
    from segmentation_core.synth.compact import CompactMap

    m = tiny_head(24)  # values 0, 2, 3, 17, 53, 510: codes 0..5
    cm = CompactMap.from_labels("tiny", m, SPACING, margin_mm=1.0)
    p = replace(
        SynthParams(),
        prior=prior_table("t1"),
        prior_probability=1.0,
        prior_gain=(1.0, 1.0),
        prior_std=0.0,
    )
    flat = replace(p.all_off(), prior=p.prior, prior_probability=1.0)
    img, lab = cm.generate(np.random.default_rng(2), replace(flat, prior_gain=(1.0, 1.0)))
    # effects off: each structure's voxels hold exactly its T1 level
    assert np.unique(img[lab == 2]).tolist() == [110.0]  # white matter
    assert np.unique(img[lab == 3]).tolist() == [70.0]  # cortex
    assert np.unique(img[lab == 17]).tolist() == [71.0]  # hippocampus
    # with every effect on, the same image as generating from the real values
    crop = cm.labels()
    want_img, want_lab = generate(crop, SPACING, np.random.default_rng(3), p)
    img, lab = cm.generate(np.random.default_rng(3), p)
    np.testing.assert_array_equal(img, want_img)
    np.testing.assert_array_equal(lab, want_lab)
