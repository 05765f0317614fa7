"""The trainer's in-place AdamW: same numbers as paddle.optimizer.AdamW, exact resume."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from segmentation_core.encoding import IN_CHANNELS
from segmentation_core.network import InteractiveUNet3D
from segmentation_core.training.optim import InPlaceAdamW


def _tiny_net(seed: int = 0) -> InteractiveUNet3D:
    paddle.seed(seed)
    return InteractiveUNet3D((4, 8))


def _plain_net(seed: int = 0) -> paddle.nn.Layer:
    """Without the U-Net's convolution biases in front of instance norm: their gradient is
    rounding noise, which Adam's normalisation blows up to full-size steps in random directions,
    so after a step those biases cannot agree between two optimisers however exact."""
    paddle.seed(seed)
    return paddle.nn.Sequential(
        paddle.nn.Conv3D(IN_CHANNELS, 4, 3, padding=1),
        paddle.nn.LeakyReLU(0.01),
        paddle.nn.Conv3D(4, 1, 1),
    )


def _batch(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (2, IN_CHANNELS, 8, 8, 8)).astype(np.float32)
    y = (rng.random((2, 1, 8, 8, 8)) > 0.5).astype(np.float32)
    return paddle.to_tensor(x), paddle.to_tensor(y)


def _train(net, opt, steps: int, lrs) -> list[float]:
    losses = []
    for k in range(steps):
        opt.set_lr(lrs[k])
        x, y = _batch(k)
        loss = paddle.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        losses.append(float(loss))
    return losses


def _pair(make, clip):
    ref_net, net = make(), make()
    ref = paddle.optimizer.AdamW(
        learning_rate=1e-3,
        parameters=ref_net.parameters(),
        weight_decay=0.05,
        grad_clip=paddle.nn.ClipGradByGlobalNorm(clip),
    )
    return (
        ref_net,
        ref,
        net,
        InPlaceAdamW(net.parameters(), 1e-3, weight_decay=0.05, clip_norm=clip),
    )


LRS = [1e-3, 2e-3, 3e-3, 3e-3, 2e-3, 1e-3]


@pytest.mark.parametrize("clip", [5.0, 1e-3])  # 1e-3: every step is clipped
def test_unet_losses_match_paddle_adamw(clip):
    ref_net, ref, net, ours = _pair(_tiny_net, clip)
    np.testing.assert_allclose(_train(net, ours, 6, LRS), _train(ref_net, ref, 6, LRS), rtol=1e-6)


@pytest.mark.parametrize("clip", [5.0, 1e-3])
def test_weights_and_moments_match_paddle_adamw(clip):
    ref_net, ref, net, ours = _pair(_plain_net, clip)
    ref_losses = _train(ref_net, ref, 6, LRS)
    losses = _train(net, ours, 6, LRS)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-6)
    start = _plain_net().state_dict()

    ref_state = ref_net.state_dict()
    for key, value in net.state_dict().items():
        moved = ref_state[key].numpy() - start[key].numpy()
        assert np.abs(moved).max() > 0  # the comparison below is not of untouched weights
        np.testing.assert_allclose(
            value.numpy(), ref_state[key].numpy(), rtol=1e-6, atol=1e-7, err_msg=key
        )
    ref_opt = ref.state_dict()
    for q, m, v in zip(ref_net.parameters(), ours.m, ours.v):
        for ours_t, kind in ((m, "moment1_0"), (v, "moment2_0")):
            want = ref_opt[f"{q.name}_{kind}"].numpy()
            # relative to the tensor's scale: near-zero entries of m are sums that cancel
            scale = np.abs(want).max()
            assert scale > 0
            np.testing.assert_allclose(ours_t.numpy(), want, rtol=1e-6, atol=1e-6 * scale)


def test_resume_from_state_dict_continues_exactly():
    lrs = [1e-3] * 5
    net = _tiny_net()
    opt = InPlaceAdamW(net.parameters(), 1e-3, weight_decay=0.01, clip_norm=5.0)
    _train(net, opt, 3, lrs)
    weights = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    saved = {
        k: (v.numpy().copy() if hasattr(v, "numpy") else v) for k, v in opt.state_dict().items()
    }
    expected = _train(net, opt, 2, lrs)

    other = _tiny_net(seed=7)  # other parameter names and weights
    other.set_state_dict(weights)
    opt2 = InPlaceAdamW(other.parameters(), 1e-3, weight_decay=0.01, clip_norm=5.0)
    names = dict(zip([p.name for p in net.parameters()], [p.name for p in other.parameters()]))
    renamed = {}
    for key, value in saved.items():
        for old, new in names.items():
            if key.startswith(old + "_"):
                key = new + key[len(old) :]
                break
        renamed[key] = value
    opt2.set_state_dict(renamed)
    assert opt2.t == 3
    assert _train(other, opt2, 2, lrs) == expected


def test_resumes_a_builtin_adamw_state():
    """A checkpoint written while the trainer used paddle.optimizer.AdamW continues the same."""
    lrs = [1e-3] * 5
    ref_net = _tiny_net()
    ref = paddle.optimizer.AdamW(1e-3, parameters=ref_net.parameters(), weight_decay=0.01)
    _train(ref_net, ref, 3, lrs)
    net = _tiny_net(seed=1)
    net.set_state_dict({k: v.numpy() for k, v in ref_net.state_dict().items()})
    ours = InPlaceAdamW(net.parameters(), 1e-3, weight_decay=0.01)
    names = dict(zip([p.name for p in ref_net.parameters()], [p.name for p in net.parameters()]))
    state = {}
    for key, value in ref.state_dict().items():
        for old, new in names.items():
            if key.startswith(old + "_"):
                state[new + key[len(old) :]] = value
    ours.set_state_dict(state)
    assert ours.t == 3
    np.testing.assert_allclose(_train(net, ours, 2, lrs), _train(ref_net, ref, 2, lrs), rtol=1e-6)


def test_refuses_a_state_for_another_network():
    net = _tiny_net()
    opt = InPlaceAdamW(net.parameters())
    state = opt.state_dict()
    key = f"{net.parameters()[0].name}_moment1_0"
    state[key] = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match="moment1_0: shape"):
        opt.set_state_dict(state)
