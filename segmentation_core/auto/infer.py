"""Automatic segmentation of one image: stages, fold ensemble, post-processing, back to its grid.

The image is first turned to the model's orientation (`orientation`) and the result turned
back at the end. Per stage: the image is resampled to the stage spacing (z-chunked) and
normalised; the sliding window (`sliding`) averages the softmax of every fold's exported model
(Paddle Predictor with oneDNN) and hands finished z-slabs over, which are kept as one byte per
class and voxel at the stage spacing. A low-resolution stage's argmax becomes the next stage's
extra input channels. After the last stage, the largest-component filter runs for the classes
the cross-validation chose, then the probabilities are interpolated linearly onto the image's
own grid slab by slab and the argmax is written as label values. Peak memory: the image, its
resampled copy, K bytes per voxel at stage spacing, and one patch-depth of float accumulators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from segmentation_core.auto import orientation
from segmentation_core.auto.model_folder import export_dir, read_auto_model
from segmentation_core.auto.patches import crop, one_hot_channels
from segmentation_core.auto.postprocess import argmax_u8, keep_largest_components
from segmentation_core.auto.preprocess import (
    classes_to_label,
    normalise,
    resample,
    resample_rows,
    scale_of,
    target_shape,
)
from segmentation_core.auto.sliding import Cancelled, predict_windows

__all__ = ["Cancelled", "predict_volume", "stage_probabilities", "to_image_grid"]

NATIVE_CHUNK = 16


def stage_probabilities(
    plan: dict,
    stage_predictors: Sequence[Sequence[Callable]],
    image: np.ndarray,
    spacing_zyx,
    *,
    overlap: float = 0.5,
    mirror_axes: Sequence[int] = (),
    swap=None,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """uint8 class probabilities (K, *last stage grid) for `image` (0..255 = 0..1)."""
    n_classes = int(plan["n_classes"])
    stages = plan["stages"]
    prev = None
    probs_u8 = None
    for si, (stage, predictors) in enumerate(zip(stages, stage_predictors)):
        shape = target_shape(image.shape, spacing_zyx, stage["spacing_zyx"])
        img = normalise(resample(image, shape, order=1), plan["normalization"])
        prev_t = None if prev is None else resample(prev, shape, order=0, dtype=np.uint8)
        extra = int(stage["extra_channels"])
        cval = float(img.min())

        def get_input(start, patch, img=img, prev_t=prev_t, cval=cval, extra=extra):
            chans = [crop(img, start, patch, cval)[None]]
            if extra:
                p = crop(prev_t, start, patch, 0) if prev_t is not None else None
                chans.append(one_hot_channels(p, extra))
            return np.concatenate(chans, axis=0)

        probs_u8 = np.zeros((n_classes, *shape), np.uint8)

        def on_slab(z0, z1, p, out=probs_u8):
            out[:, z0:z1] = np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8)

        def stage_progress(f, si=si):
            if progress is not None:
                progress((si + f) / len(stages))

        predict_windows(
            get_input,
            shape,
            stage["patch_zyx"],
            n_classes,
            predictors,
            on_slab,
            overlap=overlap,
            mirror_axes=mirror_axes,
            swap=swap,
            progress=stage_progress,
            should_stop=should_stop,
        )
        del img, prev_t
        if si < len(stages) - 1:
            prev = argmax_u8(probs_u8)
    assert probs_u8 is not None
    return probs_u8


def to_image_grid(probs_u8: np.ndarray, image_shape, should_stop=None) -> np.ndarray:
    """Class indices (uint8) on the image grid: linear interpolation of the probabilities,
    slab by slab (only NATIVE_CHUNK slices of floats per class at a time), then argmax."""
    image_shape = tuple(int(s) for s in image_shape)
    if tuple(probs_u8.shape[1:]) == image_shape:
        return argmax_u8(probs_u8)
    scale = scale_of(probs_u8.shape[1:], image_shape)
    out = np.empty(image_shape, np.uint8)
    for z0 in range(0, image_shape[0], NATIVE_CHUNK):
        if should_stop is not None and should_stop():
            raise Cancelled()
        z1 = min(image_shape[0], z0 + NATIVE_CHUNK)
        slab = np.stack(
            [resample_rows(p, scale, z0, z1, image_shape, 1, np.float32) for p in probs_u8]
        )
        out[z0:z1] = np.argmax(slab, axis=0)
    return out


def segment_classes(
    plan: dict,
    stage_predictors,
    image: np.ndarray,
    spacing_zyx,
    largest_component: Sequence[int] = (),
    **kw,
) -> np.ndarray:
    """Class indices on the image grid (what `predict_volume` maps to label values)."""
    should_stop = kw.get("should_stop")
    probs = stage_probabilities(plan, stage_predictors, image, spacing_zyx, **kw)
    keep_largest_components(probs, list(largest_component))
    return to_image_grid(probs, image.shape, should_stop)


def load_predictors(model_dir: Path, model: dict, threads: int) -> list[list[Callable]]:
    from segmentation_core.auto.runtime import StagePredictor

    return [
        [StagePredictor(export_dir(model_dir, f, s["name"]), threads) for f in model["folds"]]
        for s in model["plan"]["stages"]
    ]


def predict_volume(
    model_dir,
    image: np.ndarray,
    spacing_zyx,
    *,
    threads: int = 2,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    overlap: float = 0.5,
    mirror: bool | None = None,
    direction=None,
) -> np.ndarray:
    """The automatic model's label map (uint16 label values, 0 = background) on the image's own
    grid (same shape as `image`). `direction`: the image's ITK direction matrix (None: the
    identity); a model trained in the canonical orientation sees the image turned to it.
    `mirror`: test-time mirroring on or off; None mirrors when the model trained with it.
    Raises `Cancelled` when `should_stop()` turns true and `AutoModelError` (one line) for an
    unusable model folder."""
    if image.ndim != 3:
        raise ValueError(f"expected a 3-D image, got shape {image.shape}")
    model = read_auto_model(model_dir)
    plan = model["plan"]
    # models from before orientation was handled ran on the array as given
    turn = orientation.reorientation(direction if plan.get("orientation") else None)
    # one contiguous copy when turned: resampling a strided view slab by slab costs far more
    image = np.ascontiguousarray(orientation.to_canonical(image, turn))
    spacing_zyx = orientation.canonical_spacing(spacing_zyx, turn)
    predictors = load_predictors(Path(model_dir), model, threads)
    inner = None if progress is None else (lambda f: progress(0.95 * f))
    values = [int(v) for v in plan["label_values"]]
    lcc = [values.index(int(v)) + 1 for v in model["postprocessing"].get("largest_component", [])]
    mirror_axes, swap = orientation.plan_mirroring(plan, mirror)
    classes = segment_classes(
        plan,
        predictors,
        image,
        spacing_zyx,
        lcc,
        overlap=overlap,
        mirror_axes=mirror_axes,
        swap=swap,
        progress=inner,
        should_stop=should_stop,
    )
    classes = orientation.from_canonical(classes, turn)
    if progress is not None:
        progress(1.0)
    return classes_to_label(classes, plan["label_values"])
