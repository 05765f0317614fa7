"""The plan: target spacing, patch size, network depth and widths, normalisation and stages.

nnU-Net's idea (self-configuration from the dataset fingerprint), own rules, sized for the
machine the training runs on:

- **Target spacing**: the median spacing per axis; an axis more than 3x coarser than the others
  gets its 10th-percentile spacing instead (so thick-slice outliers do not blur the rest).
- **CPU budget** (`Budget.cpu()`): on 2 cores a 3-D training step costs seconds (STACK-NOTES:
  ~1.7 s for a 0.35 M-parameter net at 48^3, batch 2, on an idle machine; measured here 4-5 s
  at 48^3 and 13 s at 64^3 with the CPU shared), so an hour is only ~1-2 thousand steps. The plan
  therefore uses small patches (at most 48^3 voxels) and a narrow net (widths from 8), and
  coarsens the target spacing until the median volume is at most 16 patches (a 1 mm 256^3 brain
  becomes ~2.1 mm 120^3): each patch then sees a good share of the anatomy, which is what a
  short schedule can learn from. On a GPU (`Budget.gpu()`) patches of 128^3 and widths from 32
  fit, and the median spacing is kept.
- **Patch**: the median shape at target spacing, shrunk (largest axis first) to the budget's
  voxel count, each axis a multiple of its pooling product.
- **Depth**: an axis is pooled (kernel 2) at a level while its feature map stays >= 4 voxels
  after pooling; at most `Budget.max_pools` levels (nnU-Net's rule, per axis).
- **Normalisation**: CT: clip to the foreground's 0.5-99.5 percentiles, then z-score with the
  foreground mean/std (values keep their HU meaning across scans); anything else: z-score per
  image (MR intensities have no absolute scale).
- **Cascade**: when the median volume at target spacing is more than 4 patches, a low-resolution
  stage (spacing coarsened until the volume is about one patch) is trained first; its prediction,
  upsampled and one-hot coded, is fed as extra input channels to the full-resolution stage.
  Not on a CPU budget under 2 hours: two networks would share a schedule that is already short.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from segmentation_core.auto.orientation import LEFT_RIGHT_AXIS, MIDLINE_DICE, mirror_decision

PLAN_VERSION = 1
ANISOTROPY = 3.0
CASCADE_PATCHES = 4.0


@dataclass(frozen=True)
class Budget:
    """What the machine affords: patch voxels, width of the first level, pooling levels."""

    device: str = "cpu"
    max_patch_voxels: int = 48**3
    base_width: int = 16  # 16-channel convolutions run far nearer oneDNN's peak than 8 (benchmarks)
    max_width: int = 128
    max_pools: int = 4
    coarsen_to_patches: float = 16.0  # inf: keep the median spacing
    batch: int = 2
    allow_cascade: bool = True
    # a cascade trains two networks in the same time: below this budget one network learns more
    min_cascade_minutes: float = 120.0
    seconds_per_step: float = 2.0  # rough, for the printed step estimate

    @classmethod
    def cpu(cls, **kw) -> Budget:
        return cls(**kw)

    @classmethod
    def gpu(cls, **kw) -> Budget:
        base = dict(
            device="gpu",
            max_patch_voxels=128**3,
            base_width=32,
            max_width=320,
            max_pools=5,
            coarsen_to_patches=math.inf,
            seconds_per_step=0.5,
            min_cascade_minutes=0.0,
        )
        base.update(kw)
        return cls(**base)


def target_spacing(spacings: np.ndarray) -> np.ndarray:
    """Median spacing per axis, with the anisotropy rule for one much coarser axis."""
    target = np.median(spacings, axis=0)
    worst = int(np.argmax(target))
    others = [a for a in range(3) if a != worst]
    if target[worst] > ANISOTROPY * target[others].min():
        target[worst] = max(np.percentile(spacings[:, worst], 10), target[others].max())
    return target


def shape_at(shape_zyx, spacing_zyx, new_spacing_zyx) -> np.ndarray:
    return np.maximum(
        1, np.round(np.asarray(shape_zyx) * np.asarray(spacing_zyx) / new_spacing_zyx)
    ).astype(int)


def coarsen_until(spacing, shape_mm, max_voxels: float) -> np.ndarray:
    """Coarsen the finest axes (10% at a time) until the volume has at most `max_voxels`."""
    sp = np.asarray(spacing, float).copy()
    while np.prod(shape_mm / sp) > max_voxels:
        fine = sp <= sp.min() * 1.5
        sp[fine] *= 1.1
    return sp


def pool_kernels(patch_zyx, max_pools: int) -> list[list[int]]:
    """Per level, the pooling kernel per axis: 2 while the feature map stays >= 4 voxels."""
    size = np.asarray(patch_zyx, int).copy()
    kernels = []
    for _ in range(max_pools):
        k = [2 if s >= 8 else 1 for s in size]
        if sum(k) == 3:
            break
        kernels.append(k)
        size = size // np.asarray(k)
    return kernels


def fit_patch(shape_zyx, budget: Budget) -> tuple[list[int], list[list[int]]]:
    """A patch no larger than the volume (rounded up to 16) nor than the budget, with kernels."""
    patch = np.maximum(16, np.ceil(np.asarray(shape_zyx) / 16.0) * 16).astype(int)
    while np.prod(patch) > budget.max_patch_voxels:
        axis = int(np.argmax(patch))
        patch[axis] -= 16 if patch[axis] > 16 else 0
        if np.all(patch <= 16):
            break
    kernels = pool_kernels(patch, budget.max_pools)
    factor = np.prod(np.asarray(kernels, int), axis=0) if kernels else np.ones(3, int)
    patch = (np.maximum(patch // factor, 1) * factor).astype(int)
    return [int(p) for p in patch], kernels


def widths_for(n_levels: int, budget: Budget) -> list[int]:
    return [min(budget.base_width * 2**i, budget.max_width) for i in range(n_levels)]


def _stage(name: str, spacing, median_mm, budget: Budget, extra: int) -> dict:
    shape = shape_at(median_mm, np.ones(3), spacing)
    patch, kernels = fit_patch(shape, budget)
    return {
        "name": name,
        "spacing_zyx": [round(float(s), 5) for s in spacing],
        "median_shape_zyx": [int(s) for s in shape],
        "patch_zyx": patch,
        "pool_kernels": kernels,
        "widths": widths_for(len(kernels) + 1, budget),
        "extra_channels": extra,
    }


FOREGROUND_OVERSAMPLING = 1 / 3  # nnU-Net's share of patches centred on a labelled voxel


def make_plan(
    fp: dict,
    budget: Budget | None = None,
    label_names: dict | None = None,
    minutes: float = 0.0,
    spacing_mm: float | None = None,
    foreground: float | None = None,
) -> dict:
    """The plan (JSON-ready) for fingerprint `fp` under `budget` (CPU by default) for a
    training of `minutes` (0: no time limit). `spacing_mm` sets the target spacing (isotropic)
    instead of the data's median coarsened to the budget; `foreground` the share of patches
    centred on a labelled voxel."""
    budget = budget or Budget.cpu()
    if foreground is not None and not 0.0 <= foreground <= 1.0:
        raise ValueError(f"the foreground share must be in [0, 1], got {foreground}")
    spacings = np.asarray(fp["spacings_zyx"], float)
    shapes = np.asarray(fp["shapes_zyx"], float)
    median_mm = np.median(shapes * spacings, axis=0)  # the median extent in millimetres
    why = []
    spacing = target_spacing(spacings)
    why.append(f"median spacing {np.round(np.median(spacings, axis=0), 3).tolist()} mm")
    limit = budget.coarsen_to_patches * budget.max_patch_voxels
    if spacing_mm is not None:
        if not spacing_mm > 0:
            raise ValueError(f"the target spacing must be positive, got {spacing_mm}")
        spacing = np.full(3, float(spacing_mm))
        why.append(f"target spacing {float(spacing_mm):g} mm, as asked")
    elif np.prod(median_mm / spacing) > limit:
        spacing = coarsen_until(spacing, median_mm, limit)
        why.append(
            f"coarsened to {np.round(spacing, 3).tolist()} mm so the median volume is at most "
            f"{budget.coarsen_to_patches:g} patches of {budget.max_patch_voxels} voxels "
            f"({budget.device} budget: a short schedule learns more from patches that see "
            "much of the anatomy)"
        )
    values = [int(v) for v in fp["label_values"]]
    n_classes = len(values) + 1
    full_shape = shape_at(median_mm, np.ones(3), spacing)
    stages = []
    big = np.prod(full_shape) > CASCADE_PATCHES * budget.max_patch_voxels
    short = 0 < minutes < budget.min_cascade_minutes
    cascade = budget.allow_cascade and big and not short
    if big and short and budget.allow_cascade:
        why.append(
            f"no low-resolution stage: {minutes:g} minutes is less than "
            f"{budget.min_cascade_minutes:g}, and two networks would each get half of it"
        )
    if cascade:
        low = coarsen_until(spacing, median_mm, budget.max_patch_voxels * 1.2)
        stages.append(_stage("lowres", low, median_mm, budget, 0))
        why.append(
            f"volume at target spacing {full_shape.tolist()} is more than "
            f"{CASCADE_PATCHES:g} patches: low-resolution stage at {np.round(low, 3).tolist()} mm "
            "first, its prediction is fed to the full-resolution stage"
        )
    stages.append(_stage("fullres", spacing, median_mm, budget, n_classes if cascade else 0))
    ct = fp["modality"] == "CT"
    fi = fp["foreground_intensity"]
    norm = (
        {
            "scheme": "ct",
            "clip": [fi["p00_5"], fi["p99_5"]],
            "mean": fi["mean"],
            "std": max(fi["std"], 1e-6),
        }
        if ct
        else {"scheme": "zscore", "mask": "nonzero"}
    )
    why.append(
        "CT: clip to foreground 0.5-99.5 percentiles, z-score with foreground mean/std"
        if ct
        else "per-image z-score over the non-zero voxels (no absolute intensity scale; a "
        "skull-stripped image is scored on its tissue alone)"
    )
    names = {str(v): (label_names or {}).get(v, f"label {v}") for v in values}
    symmetric = {
        i + 1
        for i, v in enumerate(values)
        if fp.get("self_mirror_dice", {}).get(str(v), 0.0) >= MIDLINE_DICE
    }
    by_class = {i + 1: names[str(v)] for i, v in enumerate(values)}
    pairs, mirror, mirror_why = mirror_decision(by_class, symmetric)
    why.append(mirror_why)
    return {
        "plan_version": PLAN_VERSION,
        "modality": fp["modality"],
        "label_values": values,
        "label_names": names,
        "n_classes": n_classes,
        "normalization": norm,
        "stages": stages,
        "batch": budget.batch,
        "deep_supervision": True,
        "foreground_oversampling": FOREGROUND_OVERSAMPLING if foreground is None else foreground,
        # cross-entropy weighted by each batch's class counts (`loss.class_weights`); plans
        # written before it have no key and train as they did
        "class_weighted_ce": True,
        # left-right flips in training and test-time mirroring (`orientation`): the axis, and
        # the class pairs a flip exchanges
        "mirror_axes": [LEFT_RIGHT_AXIS] if mirror else [],
        "mirror_pairs": [list(p) for p in pairs],
        "budget": {k: (None if v == math.inf else v) for k, v in asdict(budget).items()},
        "why": why,
    }


def describe(plan: dict) -> str:
    """The plan as a few readable lines (printed by the CLI)."""
    lines = [f"modality {plan['modality'] or '?'}, {plan['n_classes'] - 1} labels"]
    for s in plan["stages"]:
        lines.append(
            f"stage {s['name']}: spacing {s['spacing_zyx']} mm, median shape "
            f"{s['median_shape_zyx']}, patch {s['patch_zyx']}, {len(s['pool_kernels'])} pools, "
            f"widths {s['widths']}, extra input channels {s['extra_channels']}"
        )
    lines += [f"  - {w}" for w in plan["why"]]
    return "\n".join(lines)
