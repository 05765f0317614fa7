"""Training cases generated on the fly from label maps (SynthSeg's idea: unlimited contrasts).

A `SynthCasePool` keeps a few generated images at a time; each gives `uses` patches and is
then replaced by a fresh draw from a random label map, so a long run sees thousands of
different images while generating one costs ~1 s (a head crop, `segmentation_core.synth`).
It runs wherever patches are drawn: in the prefetch worker process, or in-process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from segmentation_core.synth.compact import CompactMap
from segmentation_core.synth.params import SynthParams
from segmentation_core.training.dataset import Target, TrainingCase, find_targets


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: the maps, the share of patches taken from generated images, and the
    generator's ranges. Picklable (it travels to the patch worker)."""

    maps: tuple[CompactMap, ...]
    share: float = 0.5  # fraction of patches from generated images (1.0 when no real cases)
    params: SynthParams = field(default_factory=SynthParams)
    pool_size: int = 2  # generated images held at once
    uses: int = 16  # patches drawn from one image before it is replaced
    exclude_values: tuple[int, ...] = ()  # never targets (held-out structures)
    modality: str = "MR"

    def __post_init__(self) -> None:
        if not self.maps:
            raise ValueError("no label maps to generate from")
        if not 0.0 < self.share <= 1.0:
            raise ValueError(f"synth share must be in (0, 1], got {self.share}")


def generated_case(
    spec: SynthSpec, rng: np.random.Generator, name_suffix: str = ""
) -> TrainingCase:
    """A fresh image from a random map, as a TrainingCase with its targets (image in 0..1)."""
    cmap = spec.maps[int(rng.integers(len(spec.maps)))]
    image, label = cmap.generate(rng, spec.params)
    case = TrainingCase(
        name=f"{cmap.name}~synth{name_suffix}",
        image=image,
        label=label,
        spacing_zyx=cmap.spacing_zyx,
        modality=spec.modality,
        exclude_values=spec.exclude_values,
        lo=0.0,
        hi=1.0,
    )
    case.targets = find_targets(case)
    return case


class SynthCasePool:
    """(case, target) draws like `TargetSampler.sample`, from generated images that are
    replaced after `spec.uses` draws each. All randomness comes from `rng`."""

    def __init__(self, spec: SynthSpec, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self.cases: list[TrainingCase] = []
        self.uses_left: list[int] = []
        self.generated = 0  # images made so far (for tests and logs)

    def _fresh(self) -> TrainingCase:
        for _ in range(20):
            case = generated_case(self.spec, self.rng, f"{self.generated}")
            self.generated += 1
            if case.targets:
                return case
        raise ValueError("the label maps give no targets (structures of >= 0.5 mL)")

    def sample(self) -> tuple[TrainingCase, Target]:
        if len(self.cases) < self.spec.pool_size:
            self.cases.append(self._fresh())
            self.uses_left.append(self.spec.uses)
            i = len(self.cases) - 1
        else:
            i = int(self.rng.integers(len(self.cases)))
            if self.uses_left[i] <= 0:
                self.cases[i] = self._fresh()
                self.uses_left[i] = self.spec.uses
        self.uses_left[i] -= 1
        case = self.cases[i]
        w = np.array([t.volume_ml**0.25 for t in case.targets], float)  # as TargetSampler
        t = int(self.rng.choice(len(case.targets), p=w / w.sum()))
        return case, case.targets[t]
