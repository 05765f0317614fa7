"""safetensors files read and written with numpy alone: the fallback of `checkpoint_io` where the
`safetensors` package is missing (the GPU machine of docs/gpu_training.md has torch, numpy and
scipy, nothing else of ours).

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
N, N bytes of JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{...}}` (offsets relative to the end of the header), then the raw little-endian, C-ordered
tensor bytes. Files written here are read by the library and the other way round
(`tests/core/test_safetensors_numpy.py`).
"""

from __future__ import annotations

import json
import os

import numpy as np

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
MAX_HEADER_BYTES = 100 << 20


def save_file(tensors: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write `tensors` (names sorted, as the library does) to `path`."""
    header: dict = {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        code = _CODES.get(a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype)
        if code is None:
            raise ValueError(f"{name}: dtype {a.dtype} is not storable")
        raw = a.astype(_DTYPES[code], copy=False).tobytes()
        header[name] = {
            "dtype": code,
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the library aligns the data to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file; ValueError for anything malformed."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("file shorter than the header length")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise ValueError("header length out of range")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    body = memoryview(data)[8 + n :]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = np.dtype(_DTYPES[spec["dtype"]])
            shape = tuple(int(d) for d in spec["shape"])
            begin, end = (int(v) for v in spec["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}: bad header entry") from None
        count = int(np.prod(shape)) if shape else 1
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(body):
            raise ValueError(f"{name}: data offsets out of range")
        if end - begin != count * dtype.itemsize:
            raise ValueError(f"{name}: {end - begin} bytes for shape {shape} of {spec['dtype']}")
        out[name] = (
            np.frombuffer(body[begin:end], dtype=dtype)
            .reshape(shape)
            .astype(dtype.newbyteorder("="), copy=True)
        )
    return out
