"""The automatic model's static-graph training step with its loss over channels first or last.

`segmentation_core.auto.loss.dice_ce` takes the log-softmax over the last axis of channels-last
logits and the probabilities as its exponential. Its earlier form (kept here, `dice_ce_axis1`,
as the reference) took a log-softmax and a softmax over axis 1 of the NCDHW logits. Both are
built into the same static graph as training builds it (the issue-15 brain configuration:
13 classes, patch 32^3, widths 8-64, three pools, deep supervision, weighted cross-entropy,
batch 2) and stepped on the same random batch, alternating over `--repeats` rounds so that a
change in the machine's load hits both; the median is printed, with the two losses' values on
the first step (the same function, so they agree to float rounding).

The net gets one thread, as `StageTrainer.run` gives it beside the patch worker.

Run: `.venv/bin/python benchmarks/bench_auto_loss.py [--steps 20] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_CLASSES = 13
PATCH = (32, 32, 32)
PLAN = {"n_classes": N_CLASSES, "deep_supervision": True}
STAGE = {
    "widths": [8, 16, 32, 64],
    "pool_kernels": [[2, 2, 2]] * 3,
    "patch_zyx": list(PATCH),
    "extra_channels": 0,
}


def dice_ce_axis1(logits, target, n_classes: int, smooth: float = 1e-5, weights=None):
    """The loss as it was before channels-last: softmaxes over axis 1 of NCDHW logits."""
    import paddle
    import paddle.nn.functional as F

    from segmentation_core.auto.loss import present_class_dice_loss
    from segmentation_core.training.static_graph import reduce_sum

    onehot = paddle.transpose(F.one_hot(target, n_classes), [0, 4, 1, 2, 3])
    nll = -reduce_sum(F.log_softmax(logits, axis=1) * onehot, [1])
    per_voxel = reduce_sum(onehot * paddle.reshape(weights, [1, n_classes, 1, 1, 1]), [1])
    ce = reduce_sum(nll * per_voxel) / reduce_sum(per_voxel)
    probs = F.softmax(logits, axis=1)
    return ce + present_class_dice_loss(probs, onehot, [0, 2, 3, 4], smooth)


def build(loss_fn):
    """A StaticGraphTrainer of the stage's network whose deep-supervision loss uses `loss_fn`."""
    from segmentation_core.auto import loss as auto_loss
    from segmentation_core.auto.unet import build_network
    from segmentation_core.training.static_graph import StaticGraphTrainer

    shapes = [PATCH, tuple(s // 2 for s in PATCH), tuple(s // 4 for s in PATCH)]
    feeds = {"x": ([-1, 1, *PATCH], "float32")}
    for i, s in enumerate(shapes):
        feeds[f"t{i}"] = ([-1, *s], "int64")
        feeds[f"w{i}"] = ([N_CLASSES], "float32")

    def graph_loss(outputs, f):
        saved = auto_loss.dice_ce
        auto_loss.dice_ce = loss_fn
        try:
            return auto_loss.supervision_graph_loss(outputs, f, N_CLASSES, True)
        finally:
            auto_loss.dice_ce = saved

    trainer = StaticGraphTrainer(
        lambda: build_network(PLAN, STAGE), feeds, graph_loss, lr=3e-3, clip_norm=12.0
    )
    return trainer, shapes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import paddle

    from segmentation_core.auto.loss import dice_ce, supervision_feed

    paddle.base.core.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, *PATCH)).astype(np.float32)
    y = np.zeros((2, *PATCH), np.int64)
    y[:, 8:20, 8:20, 8:20] = rng.integers(1, N_CLASSES, (2, 12, 12, 12))  # structures mid-patch
    losses = {"softmaxes over axis 1 (before)": dice_ce_axis1, "log-softmax, last axis": dice_ce}
    runs: dict[str, list[float]] = {name: [] for name in losses}
    first_loss: dict[str, float] = {}
    prepared = {}  # name -> (trainer, feed)
    weights = None
    for name, fn in losses.items():
        trainer, shapes = build(fn)
        if weights is None:
            weights = trainer.weights()
        trainer.load_weights(weights)  # both start from the same weights
        feed = supervision_feed(x, y, shapes, N_CLASSES, True)
        first_loss[name] = trainer.step(feed, 1e-3)
        prepared[name] = (trainer, feed)
    for _ in range(args.repeats):
        for name, (trainer, feed) in prepared.items():
            for _ in range(3):
                trainer.step(feed, 1e-3)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                trainer.step(feed, 1e-3)
            runs[name].append((time.perf_counter() - t0) / args.steps)
    load = os.getloadavg()[0]
    print(
        f"# bench_auto_loss: {args.steps} steps x {args.repeats} rounds, 1 thread, load {load:.1f}"
    )
    print(f"{'loss':<34}{'s/step':>8}{'speed-up':>10}  first loss  runs")
    base = statistics.median(next(iter(runs.values())))
    for name, r in runs.items():
        med = statistics.median(r)
        rs = " ".join(f"{v:.3f}" for v in r)
        print(f"{name:<34}{med:8.3f}{base / med:9.2f}x  {first_loss[name]:.6f}  {rs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
