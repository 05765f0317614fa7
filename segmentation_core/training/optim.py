"""AdamW written with in-place tensor ops: the trainer's optimiser.

Why not `paddle.optimizer.AdamW`: on this CPU (Paddle 3.3, eager, 2 threads) every convolution
run after the built-in Adam/AdamW kernel's first update is about 1.6x slower, so a training step
takes ~2.9 s instead of ~1.7 s (`../shared/STACK-NOTES.md`, "The AdamW slowdown, narrowed";
`benchmarks/bench_training.py` measures both side by side). The same update done with ordinary
in-place tensor ops does not leave the process in that state.

The arithmetic follows Paddle's AdamW kernel exactly (decoupled decay `p -= lr * wd * p` first,
then Adam with the bias correction folded into the learning rate and `eps * sqrt(1 - beta2^t)`),
and gradient clipping follows `paddle.nn.ClipGradByGlobalNorm`, so the two agree to float32
rounding step for step (tests/training/test_optim.py).

The state dict uses the built-in optimiser's key names (`<param name>_moment1_0`, ...), so the
trainer's checkpoint code (safetensors tensors + plain numbers in the JSON manifest) and its
mapping of parameter names between processes work unchanged, and a checkpoint written by the
built-in optimiser (which stores `_beta1_pow_acc_0` instead of a step count) resumes too.
"""

from __future__ import annotations

import math

import numpy as np

STEP_KEY = "inplace_adamw_step"


class InPlaceAdamW:
    """AdamW over `parameters` (Paddle tensors), with optional global-norm gradient clipping.

    Same interface as the parts of `paddle.optimizer.AdamW` the trainer uses: `step()`,
    `clear_grad()`, `set_lr()`, `get_lr()`, `state_dict()`, `set_state_dict()`.
    """

    def __init__(
        self,
        parameters,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        clip_norm: float | None = None,
    ) -> None:
        import paddle

        self._paddle = paddle
        self.params = [p for p in parameters if not p.stop_gradient]
        self.lr = float(learning_rate)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.eps = float(epsilon)
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.t = 0
        self._pows = (np.float32(1.0), np.float32(1.0))  # beta1^t, beta2^t as Paddle keeps them
        self.m = [paddle.zeros_like(p) for p in self.params]
        self.v = [paddle.zeros_like(p) for p in self.params]

    # --- the interface the trainer uses ---------------------------------------------------------
    def set_lr(self, lr: float) -> None:
        self.lr = float(lr)

    def get_lr(self) -> float:
        return self.lr

    def clear_grad(self) -> None:
        for p in self.params:
            p.clear_gradient()

    def step(self) -> None:
        paddle = self._paddle
        pairs = [(i, p, p.grad) for i, p in enumerate(self.params) if p.grad is not None]
        if not pairs:
            return
        with paddle.no_grad():
            scale = 1.0
            if self.clip_norm is not None:
                # ClipGradByGlobalNorm: g * clip / max(||g||, clip), in float32 like Paddle
                sq = paddle.add_n([(g * g).sum() for _, _, g in pairs])
                norm = float(paddle.sqrt(sq))
                if norm > self.clip_norm:
                    scale = float(
                        np.float32(self.clip_norm) / np.maximum(np.float32(norm), self.clip_norm)
                    )
            self._advance(1)
            # the betas and their complements rounded to float32 as Paddle's kernel has them
            b1, b2 = np.float32(self.beta1), np.float32(self.beta2)
            c1, c2 = float(np.float32(1) - b1), float(np.float32(1) - b2)
            b1, b2 = float(b1), float(b2)
            b1_pow, b2_pow = (float(x) for x in self._pows)
            lr_t = self.lr * math.sqrt(1.0 - b2_pow) / (1.0 - b1_pow)
            eps_t = self.eps * math.sqrt(1.0 - b2_pow)
            decay = 1.0 - self.lr * self.weight_decay
            for i, p, g in pairs:
                if scale != 1.0:
                    g = g * scale
                m, v = self.m[i], self.v[i]
                m.scale_(b1).add_(g * c1)
                v.scale_(b2).add_(g * g * c2)
                if self.weight_decay:
                    p.scale_(decay)
                p.subtract_(m / (v.sqrt() + eps_t) * lr_t)

    def _advance(self, n: int) -> None:
        # float32 products, step by step, as Paddle's beta-power accumulators: the bias
        # correction then rounds the same way
        b1, b2 = self._pows
        for _ in range(n):
            b1, b2 = b1 * np.float32(self.beta1), b2 * np.float32(self.beta2)
        self._pows = (b1, b2)
        self.t += n

    # --- persistence ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Moments as tensors keyed like Paddle's optimiser, the step count as a plain int."""
        out: dict = {STEP_KEY: self.t}
        for p, m, v in zip(self.params, self.m, self.v):
            out[f"{p.name}_moment1_0"] = m
            out[f"{p.name}_moment2_0"] = v
        return out

    def set_state_dict(self, state: dict) -> None:
        """Restore moments and step; a key that is missing or mis-shaped raises ValueError."""
        paddle = self._paddle
        for i, p in enumerate(self.params):
            for name, store in (("moment1_0", self.m), ("moment2_0", self.v)):
                key = f"{p.name}_{name}"
                if key not in state:
                    raise ValueError(f"optimizer state has no {key!r}")
                value = np.asarray(
                    state[key].numpy() if hasattr(state[key], "numpy") else state[key],
                    dtype=np.float32,
                )
                if tuple(value.shape) != tuple(p.shape):
                    raise ValueError(f"{key}: shape {value.shape} is not {tuple(p.shape)}")
                store[i] = paddle.to_tensor(value)
        if STEP_KEY in state:
            t = int(state[STEP_KEY])
        else:  # written by paddle.optimizer.AdamW: the step is in beta1's power
            key = f"{self.params[0].name}_beta1_pow_acc_0" if self.params else ""
            if key not in state:
                raise ValueError("optimizer state has no step count")
            pow1 = float(np.asarray(getattr(state[key], "numpy", lambda: state[key])()).ravel()[0])
            # Paddle stores beta1^(t+1) after t updates (it starts at beta1)
            t = max(0, round(math.log(pow1) / math.log(self.beta1)) - 1)
        self.t, self._pows = 0, (np.float32(1.0), np.float32(1.0))
        self._advance(t)
