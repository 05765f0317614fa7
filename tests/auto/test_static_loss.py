"""The automatic model's loss built as a static graph equals the eager loss (deep supervision,
plain and class-weighted cross-entropy), so either training engine optimises the same thing."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from segmentation_core.auto.loss import (
    deep_supervision_loss,
    supervision_feed,
    supervision_graph_loss,
)
from segmentation_core.auto.unet import AutoUNet3D
from segmentation_core.training.static_graph import StaticGraphTrainer

N_CLASSES, PATCH = 3, (16, 16, 16)
POOLS = [[2, 2, 2], [2, 2, 2], [2, 2, 2]]
SHAPES = [(16, 16, 16), (8, 8, 8), (4, 4, 4)]  # one output per decoder level


def _net() -> AutoUNet3D:
    return AutoUNet3D(1, N_CLASSES, [4, 8, 8, 8], POOLS, deep_supervision=True)


@pytest.mark.parametrize("weighted", [False, True])
def test_graph_loss_equals_the_eager_loss(weighted):
    paddle.seed(5)
    net = _net()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, *PATCH)).astype(np.float32)
    y = rng.choice(N_CLASSES, size=(2, *PATCH), p=[0.8, 0.15, 0.05]).astype(np.int64)
    net.train()
    eager = float(deep_supervision_loss(net(paddle.to_tensor(x)), y, N_CLASSES, weighted))
    feeds = {"x": ([-1, 1, *PATCH], "float32")}
    for i, shape in enumerate(SHAPES):
        feeds[f"t{i}"] = ([-1, *shape], "int64")
        if weighted:
            feeds[f"w{i}"] = ([N_CLASSES], "float32")
    graph = StaticGraphTrainer(
        _net, feeds, lambda outs, f: supervision_graph_loss(outs, f, N_CLASSES, weighted)
    )
    graph.load_weights(net.state_dict())
    feed = supervision_feed(x, y, SHAPES, N_CLASSES, weighted)
    assert sorted(feed) == sorted(feeds)
    # the loss is fetched before the update is applied
    assert graph.step(feed, 0.0) == pytest.approx(eager, rel=1e-5)
    # the coarsest head is not supervised: it gets no gradient and no optimiser state
    assert len(graph.params) == len(net.parameters()) - len(graph.dropped) - 2
