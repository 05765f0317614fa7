"""Training patches drawn in a separate process, so a training step never waits for them.

Drawing a patch (choosing a target and a zoom, warping, resampling, intensity augmentation,
the first click) is numpy/scipy work of ~0.1-0.2 s per patch that would otherwise sit between two
network steps. A worker process (spawn context: no fork of a process that holds Paddle's
threads) draws whole batches ahead into a small queue; the worker has its own random generator,
seeded from the trainer's seed and step, so a run is reproducible.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from segmentation_core.training.dataset import TargetSampler, TrainingCase
from segmentation_core.training.samples import (
    PatchSample,
    make_patch_sample,
    synthetic_blob_sample,
)
from segmentation_core.training.synth_pool import SynthCasePool, SynthSpec


def draw_sample(
    sampler: TargetSampler | None,
    rng: np.random.Generator,
    patch: int,
    synthetic_fraction: float,
    synth: SynthCasePool | None = None,
) -> PatchSample:
    """One training patch: a real target, or now and then a generated blob in the case; with
    `synth`, a share of the targets come from images generated from label maps (all of them
    when there is no real `sampler`)."""
    while True:
        if synth is not None and (sampler is None or rng.random() < synth.spec.share):
            case, target = synth.sample()
        else:
            case, target = sampler.sample()
        if rng.random() < synthetic_fraction:
            s = synthetic_blob_sample(case, patch, rng)
        else:
            s = make_patch_sample(case, target, patch, rng)
        if s is not None:
            return s


def batch_stream(
    cases: Sequence[TrainingCase],
    patch: int,
    synthetic_fraction: float,
    batch: int,
    seed,
    sampler_factory: Callable = TargetSampler,
    synth: SynthSpec | None = None,
):
    """Endless batches; the same `seed` gives the same batches in any process."""
    rng = np.random.default_rng(seed)
    sampler = sampler_factory(list(cases), rng) if cases or synth is None else None
    pool = SynthCasePool(synth, rng) if synth is not None else None
    while True:
        yield [draw_sample(sampler, rng, patch, synthetic_fraction, pool) for _ in range(batch)]


def _stream_into(factory: Callable, args: tuple, out) -> None:
    for item in factory(*args):
        out.put(item)  # blocks while the queue is full


class StreamWorker:
    """Items of the endless generator `factory(*args)`, produced ahead by a worker process.

    `factory` is a module-level function and `args` picklable: the spawn context starts a
    fresh interpreter that imports the factory by name (no fork of a process that holds
    Paddle's threads)."""

    def __init__(
        self, factory: Callable, args: tuple, depth: int = 3, name: str = "radlabel-train-patches"
    ) -> None:
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue(maxsize=depth)
        self._proc = ctx.Process(
            target=_stream_into, args=(factory, tuple(args), self._queue), name=name, daemon=True
        )
        self._proc.start()
        # a trainer dropped without close() does not leave its worker drawing
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._queue)

    def next(self):
        while True:
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError(
                        f"the patch worker stopped (exit code {self._proc.exitcode})"
                    ) from None

    def close(self) -> None:
        self._finalizer()


class PrefetchWorker(StreamWorker):
    """Batches from `batch_stream(...)`, drawn ahead by a worker process."""

    def __init__(
        self,
        cases: Sequence[TrainingCase],
        patch: int,
        synthetic_fraction: float,
        batch: int,
        seed,
        depth: int = 3,
        sampler_factory: Callable = TargetSampler,
        synth: SynthSpec | None = None,
    ) -> None:
        args = (list(cases), patch, synthetic_fraction, batch, seed, sampler_factory, synth)
        super().__init__(batch_stream, args, depth)

    def next_batch(self) -> list[PatchSample]:
        return self.next()


def _stop(proc, q) -> None:
    if proc.is_alive():
        proc.terminate()
    proc.join(timeout=5)
    q.close()
    q.cancel_join_thread()  # what is left in the queue is thrown away
