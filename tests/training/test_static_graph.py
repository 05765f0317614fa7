"""The static-graph training engine gives the eager engine's step: same losses, same weights, same
forward pass, and checkpoints that move between the two."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from segmentation_core.encoding import IN_CHANNELS
from segmentation_core.network import InteractiveUNet3D
from segmentation_core.training.optim import STEP_KEY, InPlaceAdamW
from segmentation_core.training.static_graph import (
    StaticGraphTrainer,
    copy_to_eager,
    drop_normalised_biases,
    load_from_eager,
    reduce_sum,
)
from segmentation_core.training.trainer import interactive_loss

WIDTHS, P, B = (4, 8), 16, 2
LR, WD = 1e-3, 1e-4


def _data(n: int):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        x = rng.standard_normal((B, IN_CHANNELS, P, P, P)).astype(np.float32)
        y = (rng.random((B, 1, P, P, P)) > 0.6).astype(np.float32)
        v = (rng.random((B, 1, P, P, P)) > 0.1).astype(np.float32)
        out.append((x, y, v))
    return out


def _graph(clip: float | None) -> StaticGraphTrainer:
    shape = [-1, -1, -1]
    return StaticGraphTrainer(
        lambda: InteractiveUNet3D(WIDTHS),
        {
            "x": ([-1, IN_CHANNELS, *shape], "float32"),
            "y": ([-1, 1, *shape], "float32"),
            "v": ([-1, 1, *shape], "float32"),
        },
        lambda out, f: interactive_loss(out, f["y"], f["v"]),
        lr=LR,
        weight_decay=WD,
        clip_norm=clip,
    )


def _eager_run(net, data, clip, opt=None):
    opt = opt or InPlaceAdamW(net.parameters(), LR, weight_decay=WD, clip_norm=clip)
    losses = []
    for x, y, v in data:
        loss = interactive_loss(net(paddle.to_tensor(x)), paddle.to_tensor(y), paddle.to_tensor(v))
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(loss))
    return losses, opt


@pytest.mark.parametrize("clip", [5.0, 0.01])  # 0.01: the global-norm clip acts on every step
def test_static_steps_equal_the_eager_steps(clip):
    paddle.seed(3)
    net = InteractiveUNet3D(WIDTHS)
    graph = _graph(clip)
    graph.load_weights(net.state_dict())
    data = _data(3)
    static_losses = [graph.step({"x": x, "y": y, "v": v}, LR) for x, y, v in data]
    eager_losses, opt = _eager_run(net, data, clip)
    np.testing.assert_allclose(static_losses, eager_losses, rtol=2e-6)
    assert static_losses[2] != static_losses[0]  # the weights did move
    eager = {k: v.numpy() for k, v in net.state_dict().items()}
    for key, value in graph.weights().items():
        np.testing.assert_allclose(value, eager[key], atol=2e-5, err_msg=key)
    assert graph.optimizer_state()[STEP_KEY] == 3 == opt.t


def test_the_graph_leaves_out_exactly_the_biases_an_instance_norm_follows():
    graph = _graph(None)
    net = InteractiveUNet3D(WIDTHS)
    # both convolutions of each block; not the transposed convolutions nor the head
    expected = sorted(
        f"{part}.{i}.body.{j}.bias"
        for part, n in (("down", len(WIDTHS)), ("dec", len(WIDTHS) - 1))
        for i in range(n)
        for j in (0, 3)
    )
    assert sorted(graph.dropped) == expected
    assert sorted(set(net.state_dict()) - set(graph.weights())) == expected
    assert drop_normalised_biases(InteractiveUNet3D(WIDTHS)) == graph.dropped


def test_predict_gives_the_eager_forward_pass():
    paddle.seed(1)
    net = InteractiveUNet3D(WIDTHS)
    graph = _graph(None)
    graph.load_weights(net.state_dict())
    x = _data(1)[0][0]
    eager = net(paddle.to_tensor(x)).numpy()
    np.testing.assert_allclose(graph.predict(x), eager, atol=1e-5 * np.abs(eager).max())


def test_optimizer_state_round_trips_and_continues_like_the_eager_optimiser():
    paddle.seed(2)
    net = InteractiveUNet3D(WIDTHS)
    data = _data(4)
    _, opt = _eager_run(net, data[:2], 5.0)  # two eager steps, then hand over to the graph
    graph = _graph(5.0)
    load_from_eager(graph, net, opt)
    assert graph.optimizer_state()[STEP_KEY] == 2
    x, y, v = data[2]
    static_loss = graph.step({"x": x, "y": y, "v": v}, LR)
    eager_losses, _ = _eager_run(net, data[2:3], 5.0, opt)
    assert static_loss == pytest.approx(eager_losses[0], rel=2e-6)
    eager = {k: t.numpy() for k, t in net.state_dict().items()}
    for key, value in graph.weights().items():
        np.testing.assert_allclose(value, eager[key], atol=2e-5, err_msg=key)
    # and back: the eager optimiser continues from the graph's step count
    copy_to_eager(graph, net, opt)
    assert opt.t == 3


def test_the_step_count_survives_past_where_beta1_power_stops_falling():
    """0.9^(t+1) in float32 reaches the smallest denormal near t = 966 and stays there: a
    checkpoint of a longer run must still record its real step count (Adam's bias correction
    on resume depends on it through beta2^t)."""
    graph = _graph(5.0)
    state = graph.optimizer_state()
    assert state[STEP_KEY] == 0
    graph.load_optimizer_state({**state, STEP_KEY: 5000})
    x, y, v = _data(1)[0]
    graph.step({"x": x, "y": y, "v": v}, LR)
    assert graph.optimizer_state()[STEP_KEY] == 5001
    b2 = np.float32(0.999)
    for _ in range(5000):
        b2 = b2 * np.float32(0.999)
    pow2 = graph._tensor(graph._acc("beta2_pow_acc", graph.params[0]))
    assert np.asarray(pow2).ravel()[0] == pytest.approx(float(b2) * 0.999, rel=1e-5)


def test_missing_or_misshaped_weights_are_refused():
    graph = _graph(None)
    weights = graph.weights()
    key = next(iter(weights))
    with pytest.raises(ValueError, match="no weights"):
        graph.load_weights({k: v for k, v in weights.items() if k != key})
    with pytest.raises(ValueError, match="shape"):
        graph.load_weights({**weights, key: np.zeros((1, 2), np.float32)})


def test_reduce_sum_in_eager_mode_is_paddle_sum():
    x = paddle.to_tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert float(reduce_sum(x)) == 276.0
    np.testing.assert_array_equal(reduce_sum(x, [1, 2]).numpy(), [66.0, 210.0])
