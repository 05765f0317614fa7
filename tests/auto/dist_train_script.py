"""Run by tests/auto/test_distributed.py under `python -m paddle.distributed.launch`: two SGD
steps of a small 3D U-Net on a sharded toy data set, through `segmentation_core.auto.distributed`;
each rank writes its weights after every step, rank 0 the checkpoint. Usage: SCRIPT OUT_DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import paddle

from segmentation_core.auto import distributed as dist
from segmentation_core.network import InteractiveUNet3D

N_SAMPLES, STEPS, SEED, LR = 8, 2, 5, 0.5


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, 8, 8, 8) and targets (N, 1, 8, 8, 8), the same in every process."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (N_SAMPLES, 1, 8, 8, 8)).astype(np.float32)
    return x, (x > 0.3).astype(np.float32)


def build_net():
    paddle.seed(SEED)  # the same initial weights in every process
    return InteractiveUNet3D(widths=(4, 8), in_channels=1)


def weights(net) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in dist.unwrap(net).state_dict().items()}


def main(out: Path) -> None:
    r, ws = dist.rank(), dist.world_size()
    x, y = toy_data()
    net = dist.wrap_data_parallel(build_net())
    opt = paddle.optimizer.SGD(learning_rate=LR, parameters=net.parameters())
    record: dict[str, np.ndarray] = {}
    shards = []
    for step in range(STEPS):
        idx = dist.shard_indices(N_SAMPLES, r, ws, SEED, epoch=step)
        shards.append(idx.tolist())
        logits = net(paddle.to_tensor(x[idx]))
        loss = paddle.nn.functional.binary_cross_entropy_with_logits(
            logits, paddle.to_tensor(y[idx])
        )
        loss.backward()
        for name, p in dist.unwrap(net).named_parameters():
            record[f"grad{step}/{name}"] = p.grad.numpy().copy()
        opt.step()
        opt.clear_grad()
        for name, v in weights(net).items():
            record[f"step{step}/{name}"] = v
    np.savez(out / f"rank{r}.npz", **record)
    agreed = [dist.any_rank(r == 1, False, True), dist.any_rank(False)]
    info = {"rank": r, "world": ws, "shards": shards, "agreed": agreed}
    (out / f"rank{r}.json").write_text(json.dumps(info))
    dist.save_checkpoint_rank0(out / "checkpoint.safetensors", weights(net), {"writer": r})
    dist.barrier()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
