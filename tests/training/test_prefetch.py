"""Patches drawn by the worker process: the same as drawn in-process, and the trainer uses them."""

from __future__ import annotations

import numpy as np

from segmentation_core.training.dataset import TrainingCase, find_targets
from segmentation_core.training.prefetch import PrefetchWorker, batch_stream
from segmentation_core.training.trainer import TrainConfig, Trainer


def _case() -> TrainingCase:
    rng = np.random.default_rng(0)
    zz, yy, xx = np.indices((24, 40, 40), dtype=float)
    label = np.zeros((24, 40, 40), np.int32)
    label[((zz - 12) / 7) ** 2 + ((yy - 14) / 9) ** 2 + ((xx - 14) / 9) ** 2 < 1] = 1
    label[((zz - 12) / 6) ** 2 + ((yy - 28) / 6) ** 2 + ((xx - 28) / 7) ** 2 < 1] = 2
    image = (rng.normal(0, 10, label.shape) + np.where(label > 0, 100.0, 0.0)).astype(np.float32)
    case = TrainingCase("spheres", image, label, (2.0, 2.0, 2.0), lo=-30.0, hi=130.0)
    case.targets = find_targets(case)
    return case


def test_worker_batches_equal_in_process_batches():
    case = _case()
    here = batch_stream([case], 16, 0.3, 2, [5, 7])
    worker = PrefetchWorker([case], 16, 0.3, 2, [5, 7])
    try:
        for _ in range(3):
            want, got = next(here), worker.next_batch()
            assert len(got) == len(want) == 2
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a.image, b.image)
                np.testing.assert_array_equal(a.target, b.target)
                np.testing.assert_array_equal(a.valid, b.valid)
                assert a.first_click == b.first_click
    finally:
        worker.close()
    assert not worker._proc.is_alive()


def test_trainer_steps_on_prefetched_patches(tmp_path):
    cfg = TrainConfig(patch=16, batch=2, widths=(4, 8), max_sim_rounds=1, val_every=0, seed=3)
    assert cfg.prefetch  # the default
    trainer = Trainer([_case()], tmp_path, TrainConfig(**{**cfg.__dict__, "max_steps": 3}))
    try:
        assert trainer.run().step == 3
        assert trainer._prefetch is not None and trainer._prefetch._proc.is_alive()
    finally:
        trainer.close()
    assert trainer._prefetch is None
