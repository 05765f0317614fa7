"""Training cases and their binary targets, with balanced sampling across cases and sizes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage


@dataclass
class TrainingCase:
    """One image with its label map (both z, y, x on the same grid)."""

    name: str
    image: np.ndarray
    label: np.ndarray
    spacing_zyx: tuple[float, float, float]
    modality: str = ""
    exclude_values: tuple[int, ...] = ()
    lo: float = 0.0
    hi: float = 1.0
    targets: list[Target] = field(default_factory=list)


@dataclass
class Target:
    """One labelled structure: its value, volume and where its voxels are."""

    value: int
    volume_ml: float
    bbox: tuple[int, int, int, int, int, int]


def _values_counts_boxes(label: np.ndarray) -> tuple[list[int], list[int], list]:
    """(values, voxel counts, find_objects slices) of a label map. Small non-negative values
    (every map but FreeSurfer's 5-digit ones) take bincount and find_objects on the map itself:
    ~0.1 s on 256^3 where np.unique's sort takes seconds (a generated training image each time)."""
    if label.size and label.dtype.kind in "iu" and 0 <= label.min() and label.max() < 1 << 16:
        counts = np.bincount(label.ravel())
        values = np.flatnonzero(counts)
        objects = ndimage.find_objects(label)  # value v's box at index v - 1
        boxes = [objects[v - 1] if v else None for v in values.tolist()]
        return values.tolist(), counts[values].tolist(), boxes
    values, inverse, counts = np.unique(label, return_inverse=True, return_counts=True)
    # consecutive ids so find_objects stays small even for FreeSurfer's 5-digit label values
    objects = ndimage.find_objects(inverse.reshape(label.shape).astype(np.int32) + 1)
    return values.tolist(), counts.tolist(), objects


def find_targets(case: TrainingCase, min_ml: float = 0.5, min_voxels: int = 20) -> list[Target]:
    """All label values of the case large enough to be targets (as in the evaluation protocol)."""
    voxel_ml = float(np.prod(case.spacing_zyx)) / 1000.0
    values, counts, objects = _values_counts_boxes(case.label)
    targets = []
    for i, (v, n) in enumerate(zip(values, counts)):
        if v == 0 or v in case.exclude_values:
            continue
        if n < min_voxels or n * voxel_ml < min_ml:
            continue
        sl = objects[i]
        bbox = tuple(s.start for s in sl) + tuple(s.stop for s in sl)
        targets.append(Target(int(v), n * voxel_ml, bbox))  # type: ignore[arg-type]
    return targets


class TargetSampler:
    """Picks (case, target): cases uniformly, then targets with weight ∝ volume^0.25.

    The small exponent keeps big organs from drowning small structures while still showing
    them often enough to learn large fields of view.
    """

    def __init__(self, cases: list[TrainingCase], rng: np.random.Generator) -> None:
        self.cases = [c for c in cases if c.targets]
        if not self.cases:
            raise ValueError("no training targets found (need labelled structures of ≥ 0.5 mL)")
        self.rng = rng
        self.weights = []
        for c in self.cases:
            w = np.array([t.volume_ml**0.25 for t in c.targets], float)
            self.weights.append(w / w.sum())

    def sample(self) -> tuple[TrainingCase, Target]:
        ci = int(self.rng.integers(len(self.cases)))
        case = self.cases[ci]
        ti = int(self.rng.choice(len(case.targets), p=self.weights[ci]))
        return case, case.targets[ti]
