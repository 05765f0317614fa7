"""Resampling between an image's grid and a stage's spacing, and intensity normalisation.

Grids are aligned by voxel centres over the same physical extent: target voxel i sits at source
index (i + 0.5) * new_spacing / old_spacing - 0.5. Large images are resampled in z-chunks so the
temporary arrays stay a few slices deep (a 512x512x1000 CT never doubles in memory).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

CHUNK_Z = 32


def scale_of(old_shape, new_shape) -> np.ndarray:
    """Source voxels per target voxel, per axis, for two grids over the same extent."""
    return np.asarray(old_shape, float) / np.asarray(new_shape, float)


def target_shape(shape_zyx, spacing_zyx, new_spacing_zyx) -> tuple[int, int, int]:
    s = np.round(np.asarray(shape_zyx) * np.asarray(spacing_zyx) / np.asarray(new_spacing_zyx))
    return tuple(int(v) for v in np.maximum(1, s))  # type: ignore[return-value]


def resample(array: np.ndarray, new_shape, order: int, dtype=np.float32) -> np.ndarray:
    """`array` on a grid of `new_shape` over the same extent (order 0: nearest, 1: linear)."""
    new_shape = tuple(int(s) for s in new_shape)
    if tuple(array.shape) == new_shape:
        return np.asarray(array, dtype=dtype).copy()
    scale = scale_of(array.shape, new_shape)
    out = np.empty(new_shape, dtype=dtype)
    for z0 in range(0, new_shape[0], CHUNK_Z):
        z1 = min(new_shape[0], z0 + CHUNK_Z)
        out[z0:z1] = resample_rows(array, scale, z0, z1, new_shape, order, dtype)
    return out


def resample_rows(array, scale, z0: int, z1: int, new_shape, order: int, dtype=np.float32):
    """Target slices z0..z1 of the resampling of `array` by `scale` (source per target)."""
    offset = (np.arange(3) * 0 + 0.5) * scale - 0.5
    src_z0 = (z0 + 0.5) * scale[0] - 0.5
    src_z1 = (z1 - 1 + 0.5) * scale[0] - 0.5
    lo = max(0, int(np.floor(src_z0)) - 1)
    hi = min(array.shape[0], int(np.ceil(src_z1)) + 2)
    slab = array[lo:hi]
    if order == 0 and not np.issubdtype(slab.dtype, np.floating):
        # nearest neighbour by index arithmetic: exact for integer labels, no float copy
        idx = [
            np.clip(np.floor((np.arange(a, b) + 0.5) * s).astype(int), 0, n - 1)
            for a, b, s, n in (
                (z0, z1, scale[0], array.shape[0]),
                (0, new_shape[1], scale[1], array.shape[1]),
                (0, new_shape[2], scale[2], array.shape[2]),
            )
        ]
        return array[np.ix_(*idx)].astype(dtype)
    off = offset.copy()
    off[0] = src_z0 - lo
    return ndimage.affine_transform(
        slab,
        scale,
        offset=off,
        output_shape=(z1 - z0, *new_shape[1:]),
        order=order,
        mode="nearest",
        output=dtype,
    )


def resample_classes(classes: np.ndarray, new_shape, n_classes: int) -> np.ndarray:
    """Class indices (uint8) on a grid of `new_shape`: per voxel, the class that covers most of
    it (each class's mask interpolated linearly at the voxel centre, then argmax; a tie goes
    to a structure over the background, and to the lower class between structures, so that the
    rule has no direction in space). Nearest neighbour alone is not centred where one target voxel
    spans an even number of source voxels (1 mm -> 2 mm takes source voxel 2i+1 for a centre
    at 2i+0.5): the labels would sit half a source voxel off the linearly resampled image on
    every axis, and a network trained on them learns that offset
    (`benchmarks/bench_auto_ceiling.py` measures what it costs)."""
    new_shape = tuple(int(s) for s in new_shape)
    if tuple(classes.shape) == new_shape:
        return np.asarray(classes, np.uint8).copy()
    scale = scale_of(classes.shape, new_shape)
    # linear interpolation keeps the masks summing to one, so the background's share is what
    # the structures leave: only each structure's bounding box is interpolated
    others = np.zeros(new_shape, np.float32)
    best = np.zeros(new_shape, np.float32)
    out = np.zeros(new_shape, np.uint8)
    boxes = ndimage.find_objects(classes, max_label=int(n_classes) - 1)
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        tgt, src = _covering_boxes(box, scale, classes.shape, new_shape)
        mask = (classes[src] == k).view(np.uint8)
        offset = (np.array([t.start for t in tgt]) + 0.5) * scale - 0.5
        offset -= np.array([sl.start for sl in src])
        frac = ndimage.affine_transform(
            mask,
            scale,
            offset=offset,
            output_shape=tuple(t.stop - t.start for t in tgt),
            order=1,
            mode="nearest",
            output=np.float32,
        )
        others[tgt] += frac
        better = frac > best[tgt]
        out[tgt][better] = k
        best[tgt] = np.maximum(best[tgt], frac)
    # a small tolerance: the shares are sums of interpolation weights, not exact fractions
    out[(1.0 - others) > best + np.float32(1e-4)] = 0
    return out


def _covering_boxes(box, scale, old_shape, new_shape):
    """The target voxels whose interpolation can touch source `box`, and the source voxels
    they read (one voxel of margin each way)."""
    tgt, src = [], []
    for sl, sc, n_old, n_new in zip(box, scale, old_shape, new_shape):
        t0 = max(0, int(np.floor((sl.start - 1 + 0.5) / sc - 0.5)))
        t1 = min(n_new, int(np.ceil((sl.stop + 0.5) / sc - 0.5)) + 1)
        s0 = max(0, int(np.floor((t0 + 0.5) * sc - 0.5)) - 1)
        s1 = min(n_old, int(np.ceil((t1 - 1 + 0.5) * sc - 0.5)) + 2)
        tgt.append(slice(t0, t1))
        src.append(slice(s0, s1))
    return tuple(tgt), tuple(src)


def normalise(image: np.ndarray, norm: dict) -> np.ndarray:
    """Normalise in place when `image` is float32 (else a float32 copy), per the plan."""
    out = image if image.dtype == np.float32 else image.astype(np.float32)
    if norm["scheme"] == "ct":
        np.clip(out, norm["clip"][0], norm["clip"][1], out=out)
        out -= np.float32(norm["mean"])
        out /= np.float32(norm["std"])
    elif norm.get("mask") == "nonzero":
        # nnU-Net's masked z-score: a skull-stripped or zero-filled image takes its statistics
        # from the tissue alone, so tissue lands where it does in an image with a background;
        # the zeros stay 0 (an image without zeros is z-scored whole, as below)
        inside = out != 0
        if inside.any():
            values = out[inside]
            mean, std = float(values.mean(dtype=np.float64)), float(values.std(dtype=np.float64))
            del values
            out -= np.float32(mean)
            out /= np.float32(max(std, 1e-6))
            out[~inside] = 0
    else:
        mean, std = float(out.mean(dtype=np.float64)), float(out.std(dtype=np.float64))
        out -= np.float32(mean)
        out /= np.float32(max(std, 1e-6))
    return out


def label_to_classes(label: np.ndarray, values) -> np.ndarray:
    """Label values -> class indices 1..K in the plan's order; any other value -> 0."""
    lut_size = int(max(int(label.max()) if label.size else 0, max(values))) + 1
    lut = np.zeros(lut_size, np.uint8)
    for i, v in enumerate(values, start=1):
        lut[int(v)] = i
    return lut[np.clip(label, 0, lut_size - 1).astype(np.int64)]


def classes_to_label(classes: np.ndarray, values) -> np.ndarray:
    lut = np.asarray([0, *[int(v) for v in values]], dtype=np.uint16)
    return lut[classes]
