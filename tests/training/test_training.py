"""Training pipeline: loss goes down, a checkpoint resumes, the export matches the eager network."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from segmentation_core.encoding import IN_CHANNELS
from segmentation_core.evaluation.clicker import next_click
from segmentation_core.network import InteractiveUNet3D
from segmentation_core.training.clicks import interior_point
from segmentation_core.training.dataset import TrainingCase, find_targets
from segmentation_core.training.static_graph import drop_normalised_biases
from segmentation_core.training.trainer import TrainConfig, Trainer


def _sphere_case(seed: int = 0) -> TrainingCase:
    """A small image with two bright ellipsoids on a noisy background."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.indices((24, 40, 40), dtype=float)
    label = np.zeros((24, 40, 40), np.int32)
    label[((zz - 12) / 7) ** 2 + ((yy - 14) / 9) ** 2 + ((xx - 14) / 9) ** 2 < 1] = 1
    label[((zz - 12) / 6) ** 2 + ((yy - 28) / 6) ** 2 + ((xx - 28) / 7) ** 2 < 1] = 2
    image = rng.normal(0, 10, label.shape) + np.where(label > 0, 100.0, 0.0)
    image = image.astype(np.float32)
    return TrainingCase("spheres", image, label, (2.0, 2.0, 2.0), lo=-30.0, hi=130.0)


def _config(**kw) -> TrainConfig:
    base = dict(
        patch=16, batch=2, widths=(4, 8), max_sim_rounds=1, val_every=0, seed=3, prefetch=False
    )
    base.update(kw)
    return TrainConfig(**base)


def test_targets_skip_small_structures():
    case = _sphere_case()
    case.label[0, 0, 0] = 7  # one voxel: below 20 voxels / 0.5 mL
    assert [t.value for t in find_targets(case)] == [1, 2]


def test_next_click_goes_into_the_largest_error():
    target = np.zeros((20, 20, 20), bool)
    target[5:15, 5:15, 5:15] = True
    pred = np.zeros_like(target)
    pred[5:15, 5:15, 5:10] = True  # misses the x >= 10 half
    assert next_click(pred, target, (1.0, 1.0, 1.0)) == ((7, 7, 12), True)  # ties: lowest index
    valid = np.ones_like(target)
    valid[:, :, 12:] = False  # outside the patch's image: no click there
    assert next_click(pred, target, (1.0, 1.0, 1.0), valid=valid) == ((5, 5, 10), True)
    assert interior_point(target) == (9, 9, 9)


def _fixed_batch_loss(trainer: Trainer, samples) -> float:
    from segmentation_core.training.trainer import _input_batch

    clicks = [[(s.first_click, True)] for s in samples]
    prev = [np.zeros(s.image.shape, np.float32) for s in samples]
    x = paddle.to_tensor(_input_batch(samples, clicks, prev))
    y = paddle.to_tensor(np.stack([s.target for s in samples])[:, None].astype(np.float32))
    v = paddle.to_tensor(np.stack([s.valid for s in samples])[:, None].astype(np.float32))
    trainer.net.eval()
    with paddle.no_grad():
        return float(trainer._loss(trainer.net(x), y, v))


def test_loss_goes_down_on_tiny_data(tmp_path):
    trainer = Trainer([_sphere_case()], tmp_path, _config(max_steps=50, lr=5e-3))
    held_out = [trainer._draw_sample() for _ in range(6)]
    before = _fixed_batch_loss(trainer, held_out)
    state = trainer.run()
    after = _fixed_batch_loss(trainer, held_out)
    assert state.step == 50
    assert after < 0.85 * before, (before, after)


def test_checkpoint_resumes(tmp_path):
    t1 = Trainer([_sphere_case()], tmp_path, _config(max_steps=4))
    t1.run()
    weights = {k: v.numpy().copy() for k, v in t1.net.state_dict().items()}
    t2 = Trainer([_sphere_case()], tmp_path, _config(max_steps=6))
    assert t2.state.step == 4
    for k, v in t2.net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])
    assert t2.run().step == 6


