"""Weights between the Paddle network and its PyTorch twin (numpy + safetensors; no torch).

`segmentation_core.network.InteractiveUNet3D` (Paddle) and
`segmentation_core.training.twin.network.TwinUNet3D` (PyTorch, used only to train on a GPU
machine without Paddle) have the same layers under the same module paths, so their state-dict
keys match one to one except for the instance norms' affine scale: Paddle names it `scale`,
PyTorch `weight`. Every tensor keeps its layout: both store a convolution as [out, in, kz, ky,
kx] and a transposed convolution as [in, out, kz, ky, kx] (only a Linear layer, which this
network has none of, would need a transpose). The instance norms keep no running statistics
on either side (Paddle's InstanceNorm3D has none; the twin sets track_running_stats=False).

This module owns the mapping: the expected keys and shapes for given widths, the conversion
both ways, and reading/writing a twin `.safetensors` file with every name and shape checked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import CheckpointError, load_tensors, save_tensors
from segmentation_core.encoding import IN_CHANNELS

DEFAULT_WIDTHS = (8, 16, 32, 64)  # as segmentation_core.network (which imports Paddle)
_NORM_SLOTS = (1, 4)  # the InstanceNorm3D positions inside a ConvBlock's Sequential
_CONV_SLOTS = (0, 3)


def _block(prefix: str, cin: int, cout: int) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for conv, norm in zip(_CONV_SLOTS, _NORM_SLOTS):
        c_in = cin if conv == 0 else cout
        out[f"{prefix}.body.{conv}.weight"] = (cout, c_in, 3, 3, 3)
        out[f"{prefix}.body.{conv}.bias"] = (cout,)
        out[f"{prefix}.body.{norm}.scale"] = (cout,)
        out[f"{prefix}.body.{norm}.bias"] = (cout,)
    return out


def paddle_shapes(
    widths: Sequence[int] = DEFAULT_WIDTHS, in_channels: int = IN_CHANNELS
) -> dict[str, tuple[int, ...]]:
    """The Paddle network's state-dict keys and shapes, in its parameter order."""
    widths = tuple(int(w) for w in widths)
    out: dict[str, tuple[int, ...]] = {}
    cin = in_channels
    for i, w in enumerate(widths):
        out.update(_block(f"down.{i}", cin, w))
        cin = w
    pairs = list(zip(widths[::-1][:-1], widths[::-1][1:]))
    for i, (hi, lo) in enumerate(pairs):
        out[f"up.{i}.weight"] = (hi, lo, 2, 2, 2)
        out[f"up.{i}.bias"] = (lo,)
    for i, (_, lo) in enumerate(pairs):
        out.update(_block(f"dec.{i}", 2 * lo, lo))
    out["head.weight"] = (1, widths[0], 1, 1, 1)
    out["head.bias"] = (1,)
    return out


def twin_key(paddle_key: str) -> str:
    """The twin's name for a Paddle state-dict key."""
    return paddle_key[: -len(".scale")] + ".weight" if paddle_key.endswith(".scale") else paddle_key


def paddle_key(twin_name: str) -> str:
    """The Paddle name for a twin state-dict key (inverse of `twin_key` for this network)."""
    parts = twin_name.split(".")
    if len(parts) == 5 and parts[2] == "body" and int(parts[3]) in _NORM_SLOTS:
        if parts[4] == "weight":
            return ".".join(parts[:4] + ["scale"])
    return twin_name


def twin_shapes(
    widths: Sequence[int] = DEFAULT_WIDTHS, in_channels: int = IN_CHANNELS
) -> dict[str, tuple[int, ...]]:
    """The twin's state-dict keys and shapes (the same tensors under the twin's names)."""
    return {twin_key(k): s for k, s in paddle_shapes(widths, in_channels).items()}


