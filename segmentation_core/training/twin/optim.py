"""The Paddle trainer's optimiser in PyTorch: `optim.InPlaceAdamW` with global-norm clipping.

Both are AdamW with betas 0.9/0.999, eps 1e-8 outside the bias-corrected square root, and
decoupled decay `p -= lr * wd * p` before the Adam step; torch's AdamW computes exactly that.
Clipping follows `paddle.nn.ClipGradByGlobalNorm` (g * clip / max(||g||, clip)), not torch's
`clip_grad_norm_` (which adds 1e-6 to the norm). `make twin-check` runs both on the same
gradients and compares the parameters.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

CLIP_NORM = 5.0  # as Trainer: InPlaceAdamW(..., clip_norm=5.0)


def make_adamw(params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float):
    """torch AdamW set up as the Paddle trainer's InPlaceAdamW."""
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)


def clip_by_global_norm(params: Iterable[torch.nn.Parameter], clip: float = CLIP_NORM) -> None:
    """Scale the gradients in place by clip / max(global norm, clip), as Paddle does (no
    device-to-host sync: the scale stays a tensor)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norm = torch.sqrt(torch.stack([(g.float() * g.float()).sum() for g in grads]).sum())
    scale = clip / torch.clamp(norm, min=clip)
    for g in grads:
        g.mul_(scale.to(g.dtype))


def clipped_step(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter]) -> None:
    """One optimiser step after clipping, as InPlaceAdamW.step()."""
    clip_by_global_norm(params)
    opt.step()