def test_exported_model_matches_training_network(tmp_path):
    from paddle import inference

    trainer = Trainer([_sphere_case()], tmp_path / "work", _config(max_steps=2))
    trainer.run()
    model_dir = trainer.export(tmp_path / "model", {"note": "test"})
    x = np.random.default_rng(1).normal(size=(1, IN_CHANNELS, 16, 24, 32)).astype(np.float32)
    trainer.net.eval()
    with paddle.no_grad():
        eager = trainer.net(paddle.to_tensor(x)).numpy()
    cfg = inference.Config(str(model_dir / "model.json"), str(model_dir / "model.pdiparams"))
    cfg.disable_gpu()
    cfg.enable_onednn()
    cfg.disable_glog_info()
    pred = inference.create_predictor(cfg)
    handle = pred.get_input_handle(pred.get_input_names()[0])
    handle.reshape(x.shape)
    handle.copy_from_cpu(x)
    pred.run()
    static = pred.get_output_handle(pred.get_output_names()[0]).copy_to_cpu()
    assert static.shape == eager.shape
    np.testing.assert_allclose(static, eager, atol=1e-4)


def test_widened_network_starts_as_the_old_one():
    """Fine-tuning onto more input channels: the new channels start at zero weight."""
    from segmentation_core.network import InteractiveUNet3D
    from segmentation_core.training.trainer import widen_state_dict

    paddle.seed(3)
    old = InteractiveUNet3D(widths=(4, 8), in_channels=4)
    new = InteractiveUNet3D(widths=(4, 8), in_channels=IN_CHANNELS)
    new.set_state_dict(widen_state_dict(old.state_dict(), new.state_dict()))
    x = np.random.default_rng(2).normal(size=(1, IN_CHANNELS, 8, 8, 8)).astype(np.float32)
    old.eval()
    new.eval()
    with paddle.no_grad():
        a = old(paddle.to_tensor(x[:, :4])).numpy()
        b = new(paddle.to_tensor(x)).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert np.abs(new.state_dict()["down.0.body.0.weight"].numpy()[:, 4:]).max() == 0.0
    with pytest.raises(ValueError, match="does not fit"):
        widen_state_dict(new.state_dict(), old.state_dict())  # fewer channels: refused


def test_some_patches_pretend_a_finer_scan(monkeypatch):
    """With the finer-scan fraction at 1, a 2 mm case is sampled below its native spacing."""
    from segmentation_core.training import samples

    case = _sphere_case()
    case.targets = find_targets(case)
    rng = np.random.default_rng(0)
    monkeypatch.setattr(samples, "FINER_SCAN_FRACTION", 0.0)
    native = [samples.make_patch_sample(case, case.targets[1], 16, rng) for _ in range(20)]
    monkeypatch.setattr(samples, "FINER_SCAN_FRACTION", 1.0)
    finer = [samples.make_patch_sample(case, case.targets[1], 16, rng) for _ in range(20)]
    # spacing jitter is at most exp(0.25) = 1.28x either way; a third of 2 mm is well below that
    min_native = min(s.spacing.min() for s in native if s is not None)
    min_finer = min(s.spacing.min() for s in finer if s is not None)
    assert min_native > 2.0 / 1.3
    assert min_finer < 2.0 / 1.3


def _one_step_then_loss(trainer: Trainer, samples, lr: float) -> float:
    """One optimiser step on `samples` at `lr`, then the loss on them."""
    from segmentation_core.training.trainer import _input_batch

    clicks = [[(s.first_click, True)] for s in samples]
    prev = [np.zeros(s.image.shape, np.float32) for s in samples]
    x = paddle.to_tensor(_input_batch(samples, clicks, prev))
    y = paddle.to_tensor(np.stack([s.target for s in samples])[:, None].astype(np.float32))
    v = paddle.to_tensor(np.stack([s.valid for s in samples])[:, None].astype(np.float32))
    trainer.net.train()
    trainer.opt.set_lr(lr)
    trainer._loss(trainer.net(x), y, v).backward()
    trainer.opt.step()
    trainer.opt.clear_grad()
    return _fixed_batch_loss(trainer, samples)


def test_resume_restores_the_optimiser_exactly(tmp_path):
    """The next step after a resume equals the step the first trainer would have taken: the
    moments and the step count (bias correction) come back from the checkpoint."""
    t1 = Trainer([_sphere_case()], tmp_path, _config(max_steps=5))
    t1.run()
    t2 = Trainer([_sphere_case()], tmp_path, _config(max_steps=6))
    assert t2.opt.t == t1.opt.t == 5
    batch = [t1._draw_sample() for _ in range(2)]
    after_resume = _one_step_then_loss(t2, batch, 1e-2)
    fresh = Trainer([_sphere_case()], tmp_path / "fresh", _config(max_steps=6))
    fresh.net.set_state_dict({k: v.numpy() for k, v in t1.net.state_dict().items()})
    without_state = _one_step_then_loss(fresh, batch, 1e-2)
    assert _one_step_then_loss(t1, batch, 1e-2) == after_resume
    assert without_state != after_resume  # the optimiser state matters for this step