def _checked(
    state: dict, expected: dict[str, tuple[int, ...]], path: str | os.PathLike = ""
) -> None:
    missing = [k for k in expected if k not in state]
    extra = sorted(set(state) - set(expected))
    if missing:
        raise CheckpointError(f"no tensor {missing[0]!r} ({len(missing)} missing)", path)
    if extra:
        raise CheckpointError(f"unexpected tensor {extra[0]!r} ({len(extra)} extra)", path)
    for key, shape in expected.items():
        got = tuple(np.shape(state[key]))
        if got != shape:
            raise CheckpointError(f"{key}: shape {got} is not {shape}", path)
        if np.asarray(state[key]).dtype != np.float32:
            raise CheckpointError(
                f"{key}: dtype {np.asarray(state[key]).dtype} is not float32", path
            )
        if not np.isfinite(state[key]).all():
            raise CheckpointError(f"{key}: holds NaN or infinite values", path)


def paddle_to_twin(
    state: dict[str, np.ndarray],
    widths: Sequence[int] = DEFAULT_WIDTHS,
    in_channels: int = IN_CHANNELS,
) -> dict[str, np.ndarray]:
    """A Paddle state dict (numpy arrays, or tensors with `.numpy()`) under the twin's names."""
    arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state.items()}
    _checked(arrays, paddle_shapes(widths, in_channels))
    return {twin_key(k): np.ascontiguousarray(v) for k, v in arrays.items()}


def twin_to_paddle(
    state: dict[str, np.ndarray],
    widths: Sequence[int] = DEFAULT_WIDTHS,
    in_channels: int = IN_CHANNELS,
    path: str | os.PathLike = "",
) -> dict[str, np.ndarray]:
    """A twin state dict (numpy arrays) under the Paddle network's names, in its order."""
    _checked(state, twin_shapes(widths, in_channels), path)
    return {k: np.ascontiguousarray(state[twin_key(k)]) for k in paddle_shapes(widths, in_channels)}


def infer_widths(state: dict[str, np.ndarray]) -> tuple[tuple[int, ...], int]:
    """(widths, in_channels) of a twin or Paddle state dict, read from its encoder convs."""
    widths, i = [], 0
    while f"down.{i}.body.0.weight" in state:
        shape = np.shape(state[f"down.{i}.body.0.weight"])
        if len(shape) != 5:
            raise CheckpointError(
                f"down.{i}.body.0.weight: shape {tuple(shape)} is not a 3D conv's"
            )
        widths.append(int(shape[0]))
        i += 1
    if not widths:
        raise CheckpointError("no encoder weights (down.0.body.0.weight) in these weights")
    return tuple(widths), int(np.shape(state["down.0.body.0.weight"])[1])


def read_twin_weights(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """(Paddle state dict, widths) from a twin `.safetensors` file; CheckpointError naming the
    file for a pickle, an unreadable file, or a missing, extra or misshapen tensor."""
    p = Path(path)
    state = load_tensors(p)
    try:
        widths, in_channels = infer_widths(state)
    except CheckpointError as e:
        raise CheckpointError(e.reason, p) from None
    if in_channels != IN_CHANNELS:
        raise CheckpointError(
            f"weights take {in_channels} input channels; this version encodes {IN_CHANNELS}", p
        )
    return twin_to_paddle(state, widths, in_channels, p), widths


def write_twin_weights(
    path: str | os.PathLike,
    paddle_state: dict[str, np.ndarray],
    widths: Sequence[int] = DEFAULT_WIDTHS,
) -> Path:
    """Write a Paddle state dict as a twin `.safetensors` file (atomic, read back)."""
    return save_tensors(path, paddle_to_twin(paddle_state, widths))


def export_twin_model(
    paddle_state: dict[str, np.ndarray],
    widths: Sequence[int],
    out_dir: str | os.PathLike,
    meta: dict,
) -> Path:
    """Publish the weights as a product model folder: the Paddle network built with them and
    exported by `model_store.export_inference_model` (graph, .pdiparams, weights, meta)."""
    from segmentation_core.model_store import export_inference_model
    from segmentation_core.network import InteractiveUNet3D

    net = InteractiveUNet3D(tuple(widths))
    net.set_state_dict(paddle_state)
    return export_inference_model(net, Path(out_dir), meta)
