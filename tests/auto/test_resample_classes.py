"""Training labels at the stage spacing (`preprocess.resample_classes`): each stage voxel takes
the class covering most of it, centred on the voxel, where nearest neighbour is half a source
voxel off at even ratios; `prepare_stage_case` uses it."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.preprocess import resample, resample_classes
from segmentation_core.auto.stage_batches import prepare_stage_case


def _ball(shape, centre, radius) -> np.ndarray:
    z, y, x = np.indices(shape)
    d2 = (z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2
    return (d2 <= radius * radius).astype(np.uint8)


def _centre_of_mass(mask: np.ndarray) -> np.ndarray:
    return np.argwhere(mask).mean(axis=0)


@pytest.mark.parametrize("radius", [4.3, 6.3, 9.7])
def test_halving_keeps_a_ball_centred_where_nearest_neighbour_shifts_it(radius):
    # source voxel 20.5 is the centre of target voxel 10 when 42 voxels become 21
    ball = _ball((42, 42, 42), (20.5, 20.5, 20.5), radius)
    majority = resample_classes(ball, (21, 21, 21), 2)
    assert np.array_equal(_centre_of_mass(majority), [10.0, 10.0, 10.0])
    assert np.array_equal(majority, majority[::-1, ::-1, ::-1])  # no direction in space
    nearest = resample(ball, (21, 21, 21), order=0, dtype=np.uint8)
    assert np.all(_centre_of_mass(nearest) < 9.8)  # the fault this replaces


def test_each_voxel_takes_the_class_covering_most_of_it():
    classes = np.zeros((1, 4, 8), np.uint8)
    classes[0, :, 0:2] = 1  # fully class 1
    classes[0, :, 2:4] = [2, 0]  # half 2, half background: the structure wins the tie
    classes[0, :3, 4:6] = 1  # 3/4 class 1
    classes[0, 3, 4:6] = 2
    classes[0, :, 6] = 2  # 2 and 1 in equal parts: the lower class wins the tie
    classes[0, :, 7] = 1
    out = resample_classes(classes, (1, 2, 4), 3)
    assert out.tolist() == [[[1, 2, 1, 1], [1, 2, 1, 1]]]


def test_minority_background_and_absent_classes():
    classes = np.full((2, 2, 2), 3, np.uint8)
    classes[0, 0, 0] = 0
    assert resample_classes(classes, (1, 1, 1), 5).tolist() == [[[3]]]
    classes[:] = 0
    classes[0, 0, 0] = 3
    assert resample_classes(classes, (1, 1, 1), 5).tolist() == [[[0]]]


def test_the_same_grid_is_a_copy_and_doubling_a_row_repeats_each_voxel():
    classes = np.random.default_rng(0).integers(0, 4, (5, 6, 7)).astype(np.uint8)
    same = resample_classes(classes, classes.shape, 4)
    assert np.array_equal(same, classes) and same is not classes
    row = classes[:1, :1, :]
    # target voxels 2i and 2i+1 sit a quarter voxel either side of source voxel i
    assert np.array_equal(resample_classes(row, (1, 1, 14), 4), np.repeat(row, 2, axis=2))


def test_a_stage_case_gets_centred_labels():
    image = np.zeros((42, 42, 42), np.float32)
    label = _ball((42, 42, 42), (20.5, 20.5, 20.5), 6.3) * 17
    image[label > 0] = 100.0
    case = AutoCase("ball", image, label.astype(np.uint16), (1.0, 1.0, 1.0))
    plan = {"n_classes": 2, "label_values": [17], "normalization": {"scheme": "mr"}}
    stage = {"spacing_zyx": [2.0, 2.0, 2.0]}
    prepared = prepare_stage_case(case, plan, stage)
    assert prepared.classes.shape == (21, 21, 21)
    assert np.array_equal(_centre_of_mass(prepared.classes == 1), [10.0, 10.0, 10.0])
