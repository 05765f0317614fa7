"""Generated training images for the automatic model (issue 15), SynthSeg's remedy.

Trained on one fixed generated image per subject, the automatic model learns those few
contrasts and scores Dice 0 on a real T1 (README, automatic benchmark). Here the patch sampler
instead draws from a `SynthCasePool` (the interactive trainer's: each image gives `uses` patches
and is then replaced by a fresh random draw), prepared for the plan stage like any case: its
label map values are reduced to the plan's classes (others become background).

Fixed generated images (one per subject, a seed per subject) stand in for cases where a run
needs real arrays: the fingerprint the plan comes from, and validation on held-out subjects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from segmentation_core.auto.cases import AutoCase
from segmentation_core.training.synth_pool import SynthCasePool, SynthSpec

FINGERPRINT_IMAGES = 3  # generated images the plan is made from (a few: ~1 s each)


def map_names(spec: SynthSpec) -> list[str]:
    return [m.name for m in spec.maps]


def default_values(spec: SynthSpec) -> list[int]:
    """Every value of the maps that generation keeps (not dropped, not excluded)."""
    values: set[int] = set()
    for m in spec.maps:
        values.update(int(v) for v in m.values if v != 0 and not spec.params.dropped(int(v)))
    return sorted(values - set(spec.exclude_values))


def check_values(spec: SynthSpec, values: Sequence[int]) -> None:
    """ValueError when a requested value can never appear in a generated label."""
    known = set(default_values(spec))
    missing = [int(v) for v in values if int(v) not in known]
    if missing:
        raise ValueError(
            f"label value(s) {','.join(map(str, missing))} are in none of the label maps "
            "(or are dropped by the generator)"
        )


def subset(spec: SynthSpec, names: Sequence[str]) -> SynthSpec:
    """The spec generating only from the maps named (a fold's training subjects)."""
    keep = set(names)
    return replace(spec, maps=tuple(m for m in spec.maps if m.name in keep))


def fixed_cases(spec: SynthSpec, names: Sequence[str], seed: int = 0) -> list[AutoCase]:
    """One generated image per map named, the same on every run (its seed: the map's index)."""
    out = []
    for i, m in enumerate(spec.maps):
        if m.name not in names:
            continue
        image, label = m.generate(np.random.default_rng([seed, 7919, i]), spec.params)
        out.append(
            AutoCase(f"{m.name}~generated", image, label, m.spacing_zyx, spec.modality, m.name)
        )
    return out


class GeneratedStageCases:
    """A callable giving the stage case to draw the next patch from: the pool's next image,
    prepared once per image by `prepare(AutoCase)` (resampled, normalised, classes)."""

    def __init__(self, spec: SynthSpec, prepare: Callable, rng: np.random.Generator) -> None:
        self.pool = SynthCasePool(spec, rng)
        self.prepare = prepare
        self.prepared: dict[str, object] = {}
        self.draws = 0  # patches drawn from generated images (for tests and logs)

    def __call__(self):
        case, _ = self.pool.sample()
        if case.name not in self.prepared:
            live = {c.name for c in self.pool.cases}  # drop the images the pool replaced
            self.prepared = {k: v for k, v in self.prepared.items() if k in live}
            auto = AutoCase(case.name, case.image, case.label, case.spacing_zyx, case.modality)
            self.prepared[case.name] = self.prepare(auto)
        self.draws += 1
        return self.prepared[case.name]
