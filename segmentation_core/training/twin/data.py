"""Training patches for the twin, drawn in DataLoader worker processes.

Each worker runs the Paddle trainer's own numpy sampling (`prefetch.draw_sample`: target
choice, zoom level, warp, resampling, intensity augmentation, synthetic lesions, the first
click; generated images from label maps with `synth`), with its own generator seeded from
(seed, worker id), and yields single `PatchSample`s; the loader batches them as lists. The
simulated corrective clicks need the current network, so they are made in the training
process (`trainer.simulate_clicks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from segmentation_core.training.dataset import TargetSampler, TrainingCase
from segmentation_core.training.prefetch import draw_sample
from segmentation_core.training.samples import PatchSample
from segmentation_core.training.synth_pool import SynthCasePool, SynthSpec


class PatchStream(IterableDataset):
    """Endless training patches; the same seed gives the same patches per worker."""

    def __init__(
        self,
        cases: Sequence[TrainingCase],
        patch: int,
        synthetic_fraction: float,
        seed: int,
        synth: SynthSpec | None = None,
    ) -> None:
        super().__init__()
        self.cases = list(cases)
        self.patch = patch
        self.synthetic_fraction = synthetic_fraction
        self.seed = seed
        self.synth = synth

    def __iter__(self) -> Iterator[PatchSample]:
        info = get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info is not None else 0])
        sampler = TargetSampler(self.cases, rng) if self.cases else None
        pool = SynthCasePool(self.synth, rng) if self.synth is not None else None
        while True:
            yield draw_sample(sampler, rng, self.patch, self.synthetic_fraction, pool)


def _as_list(samples: list[PatchSample]) -> list[PatchSample]:
    return samples


def patch_loader(stream: PatchStream, batch: int, workers: int) -> DataLoader:
    """Batches (lists of PatchSample) drawn by `workers` processes (0: in this process)."""
    return DataLoader(
        stream,
        batch_size=batch,
        num_workers=workers,
        collate_fn=_as_list,
        prefetch_factor=4 if workers else None,
        persistent_workers=bool(workers),
        # no CUDA in the workers: fork is cheap and shares the cases copy-on-write
        multiprocessing_context="fork" if workers else None,
        worker_init_fn=_one_thread if workers else None,
    )


def _one_thread(_worker_id: int) -> None:
    # each worker is one core's worth of numpy/scipy; torch threads would oversubscribe
    torch.set_num_threads(1)
