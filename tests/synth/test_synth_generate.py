"""The SynthSeg-style generator (segmentation_core.synth): determinism, each effect's switch,
exact intensities with the effects off, labels kept or dropped, deformation statistics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from synth_maps import tiny_head

from segmentation_core.synth import SynthParams, generate, generate_detailed

SPACING = (1.5, 1.0, 1.0)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _lut(values: dict[int, float], labels: np.ndarray) -> np.ndarray:
    out = np.zeros(labels.shape, dtype=np.float32)
    for v, m in values.items():
        out[labels == v] = np.float32(m)
    return out


def test_same_seed_same_image_other_seed_other_image():
    m = tiny_head()
    a_img, a_lab = generate(m, SPACING, _rng(7))
    b_img, b_lab = generate(m, SPACING, _rng(7))
    c_img, _ = generate(m, SPACING, _rng(8))
    assert a_img.tobytes() == b_img.tobytes()
    assert a_lab.tobytes() == b_lab.tobytes()
    assert not np.array_equal(a_img, c_img)


def test_output_on_the_input_grid_with_types():
    m = tiny_head(20)
    img, lab = generate(m, SPACING, _rng())
    assert img.shape == m.shape and lab.shape == m.shape
    assert img.dtype == np.float32 and lab.dtype == np.int32
    assert float(img.min()) == 0.0 and float(img.max()) == 1.0  # min-max normalised


def test_effects_off_each_label_has_exactly_its_drawn_mean():
    m = tiny_head()
    p = SynthParams().all_off()
    r = generate_detailed(m, SPACING, _rng(3), p)
    # the drawn means: one per value present (0 included), inside the range, all distinct
    assert sorted(r.means) == [0, 2, 3, 17, 53, 510]
    assert all(0.0 <= v <= 255.0 for v in r.means.values())
    assert len(set(r.means.values())) == 6
    # the output label has 510 dropped, so compare through the input map
    np.testing.assert_array_equal(r.image, _lut(r.means, m))
    for v in (0, 2, 3, 17, 53, 510):
        assert np.unique(r.image[m == v]).tolist() == [np.float32(r.means[v])]


def test_effects_off_then_normalised_is_the_min_max_of_the_means():
    m = tiny_head()
    r = generate_detailed(m, SPACING, _rng(4), replace(SynthParams().all_off(), normalise=True))
    means = np.array([r.means[v] for v in sorted(r.means)], dtype=np.float64)
    expected = {v: (r.means[v] - means.min()) / (means.max() - means.min()) for v in r.means}
    np.testing.assert_allclose(r.image, _lut(expected, m), atol=1e-6, rtol=0)


@pytest.mark.parametrize("effect", ["bias", "blur", "noise", "std"])
def test_each_intensity_effect_breaks_the_one_value_per_label(effect):
    m = tiny_head()
    base = SynthParams().all_off()
    if effect == "std":
        p = replace(base, std_range=(5.0, 35.0))
    elif effect == "blur":  # force a blur on every axis
        p = replace(base, blur=True, low_res_probability=1.0, resolution_range_mm=(2.0, 3.0))
    else:
        p = replace(base, **{effect: True})
    r = generate_detailed(m, SPACING, _rng(5), p)
    off = generate_detailed(m, SPACING, _rng(5), base)
    assert r.image.shape == m.shape
    assert len(np.unique(r.image[m == 2])) > 1  # the white-matter ball is no longer flat
    assert len(np.unique(off.image[m == 2])) == 1


def test_gamma_is_a_power_of_the_normalised_image():
    m = tiny_head()
    p = replace(SynthParams().all_off(), normalise=True)
    plain = generate_detailed(m, SPACING, _rng(6), p).image
    r = generate_detailed(m, SPACING, _rng(6), replace(p, gamma=True))
    assert r.gamma is not None and r.gamma != 1.0
    np.testing.assert_allclose(r.image, plain.astype(np.float64) ** r.gamma, atol=1e-6)


def test_thick_slice_axis_is_drawn_in_its_range():
    m = tiny_head()
    p = replace(SynthParams(), low_res_probability=0.0, thick_slice_probability=1.0)
    r = generate_detailed(m, SPACING, _rng(9), p)
    thick = [i for i, (res, s) in enumerate(zip(r.resolution_mm, SPACING)) if res != s]
    assert len(thick) == 1
    assert 2.0 <= r.resolution_mm[thick[0]] <= 9.0


def test_deformation_off_keeps_the_label_exactly_minus_dropped_values():
    m = tiny_head()
    p = replace(SynthParams(), deform=False)
    _, lab = generate(m, SPACING, _rng(1), p)
    expected = np.where(m >= 500, 0, m)
    np.testing.assert_array_equal(lab, expected)
    assert np.unique(lab).tolist() == [0, 2, 3, 17, 53]


def test_drop_values_chosen_by_the_caller():
    m = tiny_head()
    p = replace(SynthParams(), deform=False, drop_min=None, drop_values=(3,))
    _, lab = generate(m, SPACING, _rng(1), p)
    np.testing.assert_array_equal(lab, np.where(m == 3, 0, m))
    assert np.unique(lab).tolist() == [0, 2, 17, 53, 510]


def _fractions(labels: np.ndarray, values) -> dict[int, float]:
    n = np.count_nonzero(labels)
    return {v: np.count_nonzero(labels == v) / n for v in values}


# Stated tolerances on each structure's share of the labelled voxels (relative to the input's
# share). Affine only: 15 % (it scales every structure alike; what remains is nearest-
# neighbour discretisation of 5-voxel blocks). With the elastic field (std up to 3 mm on a
# 24 mm grid, as strong as SynthSeg's) local volume changes of tens of per cent are the
# point, so only the two large structures are held, to 35 %; every value must survive.
AFFINE_TOLERANCE = 0.15
ELASTIC_TOLERANCE = 0.35


@pytest.mark.parametrize("seed", range(6))
def test_affine_deformation_keeps_values_and_volume_fractions(seed):
    m = tiny_head(32)
    src = np.where(m >= 500, 0, m)
    r = generate_detailed(m, SPACING, _rng(seed), replace(SynthParams(), elastic=False))
    assert not np.array_equal(r.label, src)  # it did deform
    assert np.unique(r.label).tolist() == [0, 2, 3, 17, 53]
    f_in, f_out = _fractions(src, (2, 3, 17, 53)), _fractions(r.label, (2, 3, 17, 53))
    for v in f_in:
        assert abs(f_out[v] - f_in[v]) <= AFFINE_TOLERANCE * f_in[v], (v, f_in[v], f_out[v])


@pytest.mark.parametrize("seed", range(6))
def test_elastic_deformation_keeps_values_and_large_volume_fractions(seed):
    m = tiny_head(32)
    src = np.where(m >= 500, 0, m)
    r = generate_detailed(m, SPACING, _rng(seed), SynthParams())
    affine_only = generate_detailed(m, SPACING, _rng(seed), replace(SynthParams(), elastic=False))
    assert not np.array_equal(r.label, affine_only.label)  # the elastic field did something
    assert np.unique(r.label).tolist() == [0, 2, 3, 17, 53]
    f_in, f_out = _fractions(src, (2, 3)), _fractions(r.label, (2, 3))
    for v in f_in:
        assert abs(f_out[v] - f_in[v]) <= ELASTIC_TOLERANCE * f_in[v], (v, f_in[v], f_out[v])


def test_zero_affine_and_no_elastic_is_the_identity():
    m = tiny_head()
    p = replace(
        SynthParams().all_off(),
        deform=True,
        rotation_deg=0.0,
        scaling=0.0,
        shear=0.0,
        translation_mm=0.0,
        drop_min=None,
    )
    _, lab = generate(m, SPACING, _rng(2), p)
    np.testing.assert_array_equal(lab, m)


def test_pure_translation_moves_the_labels_by_whole_voxels():
    m = tiny_head()
    p = replace(
        SynthParams().all_off(),
        deform=True,
        rotation_deg=0.0,
        scaling=0.0,
        shear=0.0,
        translation_mm=1e-9,
        drop_min=None,
    )
    from segmentation_core.synth.spatial import deform_labels

    # source = p + 3 mm in x (1 mm voxels): output voxel i shows input voxel i + 3
    out = deform_labels(m, SPACING, np.eye(3), np.array([0.0, 0.0, 3.0]), None)
    np.testing.assert_array_equal(out[:, :, :-3], m[:, :, 3:])
    assert np.all(out[:, :, -3:] == 0)
    _, lab = generate(m, SPACING, _rng(2), p)
    np.testing.assert_array_equal(lab, m)


def test_crop_to_the_head_box_with_its_offset():
    m = np.zeros((20, 22, 24), dtype=np.int32)
    m[5:9, 6:12, 10:15] = 4
    p = replace(SynthParams(), deform=False, crop_margin_mm=2.0)
    r = generate_detailed(m, (1.0, 1.0, 2.0), _rng(0), p)
    # margin 2 mm: 2 voxels in z and y, 1 voxel in x (2 mm spacing)
    assert r.offset_zyx == (3, 4, 9)
    assert r.label.shape == (4 + 4, 6 + 4, 5 + 2)
    np.testing.assert_array_equal(r.label, m[3:11, 4:14, 9:16])
    # generate() itself never crops
    img, lab = generate(m, (1.0, 1.0, 2.0), _rng(0), p)
    assert img.shape == m.shape and lab.shape == m.shape


@pytest.mark.parametrize(
    ("array", "spacing", "message"),
    [
        (np.zeros((4, 4), dtype=np.int32), (1, 1, 1), "3D"),
        (np.zeros((4, 4, 4), dtype=np.float32), (1, 1, 1), "integers"),
        (np.zeros((4, 4, 4), dtype=np.int32), (1, 0, 1), "spacing"),
    ],
)
def test_bad_input_is_refused(array, spacing, message):
    with pytest.raises(ValueError, match=message):
        generate(array, spacing, _rng())


def test_large_and_negative_label_values_are_kept():
    m = tiny_head(16)
    m[m == 2] = 70000
    m[m == 17] = -5
    _, lab = generate(m, SPACING, _rng(0), replace(SynthParams(), deform=False))
    np.testing.assert_array_equal(lab, np.where(m >= 500, 0, m))


def test_compact_map_round_trip_and_the_same_image_as_the_map_itself():
    from segmentation_core.synth.compact import CompactMap

    m = tiny_head(24)
    m[m == 53] = 70000  # a value past uint16 in the map, coded into 8 bits
    cm = CompactMap.from_labels("tiny", m, SPACING, margin_mm=1.0)
    assert cm.codes.dtype == np.uint8
    assert cm.values.tolist() == [0, 2, 3, 17, 510, 70000]
    # the head (radius 9.6 about 11.5) spans indices 2..21 on each axis; a 1 mm margin is one
    # voxel on every axis (1.5 mm and 1 mm spacing)
    crop = m[1:23, 1:23, 1:23]
    np.testing.assert_array_equal(cm.labels(), crop)
    # effects off: the generated label is the cropped map minus dropped values
    _, lab = cm.generate(_rng(0), replace(SynthParams(), deform=False))
    np.testing.assert_array_equal(lab, np.where(crop >= 500, 0, crop))  # 70000 dropped too
    # with every effect on, the label holds exactly the kept values
    p = replace(SynthParams(), drop_min=None, drop_values=(510,))
    img, lab = cm.generate(_rng(1), p)
    assert np.unique(lab).tolist() == [0, 2, 3, 17, 70000]
    # the codes keep the values' order, so every draw lands as on the map itself
    want_img, want_lab = generate(crop, SPACING, _rng(1), p)
    np.testing.assert_array_equal(img, want_img)
    np.testing.assert_array_equal(lab, want_lab)


def test_a_stripped_image_is_zero_outside_the_kept_labels_and_unchanged_inside():
    m = tiny_head()
    p = SynthParams()
    plain = generate_detailed(m, SPACING, _rng(5), p)
    stripped = generate_detailed(m, SPACING, _rng(5), replace(p, stripped_probability=1.0))
    assert not plain.stripped and stripped.stripped
    np.testing.assert_array_equal(stripped.label, plain.label)
    outside = plain.label == 0  # air and the dropped skin shell (510)
    assert np.count_nonzero(stripped.image[outside]) == 0
    assert np.count_nonzero(plain.image[outside]) > 0
    np.testing.assert_array_equal(stripped.image[~outside], plain.image[~outside])


def test_stripping_leaves_maps_without_shape_only_classes_alone():
    """Where nothing is dropped, label 0 is unlabelled tissue, not outside the head."""
    m = tiny_head()
    m[m == 510] = 0
    p = replace(SynthParams(), stripped_probability=1.0)
    r = generate_detailed(m, SPACING, _rng(5), p)
    assert not r.stripped
    assert np.count_nonzero(r.image[r.label == 0]) > 0


def test_no_strip_draw_without_the_share_keeps_images_of_a_seed():
    m = tiny_head()
    a = generate_detailed(m, SPACING, _rng(9), SynthParams())
    b = generate_detailed(m, SPACING, _rng(9), replace(SynthParams(), stripped_probability=0.0))
    assert a.image.tobytes() == b.image.tobytes()


def test_the_compact_map_strips_on_the_real_values():
    from segmentation_core.synth.compact import CompactMap

    m = tiny_head()
    cm = CompactMap.from_labels("head", m, SPACING)
    plain_image, plain_label = cm.generate(_rng(2), SynthParams())
    image, label = cm.generate(_rng(2), replace(SynthParams(), stripped_probability=1.0))
    np.testing.assert_array_equal(label, plain_label)
    assert sorted(np.unique(label).tolist()) == [0, 2, 3, 17, 53]
    assert np.count_nonzero(image[label == 0]) == 0
    assert np.count_nonzero(plain_image[label == 0]) > 0
    np.testing.assert_array_equal(image[label != 0], plain_image[label != 0])
