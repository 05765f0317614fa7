"""Fine-tuning from an exported model (issue 14): the starting weights are the exported ones,
a cancelled run still exports, an interrupted run resumes, another config starts over."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import paddle
import pytest

from segmentation_core.checkpoint_io import CheckpointError
from segmentation_core.encoding import build_input, normalise_patch, robust_range
from segmentation_core.model_store import WEIGHTS_FILE, export_inference_model
from segmentation_core.network import InteractiveUNet3D
from segmentation_core.paddle_runtime import PaddlePredictor
from segmentation_core.training.dataset import TrainingCase
from segmentation_core.training.exported_weights import (
    exported_state_dict,
    network_from_export,
    read_pdiparams,
)
from segmentation_core.training.finetune import FinetuneConfig, ProjectSampler, finetune
from segmentation_core.training.trainer import STATE
from viewer.io.training_cases import load_training_case

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "resources" / "models" / "base"


def _real_input(real_data: Path) -> np.ndarray:
    """A 16×32×32 patch of a real CT around a labelled organ, with one positive click."""
    d = real_data / "seg" / "ct_abdomen_small"
    case = load_training_case("mr", d / "image.nii.gz", d / "label.nii.gz")
    value = int(np.unique(case.label)[1])
    zz, yy, xx = np.nonzero(case.label == value)
    c = np.array([int(np.median(zz)), int(np.median(yy)), int(np.median(xx))])
    size = np.array([16, 32, 32])
    lo = np.clip(c - size // 2, 0, np.array(case.image.shape) - size)
    patch = case.image[lo[0] : lo[0] + 16, lo[1] : lo[1] + 32, lo[2] : lo[2] + 32]
    assert patch.shape == (16, 32, 32)
    lo_v, hi_v = robust_range(case.image)
    img = normalise_patch((np.clip(patch, lo_v, hi_v) - lo_v) / (hi_v - lo_v), 0.0, 1.0)
    return build_input(img, [tuple(int(v) for v in c - lo)], [], np.zeros_like(img))


def _eager(net, x: np.ndarray) -> np.ndarray:
    net.eval()
    with paddle.no_grad():
        return net(paddle.to_tensor(x)).numpy()[0, 0]


def test_the_network_rebuilt_from_the_shipped_model_computes_the_shipped_predictor(real_data):
    """The shipped folder has no weights.safetensors: its parameters are read from
    model.pdiparams by name; a network built before offsets Paddle's name counters."""
    assert not (SHIPPED / WEIGHTS_FILE).exists()
    InteractiveUNet3D()  # the exported names (conv3d_0...) are not this process's names now
    x = _real_input(real_data)
    want = PaddlePredictor(SHIPPED, device="cpu", threads=1)(x)
    got = _eager(network_from_export(SHIPPED), x)
    assert np.abs(want).max() > 1.0  # a real prediction, not a flat map
    np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())
    assert ((got > 0) == (want > 0)).mean() > 0.999


def test_a_retrain_stopped_before_its_first_step_exports_the_shipped_models_output(
    tmp_path, real_data
):
    x = _real_input(real_data)
    want = PaddlePredictor(SHIPPED, device="cpu", threads=1)(x)
    res = finetune(
        [_sphere_case()],
        SHIPPED,
        tmp_path / "work",
        FinetuneConfig(patch=16, batch=1, max_sim_rounds=0, prefetch=False, threads=1),
        should_stop=lambda: True,
    )
    assert (res.steps, res.cancelled, res.model_dir) == (0, True, tmp_path / "work" / "model")
    got = PaddlePredictor(res.model_dir, device="cpu", threads=1)(x)
    np.testing.assert_allclose(got, want, atol=2e-4 * np.abs(want).max())
    meta = json.loads((res.model_dir / "meta.json").read_text())
    assert meta["finetune"]["cancelled"] is True
    assert meta["finetune"]["parent_model"] == str(SHIPPED)
    assert (res.model_dir / WEIGHTS_FILE).is_file()


def _sphere_case(seed: int = 0) -> TrainingCase:
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.indices((24, 40, 40), dtype=float)
    label = np.zeros((24, 40, 40), np.int32)
    label[((zz - 12) / 7) ** 2 + ((yy - 14) / 9) ** 2 + ((xx - 14) / 9) ** 2 < 1] = 1
    label[((zz - 12) / 6) ** 2 + ((yy - 28) / 6) ** 2 + ((xx - 28) / 7) ** 2 < 1] = 2
    image = (rng.normal(0, 10, label.shape) + np.where(label > 0, 100.0, 0.0)).astype(np.float32)
    return TrainingCase(f"spheres{seed}", image, label, (2.0, 2.0, 2.0), lo=-30.0, hi=130.0)


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    paddle.seed(1)
    return export_inference_model(InteractiveUNet3D((4, 8)), tmp_path / "tiny", {"note": "test"})


