"""Sliding-window prediction with Gaussian importance weights, accumulated in z-slabs.

Windows overlap by `overlap` (0.5: each voxel is seen by up to 8 windows); each window's softmax
is weighted by a Gaussian centred on the patch (sigma = patch / 8, as nnU-Net), because a
network is least reliable at its patch border. Memory is bounded: the per-class accumulator
covers only one patch depth of slices; windows are visited in z order, and once no further
window starts at or below a slice, that slice is final and handed to `on_slab` (class
probabilities, normalised by the accumulated weights) and the buffer moves on. So a 512x512x1000
CT needs K x patch-depth x 512 x 512 floats, never K x the whole volume.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class Cancelled(Exception):
    """The caller's `should_stop()` returned True."""


def window_starts(size: int, patch: int, overlap: float) -> list[int]:
    """Starts of windows of `patch` covering `size` with at least `overlap` (0..<1) overlap."""
    if size <= patch:
        return [0]
    step = max(1, int(patch * (1.0 - overlap)))
    n = int(np.ceil((size - patch) / step)) + 1
    return [int(round(i * (size - patch) / (n - 1))) for i in range(n)]


def gaussian_weights(patch, sigma_scale: float = 1 / 8) -> np.ndarray:
    grids = np.meshgrid(*[np.arange(p, dtype=np.float64) for p in patch], indexing="ij")
    g = np.ones(tuple(patch))
    for x, p in zip(grids, patch):
        centre, sigma = (p - 1) / 2.0, max(p * sigma_scale, 1e-3)
        g = g * np.exp(-((x - centre) ** 2) / (2 * sigma**2))
    # no zero weights: a voxel seen only near window borders still gets a prediction
    return np.clip(g / g.max(), 1e-3, 1.0).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def predict_windows(
    get_input: Callable[[np.ndarray, tuple], np.ndarray],
    shape,
    patch,
    n_classes: int,
    predictors: Sequence[Callable[[np.ndarray], np.ndarray]],
    on_slab: Callable[[int, int, np.ndarray], None],
    *,
    overlap: float = 0.5,
    mirror_axes: Sequence[int] = (),
    swap: tuple[int, np.ndarray] | None = None,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Predict a volume of `shape` (z, y, x) window by window.

    `get_input(start, patch)` returns the (C, *patch) network input at window `start` (padded
    outside the volume); each predictor maps (1, C, *patch) to (K, *patch) logits; their softmax
    (and that of each mirrored copy) is averaged. `swap` = (axis, class permutation): a copy
    mirrored along that axis has its classes exchanged (left/right structures), in the output
    and in the previous stage's one-hot input channels. `on_slab(z0, z1, probs)` receives the
    final (K, z1 - z0, Y, X) probabilities of consecutive slabs, in z order, covering the
    volume.
    """
    shape = tuple(int(s) for s in shape)
    patch = tuple(int(p) for p in patch)
    starts = [window_starts(s, p, overlap) for s, p in zip(shape, patch)]
    weight = gaussian_weights(patch)
    depth = min(patch[0], shape[0])
    acc = np.zeros((n_classes, depth, *shape[1:]), np.float32)
    wsum = np.zeros((depth, *shape[1:]), np.float32)
    flips = [()] + [(a,) for a in mirror_axes]
    total = len(starts[0]) * len(starts[1]) * len(starts[2])
    done_windows = 0
    base = 0  # the slice acc[:, 0] stands for

    def flush(upto: int) -> None:
        nonlocal base
        if upto <= base:
            return
        n = upto - base
        on_slab(base, upto, acc[:, :n] / np.maximum(wsum[:n], 1e-8))
        acc[:, : depth - n] = acc[:, n:].copy()
        acc[:, depth - n :] = 0
        wsum[: depth - n] = wsum[n:].copy()
        wsum[depth - n :] = 0
        base = upto

    for z in starts[0]:
        flush(z)
        for y in starts[1]:
            for x in starts[2]:
                if should_stop is not None and should_stop():
                    raise Cancelled()
                start = np.asarray((z, y, x))
                inp = get_input(start, patch)[None]
                prob = np.zeros((n_classes, *patch), np.float32)
                for predict in predictors:
                    for axes in flips:
                        ax = tuple(a + 2 for a in axes)
                        x_in = np.flip(inp, ax) if axes else inp
                        swapped = swap is not None and swap[0] in axes
                        if swapped and x_in.shape[1] > 1:  # the one-hot channels of classes
                            x_in = np.concatenate([x_in[:, :1], x_in[:, 1:][:, swap[1]]], 1)
                        p = softmax(predict(np.ascontiguousarray(x_in)))
                        if swapped:
                            p = p[swap[1]]
                        prob += np.flip(p, tuple(a + 1 for a in axes)) if axes else p
                prob *= weight / (len(predictors) * len(flips))
                # the part of the window inside the volume, relative to the buffer
                hi = np.minimum(start + patch, shape)
                n = hi - start
                zb = z - base
                acc[:, zb : zb + n[0], y : hi[1], x : hi[2]] += prob[:, : n[0], : n[1], : n[2]]
                wsum[zb : zb + n[0], y : hi[1], x : hi[2]] += weight[: n[0], : n[1], : n[2]]
                done_windows += 1
                if progress is not None:
                    progress(done_windows / total)
    flush(shape[0])
