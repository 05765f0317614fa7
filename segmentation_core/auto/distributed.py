"""Scale-out training: the helpers that let one training entry run unchanged alone or under
`python -m paddle.distributed.launch` (one process per GPU, several nodes with `--ips`).

- `rank()`, `world_size()`, `is_rank0()` read the launcher's environment (`PADDLE_TRAINER_ID`,
  `PADDLE_TRAINERS_NUM`); without a launcher they are 0, 1, True.
- `shard_indices(n, rank, world_size, seed, epoch)` is a distributed sampler like torch's
  `DistributedSampler`: each epoch one seeded permutation shared by all ranks, padded by
  wrapping round to a multiple of the world size, dealt out rank by rank; so the shards are
  disjoint (up to the padding), cover every index, are the same length on every rank (no rank
  waits at the gradient all-reduce for one that has no more batches) and are reshuffled per
  epoch, deterministically.
- `wrap_data_parallel(net)` calls `paddle.distributed.init_parallel_env()` and wraps the net in
  `paddle.DataParallel` only when there is more than one process; `unwrap(net)` gives the plain
  layer back for saving and export.
- `save_checkpoint_rank0(...)`/`on_rank0(fn)`: only rank 0 writes (the ranks hold the same
  weights after every all-reduced step; several writers to one file would race).
- `any_rank(*flags)`: a stop decision (time budget, cancel) agreed by all ranks, so that every
  rank takes the same number of steps.

Paddle is imported only inside `wrap_data_parallel`/`barrier`/`any_rank`, so the sampler and the rank
queries cost nothing in processes that never train.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from segmentation_core.checkpoint_io import save_tensors, write_json

RANK_ENV = "PADDLE_TRAINER_ID"
WORLD_ENV = "PADDLE_TRAINERS_NUM"
T = TypeVar("T")
_PARALLEL_READY = False  # init_parallel_env() may run once per process


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from None


def world_size() -> int:
    """How many training processes take part (1 without a launcher)."""
    n = _env_int(WORLD_ENV, 1)
    if n < 1:
        raise ValueError(f"environment variable {WORLD_ENV}={n} must be at least 1")
    return n


def rank() -> int:
    """This process's global rank, 0 .. world_size() - 1 (0 without a launcher)."""
    r = _env_int(RANK_ENV, 0)
    if not 0 <= r < world_size():
        raise ValueError(f"environment variable {RANK_ENV}={r} is outside 0..{world_size() - 1}")
    return r


def is_rank0() -> bool:
    """True in the process that writes checkpoints, logs and the exported model."""
    return rank() == 0


def shard_indices(n: int, rank: int, world_size: int, seed: int, epoch: int) -> np.ndarray:
    """The sample indices rank `rank` of `world_size` visits in `epoch` (int64 array).

    All ranks draw the same permutation of range(n) from (seed, epoch), pad it by repeating its
    start to ceil(n / world_size) * world_size entries, and take every world_size-th entry from
    position `rank`: together the shards hold every index, each exactly once apart from the
    padding, and every shard has the same length. n == 0 gives empty shards."""
    if world_size < 1:
        raise ValueError(f"world_size must be at least 1, got {world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside 0..{world_size - 1}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.random.default_rng([int(seed), int(epoch)]).permutation(n).astype(np.int64)
    total = -(-n // world_size) * world_size
    if total > n:  # wrap round (several times when n < world_size - 1)
        order = np.resize(order, total)
    return order[rank:total:world_size]


def wrap_data_parallel(net: Any) -> Any:
    """`paddle.DataParallel(net)` after `init_parallel_env()` when world_size() > 1 (gradients
    are averaged over the ranks in backward), else `net` itself."""
    global _PARALLEL_READY
    if world_size() <= 1:
        return net
    import paddle
    import paddle.distributed as dist

    if not _PARALLEL_READY:
        dist.init_parallel_env()
        _PARALLEL_READY = True
    return paddle.DataParallel(net)


def unwrap(net: Any) -> Any:
    """The plain layer inside a `paddle.DataParallel` (its state_dict has no "_layers." prefix)."""
    inner = getattr(net, "_layers", None)
    return inner if inner is not None and type(net).__name__ == "DataParallel" else net


def barrier() -> None:
    """Wait for every rank (no-op alone): e.g. before other ranks read what rank 0 wrote."""
    if world_size() > 1:
        import paddle.distributed as dist

        dist.barrier()


def any_rank(*flags: bool) -> tuple[bool, ...]:
    """Each flag true on every rank when it is true on any (an all-reduce of the maximum; alone,
    the flags themselves). Decisions that change how many steps a rank takes (out of time,
    asked to stop) must be agreed like this: a rank that stops alone leaves the others
    waiting forever in the next gradient all-reduce."""
    if world_size() <= 1:
        return tuple(bool(f) for f in flags)
    import paddle
    import paddle.distributed as dist

    t = paddle.to_tensor(np.array([int(bool(f)) for f in flags], np.int32))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return tuple(bool(v) for v in t.numpy().tolist())


def on_rank0(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """`fn(*args, **kwargs)` on rank 0; None (and nothing done) on the other ranks."""
    return fn(*args, **kwargs) if is_rank0() else None


def save_checkpoint_rank0(
    path: str | os.PathLike, tensors: Mapping[str, np.ndarray], meta: dict | None = None
) -> bool:
    """Write `tensors` (safetensors, atomic, read back) and, when given, `meta` as JSON beside
    it (`<path>.json`) on rank 0 only; True where this process wrote them."""
    if not is_rank0():
        return False
    p = Path(path)
    save_tensors(p, dict(tensors))
    if meta is not None:
        write_json(p.with_name(p.name + ".json"), meta)
    return True