def _cfg(**kw) -> FinetuneConfig:
    base = dict(patch=16, batch=1, max_sim_rounds=1, prefetch=False, threads=1, minutes=60.0)
    base.update(kw)
    return FinetuneConfig(**base)


def test_export_writes_the_state_dict_and_it_is_what_a_retrain_starts_from(tiny_model):
    net = InteractiveUNet3D((4, 8))
    from_safetensors = exported_state_dict(tiny_model, net)
    (tiny_model / WEIGHTS_FILE).unlink()
    from_pdiparams = exported_state_dict(tiny_model, net)
    assert from_safetensors.keys() == from_pdiparams.keys() == net.state_dict().keys()
    for k in from_safetensors:
        np.testing.assert_array_equal(from_safetensors[k], from_pdiparams[k])


def test_a_truncated_pdiparams_is_refused_in_one_line(tiny_model):
    (tiny_model / WEIGHTS_FILE).unlink()
    params = tiny_model / "model.pdiparams"
    params.write_bytes(params.read_bytes()[:-10])
    with pytest.raises(CheckpointError) as e:
        exported_state_dict(tiny_model, InteractiveUNet3D((4, 8)))
    assert str(e.value) == f"{params}: not a readable model.pdiparams (truncated tensor data)"
    params.write_bytes(struct.pack("<I", 7) + b"\0" * 40)
    with pytest.raises(CheckpointError, match="not a dense tensor stream"):
        read_pdiparams(params)


def test_a_cancelled_retrain_resumes_where_it_stopped(tmp_path, tiny_model):
    work = tmp_path / "work"
    seen = []
    res = finetune(
        [_sphere_case()],
        tiny_model,
        work,
        _cfg(max_steps=12),
        progress=seen.append,
        should_stop=lambda: bool(seen) and seen[-1]["step"] >= 4,
    )
    # progress is reported every 10 steps: the stop comes right after step 10
    assert (res.steps, res.cancelled) == (10, True)
    assert {"step", "loss", "elapsed_s", "budget_s", "lr", "val"} <= set(seen[0])
    assert json.loads((work / STATE).read_text())["step"] == 10
    stopped_model = PaddlePredictor(res.model_dir, device="cpu", threads=1)
    x = np.random.default_rng(0).normal(0, 1, (1, 6, 16, 16, 16)).astype(np.float32)
    y_stopped = stopped_model(x)

    res2 = finetune([_sphere_case()], tiny_model, work, _cfg(max_steps=12))
    assert (res2.steps, res2.cancelled) == (12, False)
    assert [h[0] for h in res2.history] == [10]  # the history goes on from the stopped run
    assert not np.allclose(PaddlePredictor(res2.model_dir, device="cpu", threads=1)(x), y_stopped)

    # another config is another run: it starts from the exported model again
    res3 = finetune([_sphere_case()], tiny_model, work, _cfg(max_steps=3, lr=1e-4))
    assert (res3.steps, res3.history) == (3, [])


def test_the_project_sampler_draws_each_structure_equally_and_replays_its_share():
    big, small = _sphere_case(0), _sphere_case(1)
    small.label[small.label == 1] = 0  # the second case holds structure 2 only
    replay = _sphere_case(2)
    replay.label[replay.label > 0] += 10  # values 11, 12: only in the replay case
    from segmentation_core.training.dataset import find_targets

    for c in (big, small, replay):
        c.targets = find_targets(c)
    draw = ProjectSampler(n_replay=1, replay_share=0.25)(
        [big, small, replay], np.random.default_rng(0)
    )
    n = 4000
    got = [draw.sample() for _ in range(n)]
    values = np.array([t.value for _, t in got])
    share = {v: float((values == v).mean()) for v in (1, 2, 11, 12)}
    assert abs(share[11] + share[12] - 0.25) < 0.03
    assert abs(share[1] - 0.375) < 0.03 and abs(share[2] - 0.375) < 0.03
    assert {c.name for c, t in got if t.value == 1} == {"spheres0"}
