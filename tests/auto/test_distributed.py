"""Scale-out training helpers: the distributed sampler's sharding, the rank queries, rank-0-only
checkpoints, and two real CPU processes under `python -m paddle.distributed.launch` (gloo)
whose weights stay identical and equal one process training on the whole batch."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from segmentation_core.auto import distributed as dist
from segmentation_core.checkpoint_io import load_tensors, read_json

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("dist_train_script.py")


def _interleaved(shards: list[np.ndarray]) -> np.ndarray:
    """The shards dealt back into one sequence: position i*ws + r holds shards[r][i]."""
    return np.stack(shards, axis=1).ravel()


@pytest.mark.parametrize("n, ws", [(10, 3), (12, 4), (7, 2), (2, 4), (1, 1), (5, 5), (3, 8)])
def test_shards_cover_every_index_padded_evenly(n, ws):
    shards = [dist.shard_indices(n, r, ws, seed=7, epoch=2) for r in range(ws)]
    per_rank = -(-n // ws)
    assert [len(s) for s in shards] == [per_rank] * ws
    seq = _interleaved(shards)
    # the first n dealt entries are a permutation of range(n): disjoint and covering
    assert sorted(seq[:n].tolist()) == list(range(n))
    # the padding repeats the permutation from its start (as torch's DistributedSampler)
    assert seq[n:].tolist() == np.resize(seq[:n], per_rank * ws - n).tolist()
    assert all(s.dtype == np.int64 for s in shards)


def test_shards_are_deterministic_and_reshuffled_per_epoch():
    a = [dist.shard_indices(100, r, 4, seed=3, epoch=0) for r in range(4)]
    again = [dist.shard_indices(100, r, 4, seed=3, epoch=0) for r in range(4)]
    nxt = [dist.shard_indices(100, r, 4, seed=3, epoch=1) for r in range(4)]
    other_seed = dist.shard_indices(100, 0, 4, seed=4, epoch=0)
    assert all(np.array_equal(x, y) for x, y in zip(a, again))
    assert not np.array_equal(a[0], nxt[0])
    assert not np.array_equal(a[0], other_seed)
    assert sorted(_interleaved(nxt).tolist()) == list(range(100))
    # one process sees the whole permutation in the same order the ranks deal it out
    assert np.array_equal(dist.shard_indices(100, 0, 1, seed=3, epoch=0), _interleaved(a))


def test_shards_of_nothing_and_bad_arguments():
    assert dist.shard_indices(0, 1, 2, seed=0, epoch=0).tolist() == []
    with pytest.raises(ValueError, match="rank 2 is outside 0..1"):
        dist.shard_indices(5, 2, 2, seed=0, epoch=0)
    with pytest.raises(ValueError, match="world_size must be at least 1"):
        dist.shard_indices(5, 0, 0, seed=0, epoch=0)


def test_rank_and_world_size_from_the_launcher_environment(monkeypatch):
    monkeypatch.delenv(dist.RANK_ENV, raising=False)
    monkeypatch.delenv(dist.WORLD_ENV, raising=False)
    assert (dist.rank(), dist.world_size(), dist.is_rank0()) == (0, 1, True)
    monkeypatch.setenv(dist.WORLD_ENV, "4")
    monkeypatch.setenv(dist.RANK_ENV, "3")
    assert (dist.rank(), dist.world_size(), dist.is_rank0()) == (3, 4, False)
    monkeypatch.setenv(dist.RANK_ENV, "4")
    with pytest.raises(ValueError, match="PADDLE_TRAINER_ID=4 is outside 0..3"):
        dist.rank()
    monkeypatch.setenv(dist.WORLD_ENV, "two")
    with pytest.raises(ValueError, match="PADDLE_TRAINERS_NUM='two' is not an integer"):
        dist.world_size()


def test_alone_the_flags_are_agreed_as_they_are(monkeypatch):
    monkeypatch.delenv(dist.WORLD_ENV, raising=False)
    assert dist.any_rank(True, False, 1, 0) == (True, False, True, False)
    assert dist.any_rank() == ()


def test_one_process_is_not_wrapped(monkeypatch):
    monkeypatch.delenv(dist.WORLD_ENV, raising=False)
    net = object()
    assert dist.wrap_data_parallel(net) is net
    assert dist.unwrap(net) is net
    dist.barrier()  # alone: returns at once, nothing initialised


def test_only_rank0_writes_the_checkpoint(monkeypatch, tmp_path):
    tensors = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5], np.float32)}
    monkeypatch.setenv(dist.WORLD_ENV, "2")
    monkeypatch.setenv(dist.RANK_ENV, "1")
    path = tmp_path / "ckpt.safetensors"
    assert dist.save_checkpoint_rank0(path, tensors, {"step": 3}) is False
    assert dist.on_rank0(lambda: "wrote") is None
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv(dist.RANK_ENV, "0")
    assert dist.save_checkpoint_rank0(path, tensors, {"step": 3}) is True
    assert dist.on_rank0(lambda: "wrote") == "wrote"
    back = load_tensors(path)
    assert back.keys() == tensors.keys()
    assert all(np.array_equal(back[k], v) for k, v in tensors.items())
    assert read_json(tmp_path / "ckpt.safetensors.json") == {"step": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt.safetensors",
        "ckpt.safetensors.json",
    ]


def _launch(tmp_path: Path, script_args: list[str], timeout: float = 240) -> None:
    """`python -m paddle.distributed.launch --nproc_per_node 2 ...` (CPU: gloo); fails with
    the workers' logs when it fails, and kills the whole process group when it hangs (a rank
    waiting in an all-reduce for one that stopped)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    env["OMP_NUM_THREADS"] = "1"
    for key in (dist.RANK_ENV, dist.WORLD_ENV):
        env.pop(key, None)
    log_dir = tmp_path / "log"
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2"]
    cmd += ["--log_dir", str(log_dir), *script_args]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        output = f"timed out after {timeout} s (a rank waits for another)"
    logs = "".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("workerlog.*")))
    assert proc.returncode == 0, output[-2000:] + logs[-4000:]


