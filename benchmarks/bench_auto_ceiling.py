"""Resolution ceiling of the automatic model (issue 15): the zero-click Dice that a PERFECT
network at a given stage spacing would score on an image's own grid.

The label is taken to the stage spacing as training does (`auto.stage_batches`: the majority
class of each voxel, `preprocess.resample_classes`, "centred"), as training did before
("nearest": nearest-neighbour class indices, half a source voxel off at even ratios), or as
per-class partial-volume fractions ("soft": what a network trained on area-weighted targets
could at best learn). These
one-hot/fraction maps go back through the inference path's own interpolation
(`auto.infer.to_image_grid`: linear per class, then argmax) and are scored against the label.
No network runs: the gap between this ceiling and a trained model is the model's, the gap
between the ceiling and 1.0 is the spacing's.

    python benchmarks/bench_auto_ceiling.py [--label PATH] [--spacings 1,1.5,2,2.5,3]

Default label: ../shared/data/seg/mr_brain_freesurfer/label.nii.gz and the issue's 12
subcortical structures (skips cleanly when the shared data is absent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_auto import BRAIN, T1  # noqa: E402

from segmentation_core.auto.infer import to_image_grid  # noqa: E402
from segmentation_core.auto.preprocess import (  # noqa: E402
    label_to_classes,
    resample,
    resample_classes,
    target_shape,
)
from segmentation_core.masks import dice  # noqa: E402

T1_LABEL = T1 / "label.nii.gz"


def one_hot_u8(small: np.ndarray, n_classes: int) -> np.ndarray:
    return np.stack([(small == k).astype(np.uint8) * 255 for k in range(n_classes)])


def nearest_probs(classes: np.ndarray, shape, n_classes: int) -> np.ndarray:
    """uint8 one-hot (0/255) of the nearest-resampled classes: training's targets before."""
    return one_hot_u8(resample(classes, shape, order=0, dtype=np.uint8), n_classes)


def centred_probs(classes: np.ndarray, shape, n_classes: int) -> np.ndarray:
    """uint8 one-hot (0/255) of the majority classes: training's targets now."""
    return one_hot_u8(resample_classes(classes, shape, n_classes), n_classes)


def soft_probs(classes: np.ndarray, shape, n_classes: int) -> np.ndarray:
    """uint8 partial-volume fraction of each class in each stage voxel (box average)."""
    factors = np.asarray(classes.shape, float) / np.asarray(shape, float)
    out = np.empty((n_classes, *shape), np.uint8)
    for k in range(n_classes):
        frac = _box_average((classes == k).astype(np.float32), shape, factors)
        out[k] = np.clip(np.rint(frac * 255.0), 0, 255).astype(np.uint8)
    return out


def _box_average(mask: np.ndarray, shape, factors) -> np.ndarray:
    """Mean of `mask` over each target voxel's footprint (fractional edges weighted)."""
    out = mask
    for axis, (n_new, f) in enumerate(zip(shape, factors)):
        n_old = out.shape[axis]
        edges = np.arange(n_new + 1) * f
        weights = np.zeros((n_new, n_old), np.float32)
        for i in range(n_new):
            lo, hi = edges[i], min(edges[i + 1], n_old)
            for j in range(int(np.floor(lo)), int(np.ceil(hi))):
                weights[i, j] = min(hi, j + 1) - max(lo, j)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        out = np.moveaxis(np.tensordot(weights, np.moveaxis(out, axis, 0), axes=1), 0, axis)
    return out.astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", default=str(T1_LABEL))
    ap.add_argument("--spacings", default="1,1.5,2,2.5,3", help="stage spacings in mm")
    args = ap.parse_args()
    path = Path(args.label)
    if not path.is_file():
        print(f"skipped: {path} is absent (../shared/data not beside the checkout)")
        return 0
    import SimpleITK as sitk

    img = sitk.ReadImage(str(path))
    label = sitk.GetArrayFromImage(img)
    spacing = np.asarray(img.GetSpacing()[::-1], float)
    values = [v for v in BRAIN if (label == v).any()]
    classes = label_to_classes(label, values)
    n = len(values) + 1
    print(f"# bench_auto_ceiling: {path} {label.shape} at {np.round(spacing, 3).tolist()} mm")
    print("spacing  targets  " + " ".join(f"{BRAIN[v]:>7}" for v in values) + "     mean")
    for s in (float(x) for x in args.spacings.split(",")):
        shape = target_shape(label.shape, spacing, (s, s, s))
        for name, make in (
            ("nearest", nearest_probs),
            ("centred", centred_probs),
            ("soft", soft_probs),
        ):
            t0 = time.perf_counter()
            pred = to_image_grid(make(classes, shape, n), label.shape)
            d = [dice(pred == k, classes == k) for k in range(1, n)]
            print(
                f"{s:5.2f}mm  {name:7}  "
                + " ".join(f"{x:7.3f}" for x in d)
                + f"  {np.mean(d):7.3f}   ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
