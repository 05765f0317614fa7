"""`generate`: one random image (and its label) from a label map, SynthSeg's recipe:
deform the labels, paint a Gaussian per label, bias field, blur to a random acquisition
resolution (down and back up), noise, min-max normalisation, gamma, and for a share of whole-head
maps skull-stripping.

Every draw comes from the `rng` passed in, in a fixed order, so a seed gives the same image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from segmentation_core.synth import intensity, resolution, spatial
from segmentation_core.synth.params import SynthParams


@dataclass
class SynthResult:
    """A generated image, its label and what was drawn (for tests and records)."""

    image: np.ndarray  # float32 (z, y, x), [0, 1] when normalised
    label: np.ndarray  # int32 (z, y, x), dropped values set to 0
    offset_zyx: tuple[int, int, int] = (0, 0, 0)  # crop start in the input grid
    means: dict[int, float] = field(default_factory=dict)  # label value -> drawn mean
    stds: dict[int, float] = field(default_factory=dict)
    resolution_mm: tuple[float, float, float] | None = None  # None: not blurred
    gamma: float | None = None
    stripped: bool = False  # skull-stripped (`SynthParams.stripped_probability`)


def head_box(
    labels: np.ndarray, spacing_zyx, margin_mm: float
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(start, stop) zyx of the non-zero voxels' bounding box grown by `margin_mm`, clipped to
    the grid; the whole grid when the map is all zero."""
    start, stop = [], []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(np.any(labels != 0, axis=others))
        n = labels.shape[axis]
        if hit.size == 0:
            return (0, 0, 0), tuple(labels.shape)
        m = int(np.ceil(margin_mm / spacing_zyx[axis]))
        start.append(max(0, int(hit[0]) - m))
        stop.append(min(n, int(hit[-1]) + 1 + m))
    return tuple(start), tuple(stop)


def _check(label_map: np.ndarray, spacing_zyx) -> None:
    if label_map.ndim != 3:
        raise ValueError(f"label map must be 3D, got shape {label_map.shape}")
    if not np.issubdtype(label_map.dtype, np.integer):
        raise ValueError(f"label map must hold integers, got {label_map.dtype}")
    if len(spacing_zyx) != 3 or any(not s > 0 for s in spacing_zyx):
        raise ValueError(f"spacing must be three positive numbers, got {spacing_zyx}")


def generate_detailed(
    label_map: np.ndarray,
    spacing_zyx,
    rng: np.random.Generator,
    params: SynthParams | None = None,
) -> SynthResult:
    """One image from `label_map` (integer, (z, y, x)); cropped to the head's box plus
    `params.crop_margin_mm` when that is set (`offset_zyx` says where the crop starts)."""
    p = params or SynthParams()
    _check(label_map, spacing_zyx)
    spacing_zyx = tuple(float(s) for s in spacing_zyx)
    offset = (0, 0, 0)
    if p.crop_margin_mm is not None:
        offset, stop = head_box(label_map, spacing_zyx, p.crop_margin_mm)
        label_map = label_map[tuple(slice(a, b) for a, b in zip(offset, stop, strict=True))]
    labels = np.ascontiguousarray(label_map)
    # 0 is drawn too: the deformation brings it in from outside the map
    values = np.union1d(intensity.label_values(labels), [0])
    means, stds = intensity.draw_gaussians(rng, values, p)
    if p.deform:
        labels = spatial.random_deformation(rng, labels, spacing_zyx, p)
    image = intensity.paint(rng, labels, values, means, stds)
    if p.bias:
        intensity.apply_bias(rng, image, spacing_zyx, p)
    res = None
    if p.blur:
        res = resolution.draw_resolution(rng, spacing_zyx, p)
        image = resolution.blur(image, resolution.blur_sigmas(res, spacing_zyx))
    full_shape = image.shape
    if p.blur and p.resample:
        image = resolution.resample(image, resolution.low_shape(full_shape, spacing_zyx, res))
    if p.noise:
        intensity.add_noise(rng, image, p)
    image = resolution.resample(image, full_shape)
    gamma = None
    if p.normalise:
        intensity.normalise(image)
        if p.gamma:
            gamma = intensity.apply_gamma(rng, image, p)
    out_label = _drop(labels, values, p)
    whole_head = any(p.dropped(int(v)) for v in values)
    stripped = maybe_strip(rng, image, out_label, whole_head, p)
    return SynthResult(
        image=np.ascontiguousarray(image, dtype=np.float32),
        label=out_label,
        offset_zyx=tuple(int(o) for o in offset),
        means={int(v): float(m) for v, m in zip(values, means, strict=True)},
        stds={int(v): float(s) for v, s in zip(values, stds, strict=True)},
        resolution_mm=None if res is None else tuple(float(r) for r in res),
        gamma=gamma,
        stripped=stripped,
    )


def maybe_strip(
    rng: np.random.Generator,
    image: np.ndarray,
    out_label: np.ndarray,
    whole_head: bool,
    p: SynthParams,
) -> bool:
    """With `p.stripped_probability`, zero `image` in place where `out_label` (dropped values
    already 0) is 0; only for a `whole_head` map (one with dropped values), where label 0 means
    outside the brain; elsewhere it is unlabelled tissue. The draw happens only when the
    probability is set, so other images stay the same for a seed."""
    if p.stripped_probability <= 0 or rng.random() >= p.stripped_probability:
        return False
    if not whole_head:
        return False
    image[out_label == 0] = 0
    return True


def _drop(labels: np.ndarray, values: np.ndarray, p: SynthParams) -> np.ndarray:
    """int32 labels with the values that only shape the image set to 0."""
    dropped = [int(v) for v in values if p.dropped(int(v))]
    out = labels.astype(np.int32, copy=True)
    if dropped:
        out[np.isin(out, dropped)] = 0
    return out


def generate(
    label_map: np.ndarray,
    spacing_zyx,
    rng: np.random.Generator,
    params: SynthParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(float32 image, int32 label) on the input's grid (never cropped: `generate_detailed`
    with `crop_margin_mm` gives the crop and its offset)."""
    p = params or SynthParams()
    if p.crop_margin_mm is not None:
        from dataclasses import replace

        p = replace(p, crop_margin_mm=None)
    r = generate_detailed(label_map, spacing_zyx, rng, p)
    return r.image, r.label
