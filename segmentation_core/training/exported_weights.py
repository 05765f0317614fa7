"""The weights of an exported model folder, as the network's state dict: what a retrain starts from.

A model folder (`model_store`) holds the traced graph (`model.json`), its parameters
(`model.pdiparams`) and, for models exported by this version, `weights.safetensors` (the state
dict under the network's own keys, written by `export_inference_model`). Older folders (the
shipped base model among them) have only the first two; their parameters are read here without
Paddle's loaders and without running anything from the folder:

- `model.pdiparams` is a stream of dense tensors, each a uint32 version (0), a uint64 LoD level
  count (+ levels), a uint32 version (0), an int32 length and a protobuf `TensorDesc` (field 1
  data type, field 2 dims), then the raw little-endian data
  (paddle/phi/core/framework/dense_tensor_serialize.cc). `paddle.jit.save` writes the
  parameters in the lexicographic order of their names.
- `model.json` names each parameter (`conv3d_14.w_0`) with its shape. The names are Paddle's
  global layer counters, offset by whatever layers the exporting process had built before, so
  they are matched to a freshly built network's parameters by (layer kind, rank of the counter
  within that kind, suffix), and every shape must agree.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import CheckpointError, load_tensors, looks_like_pickle
from segmentation_core.model_store import WEIGHTS_FILE

_FP32 = 5  # paddle VarType.FP32
_NAME = re.compile(r"^(?P<kind>[a-z_0-9]*?)_(?P<index>\d+)\.(?P<suffix>[wb]_\d+)$")
MAX_PARAMS_BYTES = 1 << 30


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        c = buf[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return value, i


def _tensor_desc(desc: bytes) -> tuple[int, list[int]]:
    """(data type, dims) of a serialised `TensorDesc`; other fields are skipped."""
    i, dtype, dims = 0, -1, []
    while i < len(desc):
        key, i = _varint(desc, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(desc, i)
            if field == 1:
                dtype = value
            elif field == 2:
                dims.append(value)
        elif wire == 2:
            length, i = _varint(desc, i)
            end = i + length
            if end > len(desc):
                raise ValueError("truncated TensorDesc")
            while field == 2 and i < end:  # packed dims
                value, i = _varint(desc, i)
                dims.append(value)
            i = end
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return dtype, dims


def read_pdiparams(path: str | Path) -> list[np.ndarray]:
    """The float32 tensors of a `model.pdiparams` stream, in file order."""
    p = Path(path)
    if p.stat().st_size > MAX_PARAMS_BYTES:
        raise CheckpointError("parameter file too large", p)
    raw = p.read_bytes()
    if looks_like_pickle(raw[:2]):
        raise CheckpointError("pickle files are refused (they can run code when loaded)", p)
    out, i = [], 0
    try:
        while i < len(raw):
            (version,) = struct.unpack_from("<I", raw, i)
            (lod_levels,) = struct.unpack_from("<Q", raw, i + 4)
            if version != 0 or lod_levels > 16:
                raise ValueError("not a dense tensor stream")
            i += 12
            for _ in range(lod_levels):
                (size,) = struct.unpack_from("<Q", raw, i)
                i += 8 + size
            (version,) = struct.unpack_from("<I", raw, i)
            (n,) = struct.unpack_from("<i", raw, i + 4)
            if version != 0 or n < 0 or i + 8 + n > len(raw):
                raise ValueError("bad tensor header")
            dtype, dims = _tensor_desc(raw[i + 8 : i + 8 + n])
            i += 8 + n
            if dtype != _FP32:
                raise ValueError(f"tensor data type {dtype} is not float32")
            count = int(np.prod(dims)) if dims else 1
            if i + 4 * count > len(raw):
                raise ValueError("truncated tensor data")
            out.append(np.frombuffer(raw, "<f4", count, i).reshape(dims).astype(np.float32))
            i += 4 * count
    except (struct.error, ValueError) as e:
        raise CheckpointError(f"not a readable model.pdiparams ({e})", p) from None
    return out


def graph_parameters(path: str | Path) -> list[tuple[str, list[int]]]:
    """(name, shape) of every parameter declared in an exported `model.json` (PIR format)."""
    from segmentation_core.checkpoint_io import read_json

    p = Path(path)
    graph = read_json(p)
    out = []
    try:
        for region in graph["program"]["regions"]:
            for block in region["blocks"]:
                for op in block["ops"]:
                    if op.get("#") == "p":  # a parameter op: A[3] its name, O.TT.D[1] its shape
                        out.append((str(op["A"][3]), [int(d) for d in op["O"]["TT"]["D"][1]]))
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise CheckpointError(f"unexpected graph layout ({e!r})", p) from None
    if not out:
        raise CheckpointError("the graph declares no parameters", p)
    return out


def _ranked(names: list[str], path) -> dict[str, tuple[str, int, str]]:
    """name -> (kind, rank of its counter within the kind, suffix)."""
    parsed = {}
    for n in names:
        m = _NAME.match(n)
        if m is None:
            raise CheckpointError(f"unexpected parameter name {n!r}", path)
        parsed[n] = (m["kind"], int(m["index"]), m["suffix"])
    counters: dict[str, list[int]] = {}
    for kind, index, _ in parsed.values():
        counters.setdefault(kind, []).append(index)
    rank = {k: {v: r for r, v in enumerate(sorted(set(vs)))} for k, vs in counters.items()}
    return {n: (k, rank[k][i], s) for n, (k, i, s) in parsed.items()}


def exported_state_dict(model_dir: str | Path, net) -> dict[str, np.ndarray]:
    """`net`'s state dict (its own keys) filled from the exported model in `model_dir`.

    `net` must be a freshly built network of the exported architecture; every parameter must be
    found with its shape, or CheckpointError names the file.
    """
    d = Path(model_dir)
    ref = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    if (d / WEIGHTS_FILE).is_file():
        weights = load_tensors(d / WEIGHTS_FILE)
        for key, shape in ref.items():
            if key not in weights or tuple(weights[key].shape) != shape:
                raise CheckpointError(f"no parameter {key!r} of shape {shape}", d / WEIGHTS_FILE)
        return {k: weights[k] for k in ref}
    graph_path, params_path = d / "model.json", d / "model.pdiparams"
    declared = graph_parameters(graph_path)
    tensors = read_pdiparams(params_path)
    names = sorted(n for n, _ in declared)
    if len(tensors) != len(names):
        raise CheckpointError(
            f"{len(tensors)} tensors for {len(names)} parameters in the graph", params_path
        )
    shapes = dict(declared)
    ranks = _ranked(names, graph_path)
    by_rank = {}
    for name, arr in zip(names, tensors):
        if list(arr.shape) != shapes[name]:
            raise CheckpointError(f"{name}: shape {arr.shape} is not {shapes[name]}", params_path)
        by_rank[ranks[name]] = arr
    own = {k: p.name for k, p in net.named_parameters()}
    own_rank = _ranked(list(own.values()), "network")
    out = {}
    for key, shape in ref.items():
        if key not in own:
            raise CheckpointError(f"the network's {key!r} is not a parameter", graph_path)
        arr = by_rank.get(own_rank[own[key]])
        if arr is None or tuple(arr.shape) != shape:
            raise CheckpointError(f"no parameter for {key!r} of shape {shape}", graph_path)
        out[key] = arr
    return out


def network_from_export(model_dir: str | Path):
    """A fresh `InteractiveUNet3D` with the exported model's widths and weights (eager)."""
    from segmentation_core.model_store import read_meta
    from segmentation_core.network import InteractiveUNet3D

    meta = read_meta(Path(model_dir))
    net = InteractiveUNet3D(tuple(meta.get("widths") or (8, 16, 32, 64)))
    net.set_state_dict(exported_state_dict(model_dir, net))
    return net
