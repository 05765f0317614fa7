"""Scale-out training helpers: the distributed sampler's sharding, the rank queries, rank-0-only
checkpoints, and two real CPU processes under `python -m paddle.distributed.launch` (gloo)
whose weights stay identical and equal one process training on the whole batch."""

from __future__ import annotations

import importlib.util
import json
import os
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
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    for key in (dist.RANK_ENV, dist.WORLD_ENV):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2"]
    cmd += ["--log_dir", str(tmp_path / "log"), str(SCRIPT), str(out)]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    logs = "".join(p.read_text(errors="replace") for p in sorted((tmp_path / "log").glob("*")))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:] + logs[-3000:]

    meta = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(m["rank"], m["world"]) for m in meta] == [(0, 2), (1, 2)]
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
