"""Largest-connected-component post-processing and the per-class decision whether it helps.

Applied on the class probabilities at the last stage's spacing (uint8, one byte per class and
voxel), before they are resampled onto the image: voxels of a class outside its largest
component lose that class, so the next most likely class takes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from segmentation_core.masks import dice

CHUNK = 16


def argmax_u8(probs: np.ndarray) -> np.ndarray:
    """argmax over axis 0 of (K, z, y, x), as uint8, in z-chunks (no int64 whole-volume copy)."""
    out = np.empty(probs.shape[1:], np.uint8)
    for z0 in range(0, probs.shape[1], CHUNK):
        out[z0 : z0 + CHUNK] = np.argmax(probs[:, z0 : z0 + CHUNK], axis=0)
    return out


def keep_largest_components(probs_u8: np.ndarray, classes: Sequence[int]) -> None:
    """For each class in `classes`, zero its probability outside its largest component."""
    if not classes:
        return
    winner = argmax_u8(probs_u8)
    for c in classes:
        mask = winner == c
        labels, n = ndimage.label(mask)
        if n <= 1:
            continue
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        drop = (labels != 0) & (labels != int(np.argmax(sizes)))
        probs_u8[c][drop] = 0


def class_dice(pred: np.ndarray, ref: np.ndarray, c: int) -> float | None:
    """Dice of class `c` (`segmentation_core.masks.dice`); None when the class is in neither map."""
    a, b = pred == c, ref == c
    if not a.any() and not b.any():
        return None
    return dice(a, b)


def decide_largest_component(
    without: Sequence[dict], with_lcc: Sequence[dict], classes: Sequence[int]
) -> list[int]:
    """Classes whose mean validation Dice improves with the largest-component filter.

    `without` / `with_lcc`: per validation case, {class: dice or None}."""
    chosen = []
    for c in classes:
        a = [d[c] for d in without if d.get(c) is not None]
        b = [d[c] for d in with_lcc if d.get(c) is not None]
        if a and b and float(np.mean(b)) > float(np.mean(a)):
            chosen.append(int(c))
    return chosen
