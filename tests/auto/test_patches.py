"""Training patches of the automatic model: a foreground patch holds its chosen voxel anywhere
in the patch, never always at the centre (a net then learns the position, not the anatomy)."""

from __future__ import annotations

import numpy as np

from segmentation_core.auto.patches import PatchSampler, StageCase


def test_a_foreground_patch_holds_its_voxel_at_a_random_place():
    image = np.zeros((40, 40, 40), np.float32)
    classes = np.zeros((40, 40, 40), np.uint8)
    classes[20, 21, 19] = 1  # one labelled voxel: every foreground patch must contain it
    case = StageCase("one", image, classes, (1.0, 1.0, 1.0))
    patch = np.array([16, 16, 16])
    sampler = PatchSampler(
        [case], patch, 2, 0, np.random.default_rng(0), fg_fraction=1.0, augment=False
    )
    where = []
    for _ in range(300):
        _, y = sampler.one(case, force_fg=True)
        hits = np.argwhere(y == 1)
        assert len(hits) == 1  # the voxel is always in the patch
        where.append(hits[0])
    where = np.asarray(where)
    for axis in range(3):
        # spread over the patch: first and last quarter both reached on every axis
        assert where[:, axis].min() <= 3 and where[:, axis].max() >= 12
        assert 3.0 < where[:, axis].std() < 5.5  # uniform over 16 voxels: std 4.6