def test_the_trainer_takes_the_same_steps_with_either_engine(tmp_path):
    """Trainer.run through the static graph and through eager mode: the same losses (simulated
    clicks included, which read the graph's forward pass) and the same weights at the end."""
    runs = {}
    for engine in ("static", "eager"):
        trainer = Trainer([_sphere_case()], tmp_path / engine, _config(max_steps=10, engine=engine))
        assert (trainer.graph is not None) == (engine == "static")
        state = trainer.run()
        runs[engine] = (state.history, {k: v.numpy() for k, v in trainer.net.state_dict().items()})
    (h_static, w_static), (h_eager, w_eager) = runs["static"], runs["eager"]
    assert [h[0] for h in h_static] == [h[0] for h in h_eager] == [10]
    assert h_static[0][1] == pytest.approx(h_eager[0][1], abs=5e-4)  # history keeps 4 decimals
    dropped = set(drop_normalised_biases(InteractiveUNet3D((4, 8))))
    # within half of one step's largest move (lr): Adam turns float32 rounding in a
    # near-zero gradient into a full-size step of either sign
    for key in w_eager.keys() - dropped:
        np.testing.assert_allclose(w_static[key], w_eager[key], atol=1e-3, err_msg=key)


def test_image_dropout_zeroes_only_the_image_channel(tmp_path):
    from segmentation_core.training.trainer import _input_batch, mark_image_dropout

    trainer = Trainer([_sphere_case()], tmp_path, _config())
    samples = [trainer._draw_sample() for _ in range(2)]
    clicks = [[(s.first_click, True)] for s in samples]
    prev = [np.zeros(s.image.shape, np.float32) for s in samples]
    kept = _input_batch(samples, clicks, prev)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert mark_image_dropout(samples, 0.0, rng) == samples
    assert rng.bit_generator.state == state  # no dropout: the run's random stream is unchanged
    mark_image_dropout(samples, 1.0, rng)
    assert [s.drop_image for s in samples] == [True, True]
    samples[1].drop_image = False
    dropped = _input_batch(samples, clicks, prev)
    assert np.abs(kept[0, 0]).max() > 0.5
    np.testing.assert_array_equal(dropped[0, 0], np.zeros_like(kept[0, 0]))
    # the affinity channels were computed from the image all the same
    np.testing.assert_array_equal(dropped[0, 1:], kept[0, 1:])
    np.testing.assert_array_equal(dropped[1], kept[1])


def test_training_with_image_dropout_shows_the_network_patches_without_image(tmp_path):
    trainer = Trainer([_sphere_case()], tmp_path, _config(max_steps=3, image_dropout=1.0))
    seen = []
    draw = trainer._next_batch

    def spy():
        batch = draw()
        seen.append([s.drop_image for s in batch])
        return batch

    trainer._next_batch = spy
    state = trainer.run()
    assert state.step == 3
    assert seen == [[True, True]] * 3
    # validation patches keep their image
    assert all(not s.drop_image for s in trainer._fixed_val_set([_sphere_case(1)]))


def test_fine_tuning_starts_from_an_exported_model_folder(tmp_path):
    from segmentation_core.model_store import WEIGHTS_FILE
    from segmentation_core.training.trainer import init_weights

    trainer = Trainer([_sphere_case()], tmp_path / "work", _config(max_steps=2))
    trainer.run()
    model_dir = trainer.export(tmp_path / "model", {"note": "test"})
    (model_dir / WEIGHTS_FILE).unlink()  # as the shipped base model: graph + pdiparams only
    weights = init_weights(model_dir)
    ref = trainer.net.state_dict()
    assert sorted(weights) == sorted(ref)
    for key, value in ref.items():
        np.testing.assert_array_equal(weights[key], value.numpy())
    tuned = Trainer([_sphere_case()], tmp_path / "tune", _config(init_from=str(model_dir)))
    for key, value in tuned.net.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ref[key].numpy())