def _script_module():
    spec = importlib.util.spec_from_file_location("dist_train_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_cpu_processes_train_in_step(tmp_path):
    """Two processes under paddle.distributed.launch (gloo on the CPU): after each of two SGD
    steps both ranks hold bit-identical weights and gradients, equal to one process stepping
    on the union of their shards; only rank 0 wrote the checkpoint."""
    import paddle

    out = tmp_path / "out"
    out.mkdir()
    _launch(tmp_path, [str(SCRIPT), str(out)])

    meta = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(m["rank"], m["world"]) for m in meta] == [(0, 2), (1, 2)]
    # a flag raised on rank 1 only is seen by both ranks; none raised: none seen
    assert [m["agreed"] for m in meta] == [[[True, False, True], [False]]] * 2
    r0, r1 = (dict(np.load(out / f"rank{r}.npz")) for r in (0, 1))
    assert r0.keys() == r1.keys()
    for key in r0:
        assert np.array_equal(r0[key], r1[key]), key

    # the reference: one process, one step per epoch on both shards together
    script = _script_module()
    x, y = script.toy_data()
    net = script.build_net()
    opt = paddle.optimizer.SGD(learning_rate=script.LR, parameters=net.parameters())
    for step in range(script.STEPS):
        shards = [m["shards"][step] for m in meta]
        assert sorted(shards[0] + shards[1]) == list(range(script.N_SAMPLES))
        idx = np.array(shards[0] + shards[1])
        loss = paddle.nn.functional.binary_cross_entropy_with_logits(
            net(paddle.to_tensor(x[idx])), paddle.to_tensor(y[idx])
        )
        loss.backward()
        for name, p in net.named_parameters():
            np.testing.assert_allclose(r0[f"grad{step}/{name}"], p.grad.numpy(), atol=1e-6)
        opt.step()
        opt.clear_grad()
        for name, v in net.state_dict().items():
            np.testing.assert_allclose(r0[f"step{step}/{name}"], v.numpy(), atol=1e-5)

    ckpt = load_tensors(out / "checkpoint.safetensors")
    last = script.STEPS - 1
    assert all(np.array_equal(v, r0[f"step{last}/{k}"]) for k, v in ckpt.items())
    assert read_json(out / "checkpoint.safetensors.json") == {"writer": 0}
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.safetensors", "checkpoint.safetensors.json",
        "rank0.json", "rank0.npz", "rank1.json", "rank1.npz",
    ]  # fmt: skip


@pytest.mark.slow
def test_train_auto_under_the_launcher_stops_every_rank_together(tmp_path):
    """The real training entry under two processes: rank 1 alone is asked to stop after two
    steps; both ranks stop there (a rank that went on would wait in its next gradient
    all-reduce forever), and rank 0 wrote the model card, marked cancelled."""
    out = tmp_path / "out"
    out.mkdir()
    _launch(tmp_path, [str(Path(__file__).with_name("dist_train_auto_script.py")), str(out)])
    records = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["steps"], r["cancelled"]) for r in records] == [
        (0, [1, 2], True), (1, [1, 2], True),
    ]  # fmt: skip
    card = read_json(out / "model" / "auto_model.json")
    assert card["version"] == "dist" and card["training"]["cancelled"] is True


@pytest.mark.slow
def test_train_auto_command_runs_unchanged_under_the_launcher(tmp_path):
    """`python -m paddle.distributed.launch --nproc_per_node 2 main.py train-auto ...` with a
    time budget trains, exports and writes a model the viewer can run."""
    from auto_model_factory import SPACING_ZYX, tiny_image

    from segmentation_core.auto import predict_volume, read_auto_model
    from viewer.io import save_volume
    from viewer.model import Geometry

    for s in range(4):
        image, label = tiny_image(s)
        folder = tmp_path / "cases" / f"case{s}"
        folder.mkdir(parents=True)
        geo = Geometry(image.shape, tuple(reversed(SPACING_ZYX)))
        save_volume(image, geo, folder / "image.nii.gz")
        save_volume(label, geo, folder / "label.nii.gz")
    model = tmp_path / "model"
    args = [str(REPO / "main.py"), "train-auto", "--data", str(tmp_path / "cases")]
    args += ["--out", str(model), "--fold", "all", "--minutes", "0.1", "--threads", "1"]
    _launch(tmp_path, args)
    card = read_auto_model(model)
    assert card["folds"] == ["all"]
    assert card["labels"] == {1: "label 1", 2: "label 2"}  # NIfTI labels carry no names
    image, _ = tiny_image(9)
    assert predict_volume(model, image, SPACING_ZYX).shape == image.shape
