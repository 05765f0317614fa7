"""Random first clicks for training samples.

The corrective clicks of training are those of the evaluation protocol's simulated user,
`segmentation_core.evaluation.clicker` (one copy, shared by the app's harness and the trainer);
this module only adds what training needs on top: a *random* interior click, so that the
network does not learn that users click at the exact centre.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.evaluation.clicker import first_click, largest_component


def interior_point(mask: np.ndarray, sampling=None, rng: np.random.Generator | None = None):
    """The most interior voxel of `mask`'s largest component; with `rng`, a random interior one.

    Random clicks are drawn with probability ∝ distance², so they fall well inside the structure
    most of the time but not always at its centre (users do not click at the exact centre).
    Without `rng` this is the simulated user's first click (`clicker.first_click`).
    """
    if not mask.any():
        return None
    spacing = sampling if sampling is not None else (1.0, 1.0, 1.0)
    if rng is None:
        return first_click(mask, spacing)[0]
    padded = np.pad(largest_component(mask), 1)
    dist = ndimage.distance_transform_edt(padded, sampling=sampling)[1:-1, 1:-1, 1:-1]
    w = dist.ravel() ** 2
    idx = int(rng.choice(w.size, p=w / w.sum()))
    return np.unravel_index(idx, dist.shape)
