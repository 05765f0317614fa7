"""Memory of the simulated clicker: a flooded prediction must not cost gigabytes.

An engine that floods the image (an untrained network at its widest zoom) makes an error
component the size of the whole volume; labelling and a 25 %-padded distance transform of that
took about 50 bytes a voxel of the padded box (3.1 GB on a 256^3 brain). tracemalloc sees numpy's
allocations, including the ones made inside scipy."""

from __future__ import annotations

import tracemalloc

import numpy as np

from segmentation_core.evaluation.clicker import next_click


def test_flooded_prediction_costs_little_memory():
    shape = (128, 128, 128)
    target = np.zeros(shape, bool)
    target[40:56, 40:56, 40:56] = True
    pred = np.ones(shape, bool)
    tracemalloc.start()
    try:
        click = next_click(pred, target, (1.0, 1.0, 1.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the deepest background voxel of the error: a corner-most voxel at depth ~ 20 from the
    # cube and the padded image border, in a corner region (negative click)
    assert click is not None and click[1] is False and pred[click[0]] and not target[click[0]]
    voxels = pred.size
    # feature transform (12 B/voxel) + a few bool masks (18 measured); the old path needed ~195
    assert peak < 24 * voxels, f"{peak / voxels:.1f} bytes per voxel"
