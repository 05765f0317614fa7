"""Training on images generated on the fly from label maps (train-base --synth-labelmaps):
the pool's fresh draws, the share of generated patches, the same batches in the worker process
as in-process, the trainer with and without real cases, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation_core.synth.compact import CompactMap
from segmentation_core.training.dataset import TrainingCase, find_targets
from segmentation_core.training.prefetch import PrefetchWorker, batch_stream, draw_sample
from segmentation_core.training.synth_pool import SynthCasePool, SynthSpec, generated_case
from segmentation_core.training.trainer import TrainConfig, Trainer
from viewer.cli.main import run_cli
from viewer.io import save_volume
from viewer.model.geometry import Geometry

SPACING = (2.0, 2.0, 2.0)  # 2 mm voxels: every structure below is >= 0.5 mL (a target)


def _head(n: int = 28, inner: int = 2) -> np.ndarray:
    """Background 0, skin 510 (image only), brain 3, a core `inner`, and a block 17."""
    z, y, x = np.indices((n, n, n), dtype=np.float64)
    r = np.sqrt(sum((a - (n - 1) / 2) ** 2 for a in (z, y, x)))
    m = np.zeros((n, n, n), np.int32)
    m[r < 0.42 * n] = 510
    m[r < 0.36 * n] = 3
    m[r < 0.2 * n] = inner
    m[n // 2 : n // 2 + 5, n // 2 - 9 : n // 2 - 4, n // 2 - 2 : n // 2 + 3] = 17
    return m


def _spec(**kw) -> SynthSpec:
    maps = (
        CompactMap.from_labels("a", _head(inner=2), SPACING),
        CompactMap.from_labels("b", _head(inner=41), SPACING),
    )
    return SynthSpec(maps=maps, **kw)


def test_generated_case_is_a_training_case_with_targets():
    case = generated_case(_spec(exclude_values=(17,)), np.random.default_rng(0))
    assert case.image.dtype == np.float32
    assert float(case.image.min()) == 0.0 and float(case.image.max()) == 1.0
    assert (case.lo, case.hi, case.spacing_zyx) == (0.0, 1.0, SPACING)
    values = set(np.unique(case.label).tolist())
    assert values in ({0, 2, 3, 17}, {0, 41, 3, 17})  # 510 only shaped the image
    assert sorted(t.value for t in case.targets) == sorted(values - {0, 17})  # 17 held out


def test_pool_replaces_each_image_after_its_uses():
    pool = SynthCasePool(_spec(pool_size=1, uses=3), np.random.default_rng(1))
    names = [pool.sample()[0].name.split("~synth")[1] for _ in range(10)]
    assert names == ["0", "0", "0", "1", "1", "1", "2", "2", "2", "3"]
    assert pool.generated == 4


def test_fresh_images_differ():
    pool = SynthCasePool(_spec(pool_size=1, uses=1), np.random.default_rng(2))
    a, b = pool.sample()[0], pool.sample()[0]
    assert a.name != b.name and a.image.shape == b.image.shape  # both maps crop alike
    assert not np.array_equal(a.image, b.image)


def _real_case() -> TrainingCase:
    label = np.zeros((24, 24, 24), np.int32)
    label[6:18, 6:18, 6:18] = 1
    image = np.where(label > 0, 100.0, 0.0).astype(np.float32)
    case = TrainingCase("real", image, label, SPACING, lo=0.0, hi=100.0)
    case.targets = find_targets(case)
    return case


class _CountingPool(SynthCasePool):
    calls = 0

    def sample(self):
        self.calls += 1
        return super().sample()


@pytest.mark.parametrize("share", [0.25, 0.75])
def test_share_of_patches_from_generated_images(share):
    from segmentation_core.training.dataset import TargetSampler

    rng = np.random.default_rng(3)
    pool = _CountingPool(_spec(share=share, uses=1000), rng)
    sampler = TargetSampler([_real_case()], rng)
    n = 300
    for _ in range(n):
        draw_sample(sampler, rng, 16, 0.0, pool)
    # binomial(300, share): 4 standard deviations either side
    sd = (n * share * (1 - share)) ** 0.5
    assert abs(pool.calls - n * share) <= 4 * sd, pool.calls


def test_without_real_cases_every_patch_is_generated():
    rng = np.random.default_rng(4)
    pool = _CountingPool(_spec(share=0.3, uses=1000), rng)
    for _ in range(20):
        draw_sample(None, rng, 16, 0.0, pool)
    assert pool.calls == 20


def test_worker_batches_equal_in_process_batches_with_generated_images():
    spec = _spec(share=1.0, uses=2)
    here = batch_stream([], 16, 0.0, 2, [9, 0], synth=spec)
    worker = PrefetchWorker([], 16, 0.0, 2, [9, 0], synth=spec)
    try:
        for _ in range(3):  # 6 patches: three images generated on each side
            for a, b in zip(worker.next_batch(), next(here), strict=True):
                np.testing.assert_array_equal(a.image, b.image)
                np.testing.assert_array_equal(a.target, b.target)
                assert a.first_click == b.first_click
    finally:
        worker.close()


@pytest.mark.parametrize("with_real", [False, True])
def test_trainer_steps_on_generated_images(tmp_path, with_real):
    cfg = TrainConfig(
        patch=16,
        batch=2,
        widths=(4, 8),
        max_sim_rounds=1,
        val_every=0,
        seed=3,
        max_steps=2,
        prefetch=False,
    )
    spec = _spec(share=0.5, uses=2)
    trainer = Trainer([_real_case()] if with_real else [], tmp_path, cfg, synth=spec)
    try:
        assert trainer.run().step == 2
    finally:
        trainer.close()
    assert trainer.synth_pool.generated >= 1
    assert (trainer.sampler is not None) == with_real


def test_spec_refuses_bad_share():
    with pytest.raises(ValueError, match="share"):
        _spec(share=0.0)


def _write_maps(folder) -> None:
    folder.mkdir()
    grid = Geometry(shape_zyx=(28, 28, 28), spacing=SPACING, origin=(1.0, 2.0, 3.0))
    save_volume(_head(inner=2).astype(np.int16), grid, folder / "m1.nii.gz")
    save_volume(_head(inner=41).astype(np.int16), grid, folder / "m2.nii.gz")


def test_train_base_from_label_maps_only(tmp_path, capsys):
    maps = tmp_path / "maps"
    _write_maps(maps)
    out = tmp_path / "out"
    argv = ["train-base", "--synth-labelmaps", str(maps), "--out", str(out), "--steps", "2"]
    assert run_cli([*argv, "--patch", "16", "--batch", "1", "--exclude", "synth:17"]) == 0
    printed = capsys.readouterr().out
    assert "generated images from 2 label maps, 100% of the patches" in printed
    meta = json.loads((out / "model" / "meta.json").read_text())
    assert meta["data"]["generated"] == {"label_maps": ["m1", "m2"], "share": 1.0}
    assert meta["data"]["excluded_values"] == {"synth": [17]}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--synth-labelmaps", "MISSING"], "MISSING: no such file or folder"),
        (
            ["--synth-labelmaps", "MAPS", "--synth-share", "0"],
            "--synth-share must be in (0, 1], got 0.0",
        ),
        ([], "give training cases (--data) or label maps (--synth-labelmaps)"),
        (
            ["--synth-labelmaps", "MAPS", "--synth-uses", "-3"],
            "--synth-uses must be at least 1, got -3",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--image-dropout", "1.5"],
            "--image-dropout must be between 0 and 1, not 1.5",
        ),
    ],
)
def test_train_base_synth_bad_input_one_line(tmp_path, capsys, extra, message):
    maps = tmp_path / "maps"
    _write_maps(maps)
    extra = [
        str(tmp_path / e) if e in ("MISSING",) else str(maps) if e == "MAPS" else e for e in extra
    ]
    message = message.replace("MISSING", str(tmp_path / "MISSING"))
    argv = ["train-base", "--out", str(tmp_path / "out"), "--steps", "1", *extra]
    if "--synth-share" in extra:
        argv += ["--data", str(tmp_path)]  # a share only matters beside real cases
    assert run_cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {message}"]


@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.int64])
def test_find_targets_same_with_small_or_large_values(dtype):
    """The bincount fast path (small non-negative values) finds what the np.unique path
    finds: the same map with every value shifted past 2^16 takes the other path."""
    rng = np.random.default_rng(5)
    label = _head().astype(dtype)
    label[rng.random(label.shape) < 0.005] = 7  # ~110 scattered voxels: a box spanning the map
    label[0:3, 0:2, 0:4] = 600  # 24 voxels x 8 uL: below 0.5 mL, not a target
    small = TrainingCase("s", np.zeros(label.shape, np.float32), label, SPACING)
    shift = 100_000
    big_label = np.where(label > 0, label.astype(np.int64) + shift, 0)
    big = TrainingCase("b", small.image, big_label, SPACING)
    got, ref = find_targets(small), find_targets(big)
    assert [t.value for t in got] == [t.value - shift for t in ref] == [2, 3, 7, 17, 510]
    assert [(t.volume_ml, t.bbox) for t in got] == [(t.volume_ml, t.bbox) for t in ref]
    box7 = next(t.bbox for t in got if t.value == 7)
    nz = np.nonzero(label == 7)
    assert box7 == tuple(int(a.min()) for a in nz) + tuple(int(a.max()) + 1 for a in nz)
