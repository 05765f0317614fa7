"""Where one plan stage's training batches come from: the case order, the preparation of
generated images for the stage, the patch sampler, and the endless batch stream that the
patch worker process draws ahead of the network.

Drawing a batch (a generated image every few patches, resampling, warping) costs about as much
as the static-graph step itself (docs/benchmarks.md, "Automatic model training step"):
in-process it would sit between two steps. `batch_stream` is module level and takes only
picklable arguments, so `training.prefetch.StreamWorker` can run it in a spawned process. That stream has its own
generator, seeded from the run's seed, the rank and the step it starts at: a resumed run draws
fresh patches, as the interactive trainer's worker does.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from segmentation_core.auto import distributed, orientation, synth_source
from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.patches import PatchSampler, StageCase
from segmentation_core.auto.preprocess import (
    label_to_classes,
    normalise,
    resample,
    resample_classes,
    target_shape,
)


class ShardedCases:
    """Which case the next patch comes from: this rank's shard of a per-epoch permutation
    (`distributed.shard_indices`; alone, simply a shuffled pass over every case per epoch)."""

    def __init__(self, n: int, seed: int, epoch: int = 0, pos: int = 0) -> None:
        self.n, self.seed, self.epoch, self.pos = n, seed, epoch, pos
        self._order = self._shard()

    def _shard(self):
        return distributed.shard_indices(
            self.n, distributed.rank(), distributed.world_size(), self.seed, self.epoch
        )

    def __call__(self) -> int:
        if self.pos >= len(self._order):
            self.epoch, self.pos = self.epoch + 1, 0
            self._order = self._shard()
        i = int(self._order[self.pos])
        self.pos += 1
        return i


def prepare_stage_case(case: AutoCase, plan: dict, stage: dict, prev=None) -> StageCase:
    """`case` resampled to the stage's spacing, normalised as planned, labels as class indices."""
    shape = target_shape(case.image.shape, case.spacing_zyx, stage["spacing_zyx"])
    img = normalise(resample(case.image, shape, order=1), plan["normalization"])
    classes = label_to_classes(case.label, plan["label_values"])
    classes = resample_classes(classes, shape, int(plan["n_classes"]))
    return StageCase(case.name, img, classes, tuple(stage["spacing_zyx"]), prev)


def generated_cases(spec, plan: dict, stage: dict, rng: np.random.Generator):
    """Fresh generated images from `spec` (a SynthSpec), prepared for the stage."""
    return synth_source.GeneratedStageCases(
        spec, partial(prepare_stage_case, plan=plan, stage=stage), rng
    )


def stage_sampler(
    train_cases: list[StageCase],
    plan: dict,
    stage: dict,
    rng: np.random.Generator,
    pick,
    generated=None,
    synth_share: float = 0.0,
) -> PatchSampler:
    """The stage's training sampler: foreground-oversampled, augmented patches."""
    return PatchSampler(
        train_cases,
        stage["patch_zyx"],
        int(plan["n_classes"]),
        int(stage["extra_channels"]),
        rng,
        float(plan.get("foreground_oversampling", 1 / 3)),
        pick=pick,
        synth=generated,
        synth_share=synth_share,
        mirror_swap=orientation.training_swap(plan),
    )


def batch_stream(
    train_cases: list[StageCase],
    plan: dict,
    stage: dict,
    synth,
    seed: int,
    start_step: int,
):
    """Endless (x, y) batches for the stage; `synth`: (SynthSpec, share) or None. The same
    arguments give the same batches in any process."""
    rank = distributed.rank()
    rng = np.random.default_rng([seed, 7, rank, start_step])
    pick = ShardedCases(len(train_cases), seed + 1 + start_step)
    generated = None if synth is None else generated_cases(synth[0], plan, stage, rng)
    share = synth[1] if synth is not None else 0.0
    sampler = stage_sampler(train_cases, plan, stage, rng, pick, generated, share)
    batch = int(plan["batch"])
    while True:
        yield sampler.batch(batch)
