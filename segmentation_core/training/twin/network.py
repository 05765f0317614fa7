"""`TwinUNet3D`: `segmentation_core.network.InteractiveUNet3D` layer for layer in PyTorch.

Same module paths (`down.i.body.j`, `up.i`, `dec.i`, `head`), so the state-dict keys are the
Paddle ones with the instance norms' `scale` called `weight` (`twin_weights.twin_key`). Paddle's
InstanceNorm3D is affine with epsilon 1e-5 and keeps no running statistics; so is this one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from segmentation_core.encoding import IN_CHANNELS
from segmentation_core.training.twin_weights import DEFAULT_WIDTHS


class ConvBlock(nn.Module):
    """Two 3x3x3 convolutions with instance norm and LeakyReLU(0.01), as the Paddle block."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(cin, cout, 3, padding=1),
            nn.InstanceNorm3d(cout, eps=1e-5, affine=True, track_running_stats=False),
            nn.LeakyReLU(0.01),
            nn.Conv3d(cout, cout, 3, padding=1),
            nn.InstanceNorm3d(cout, eps=1e-5, affine=True, track_running_stats=False),
            nn.LeakyReLU(0.01),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class TwinUNet3D(nn.Module):
    """Image + click maps + previous mask in, one logit map out (same spatial size)."""

    def __init__(
        self, widths: Sequence[int] = DEFAULT_WIDTHS, in_channels: int = IN_CHANNELS
    ) -> None:
        super().__init__()
        self.widths = tuple(int(w) for w in widths)
        self.down = nn.ModuleList()
        cin = in_channels
        for w in self.widths:
            self.down.append(ConvBlock(cin, w))
            cin = w
        self.pool = nn.MaxPool3d(2)
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for w_hi, w_lo in zip(self.widths[::-1][:-1], self.widths[::-1][1:]):
            self.up.append(nn.ConvTranspose3d(w_hi, w_lo, 2, stride=2))
            self.dec.append(ConvBlock(2 * w_lo, w_lo))
        self.head = nn.Conv3d(self.widths[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = self.pool(x)
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], dim=1))
        return self.head(x)


def load_numpy_state(net: TwinUNet3D, state: dict) -> None:
    """Load a twin state dict of numpy arrays (every key and shape must fit)."""
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)


def numpy_state(net: TwinUNet3D) -> dict:
    """The twin's state dict as float32 numpy arrays on the CPU (for safetensors)."""
    return {k: v.detach().float().cpu().numpy() for k, v in net.state_dict().items()}


def twin_forward(
    state: dict, x, widths: Sequence[int] = DEFAULT_WIDTHS, device: str = "cpu"
) -> object:
    """Logits (numpy, float32) of the twin with twin-named weights `state` for input `x`.
    On a GPU in full float32: TF32 convolutions (cuDNN's default) would differ by ~1e-3."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    net = TwinUNet3D(widths).to(device)
    load_numpy_state(net, state)
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(x).to(device)).cpu().numpy()


def random_twin_state(seed: int, widths: Sequence[int] = DEFAULT_WIDTHS) -> dict:
    """A freshly initialised twin's weights with the norms' affine parts drawn at random too
    (a fresh norm is scale 1, bias 0, which would leave the scale<->weight mapping untested)."""
    torch.manual_seed(seed)
    net = TwinUNet3D(widths)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if ".body.1." in name or ".body.4." in name:
                p.copy_(
                    torch.rand_like(p) + 0.5 if name.endswith("weight") else torch.randn_like(p)
                )
    return numpy_state(net)


def torch_training_check(
    state: dict,
    batch: dict,
    fixed_grads: list[dict],
    lrs: Sequence[float],
    weight_decay: float,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    device: str = "cpu",
) -> tuple[float, dict, dict]:
    """For `make twin-check`: (loss, gradients) of one training step of the twin on `batch`
    (x, y, v) with the trainer's loss, then the parameters after the trainer's optimiser has
    taken one step per entry of `fixed_grads` (twin names) at the learning rates `lrs`."""
    from segmentation_core.training.twin.optim import clipped_step, make_adamw
    from segmentation_core.training.twin.train import dice_bce_loss

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    net = TwinUNet3D(widths).to(device)
    load_numpy_state(net, state)
    net.train()
    t = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
    loss = dice_bce_loss(net(t["x"]), t["y"], t["v"])
    loss.backward()
    grads = {k: p.grad.detach().cpu().numpy() for k, p in net.named_parameters()}
    net.zero_grad(set_to_none=True)
    params = dict(net.named_parameters())
    opt = make_adamw(params.values(), lrs[0], weight_decay)
    for lr, g in zip(lrs, fixed_grads):
        for group in opt.param_groups:
            group["lr"] = lr
        for k, p in params.items():
            p.grad = torch.from_numpy(g[k]).to(device)
        clipped_step(opt, list(params.values()))
    return float(loss.detach()), grads, numpy_state(net)
