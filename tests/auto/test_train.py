"""Training: the loss falls, an interrupted run resumes to the same weights, the export gives the
training network's output, and the model card describes what inference will use."""

from __future__ import annotations

import numpy as np
import pytest
from auto_synthetic import TINY, sphere_case

from segmentation_core.auto import predict_volume, read_auto_model
from segmentation_core.auto.train import AutoTrainConfig, train_auto
from segmentation_core.auto.train_state import STATE, WEIGHTS
from segmentation_core.checkpoint_io import load_tensors, read_json


def config(**kw) -> AutoTrainConfig:
    # in-process batches unless a test asks for the worker: the same patches on every run
    base = dict(
        minutes=0, max_steps=12, fold="all", budget=TINY, lr=1e-2, val_every_steps=6, prefetch=False
    )
    base.update(kw)
    return AutoTrainConfig(**base)


@pytest.fixture(scope="module")
def two_cases():
    return [sphere_case(0), sphere_case(1)]


def test_loss_falls_and_an_interrupted_run_resumes(two_cases, tmp_path):
    # in-process batches: the resumed run continues the very same sequence of patches
    straight = tmp_path / "straight"
    train_auto(two_cases, straight, config())
    state = read_json(straight / "fold_all" / "fullres" / STATE)
    losses = [h[1] for h in state["history"]]
    assert len(losses) == 12 and state["done"] is True
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.1

    # the same run, stopped after 5 steps, then resumed by running the same command again
    resumed = tmp_path / "resumed"
    seen = []

    def stop_after_5(info):
        if info.get("phase") == "training":
            seen.append(info["step"])

    card = train_auto(
        two_cases,
        resumed,
        config(),
        progress=stop_after_5,
        should_stop=lambda: len(seen) >= 5,
    )
    assert card["training"]["cancelled"] is True and card["inference_folds"] == []
    assert read_json(resumed / "fold_all" / "fullres" / STATE)["step"] == 5
    seen.clear()
    card = train_auto(two_cases, resumed, config(), progress=stop_after_5)
    assert seen == [6, 7, 8, 9, 10, 11, 12]
    assert card["inference_folds"] == ["all"]
    a = load_tensors(straight / "fold_all" / "fullres" / WEIGHTS)
    b = load_tensors(resumed / "fold_all" / "fullres" / WEIGHTS)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)
    resumed_losses = [h[1] for h in read_json(resumed / "fold_all" / "fullres" / STATE)["history"]]
    np.testing.assert_allclose(resumed_losses, losses, rtol=1e-4)


def test_prefetched_run_learns_resumes_and_draws_the_streams_batches(two_cases, tmp_path):
    from segmentation_core.auto.stage_batches import batch_stream, prepare_stage_case
    from segmentation_core.training.prefetch import StreamWorker

    out = tmp_path / "prefetched"
    seen = []

    def record(info):
        if info.get("phase") == "training":
            seen.append(info["step"])

    prefetched = config(prefetch=True)
    card = train_auto(
        two_cases, out, prefetched, progress=record, should_stop=lambda: len(seen) >= 5
    )
    assert card["training"]["cancelled"] is True
    seen.clear()
    card = train_auto(two_cases, out, prefetched, progress=record)
    assert seen == [6, 7, 8, 9, 10, 11, 12] and card["inference_folds"] == ["all"]
    losses = [h[1] for h in read_json(out / "fold_all" / "fullres" / STATE)["history"]]
    assert len(losses) == 12
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.1

    # the worker process yields exactly what the same stream yields here
    plan = card["plan"]
    (stage,) = plan["stages"]
    cases = [prepare_stage_case(c, plan, stage) for c in two_cases]
    args = (cases, plan, stage, None, 0, 5)
    here = batch_stream(*args)
    worker = StreamWorker(batch_stream, args)
    try:
        for _ in range(3):
            (xa, ya), (xb, yb) = next(here), worker.next()
            assert xa.shape == (plan["batch"], 1, *stage["patch_zyx"]) and ya.dtype == np.int64
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    finally:
        worker.close()
    # another start step draws other patches (a resumed run does not repeat the first ones)
    other = next(batch_stream(cases, plan, stage, None, 0, 6))[0]
    assert not np.array_equal(other, next(batch_stream(*args))[0])


def test_exported_model_gives_the_training_networks_output(two_cases, tmp_path):
    import paddle

    from segmentation_core.auto.runtime import EagerPredictor, StagePredictor
    from segmentation_core.auto.train_state import load_checkpoint
    from segmentation_core.auto.unet import build_network
    from segmentation_core.training.optim import InPlaceAdamW

    out = tmp_path / "m"
    card = train_auto(two_cases, out, config(max_steps=4))
    plan = card["plan"]
    (stage,) = plan["stages"]
    net = build_network(plan, stage)
    load_checkpoint(out / "fold_all" / "fullres", net, InPlaceAdamW(net.parameters()))
    x = np.random.default_rng(5).normal(size=(1, 1, 16, 32, 32)).astype(np.float32)
    eager = EagerPredictor(net)(x)
    exported = StagePredictor(out / "fold_all" / "fullres" / "model", threads=1)(x)
    assert exported.shape == (3, 16, 32, 32)
    np.testing.assert_allclose(exported, eager, atol=1e-4)
    assert paddle.in_dynamic_mode()


def test_cross_validation_card_and_prediction(tmp_path):
    cases = [sphere_case(i) for i in range(3)]
    out = tmp_path / "cv"
    card = train_auto(cases, out, config(fold="cv", n_folds=3, max_steps=25))
    assert card["inference_folds"] == [0, 1, 2]
    assert card["cv"]["n_cases"] == 3
    assert set(card["cv"]["dice"]) == {"5", "9"}
    for f in range(3):
        val = read_json(out / f"fold_{f}" / "validation.json")
        assert len(val["cases"]) == 1
    model = read_auto_model(out)
    assert model["labels"] == {5: "label 5", 9: "label 9"}
    assert model["folds"] == [0, 1, 2]
    labels = predict_volume(out, cases[0].image, cases[0].spacing_zyx, threads=1)
    assert labels.shape == cases[0].image.shape and labels.dtype == np.uint16
    assert set(np.unique(labels)) <= {0, 5, 9}
    # the three-fold ensemble has learnt the spheres after 25 steps each
    inner = cases[0].label == 5
    assert (labels[inner] == 5).mean() > 0.8


def test_a_folder_of_other_cases_is_refused(two_cases, tmp_path):
    from segmentation_core.auto.model_folder import AutoModelError

    train_auto(two_cases, tmp_path, config(max_steps=1))
    with pytest.raises(AutoModelError, match="other cases"):
        train_auto([sphere_case(7), sphere_case(8)], tmp_path, config(max_steps=1))
