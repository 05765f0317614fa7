"""Tiny synthetic cases for the automatic-segmentation tests: two nested spheres with noise."""

from __future__ import annotations

import numpy as np

from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.plan import Budget


def sphere_case(i: int, shape=(24, 40, 36), spacing=(2.0, 1.0, 1.0), patient="") -> AutoCase:
    rng = np.random.default_rng(i)
    z, y, x = np.indices(shape)
    c = np.asarray(shape) / 2 + rng.uniform(-3, 3, 3)
    r = np.sqrt(((z - c[0]) * spacing[0] / 2) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2)
    label = np.zeros(shape, np.uint16)
    label[r < 6] = 5
    label[(r >= 6) & (r < 9)] = 9
    image = (label == 5) * 100.0 + (label == 9) * 50.0 + rng.normal(0, 10, shape)
    return AutoCase(f"c{i}", image.astype(np.float32), label, spacing, "MR", patient or f"p{i}")


TINY = Budget.cpu(max_patch_voxels=16 * 32 * 32, base_width=4, max_pools=3)
