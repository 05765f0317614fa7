"""Saving and resuming one stage's training: weights and optimiser moments as safetensors, the
rest (step, elapsed time, history, random state, finished flag) as JSON. No pickle anywhere
(`segmentation_core.checkpoint_io`). Tensors are keyed by the network's structured parameter
names, which are the same in every process (Paddle's own tensor names are not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import load_tensors, read_json, save_tensors, write_json

WEIGHTS = "checkpoint.safetensors"
STATE = "checkpoint.json"


def has_checkpoint(folder: Path) -> bool:
    return (Path(folder) / STATE).is_file() and (Path(folder) / WEIGHTS).is_file()


def save_checkpoint(folder: Path, net, opt, state: dict) -> None:
    """Weights + moments first, then the JSON that names them (a crash between the two leaves
    the previous JSON pointing at weights at least as new: resuming stays consistent enough)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, p in net.named_parameters():
        tensors[f"net/{name}"] = p.numpy()
    for name, buf in net.named_buffers():
        tensors[f"buf/{name}"] = buf.numpy()
    names = [n for n, p in net.named_parameters() if not p.stop_gradient]
    for name, m, v in zip(names, opt.m, opt.v):
        tensors[f"m/{name}"] = m.numpy()
        tensors[f"v/{name}"] = v.numpy()
    save_tensors(folder / WEIGHTS, tensors)
    write_json(folder / STATE, {**state, "opt_t": opt.t, "lr": opt.get_lr()})


def load_checkpoint(folder: Path, net, opt) -> dict:
    """Restore `net` and `opt` from `folder`; returns the JSON state."""
    import paddle

    folder = Path(folder)
    state = read_json(folder / STATE)
    tensors = load_tensors(folder / WEIGHTS)
    for name, p in net.named_parameters():
        value = tensors.get(f"net/{name}")
        if value is None or tuple(value.shape) != tuple(p.shape):
            raise ValueError(f"{folder / WEIGHTS}: no matching weights for {name}")
        p.set_value(value.astype(np.float32))
    for name, buf in net.named_buffers():
        if f"buf/{name}" in tensors:
            buf.set_value(tensors[f"buf/{name}"])
    names = [n for n, p in net.named_parameters() if not p.stop_gradient]
    for i, name in enumerate(names):
        opt.m[i] = paddle.to_tensor(tensors[f"m/{name}"])
        opt.v[i] = paddle.to_tensor(tensors[f"v/{name}"])
    opt.t, opt._pows = 0, (np.float32(1.0), np.float32(1.0))
    opt._advance(int(state.get("opt_t", 0)))
    return state
