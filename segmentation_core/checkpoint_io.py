"""Checkpoint files that cannot carry code: safetensors for tensors, JSON for everything else.

`paddle.save`/`paddle.load` on `.pdparams`/`.pdopt` are `pickle`: a crafted checkpoint runs code
when it is loaded. Everything this project writes or reads for training (network weights,
optimiser state, `--init-from`, resuming from `--out`) therefore goes through safetensors (an
8-byte header length, a JSON header of names, dtypes and shapes, then raw little-endian data;
parsed by the Rust `safetensors` library) plus a JSON manifest written beside it. Pickle files are
refused by name and by content before anything is opened with a loader that could unpickle;
`paddle.load`, `pickle` and `np.load(allow_pickle=True)` are never called on a user's path.

The exported inference model (`model.json` + `model.pdiparams`, see `model_store`) is loaded by
Paddle's C++ Predictor: the graph is JSON, and `.pdiparams` is a stream of dense tensors, each a
uint32 version that must be 0, a protobuf TensorDesc and raw data
(paddle/phi/core/framework/dense_tensor_serialize.cc). No pickle is involved: a pickle file given
as `model.pdiparams` is rejected by that reader ("Expected version == 0U") without running it,
which `tests/training/test_checkpoint_safety.py` checks.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

PICKLE_SUFFIXES = (".pdparams", ".pdopt", ".pkl", ".pickle", ".pt", ".pth")
MAX_HEADER_BYTES = 100 << 20  # the safetensors library's own limit for its JSON header


class CheckpointError(ValueError):
    """A checkpoint that is refused or unreadable; `reason` is one line, `path` the file."""

    def __init__(self, reason: str, path: str | os.PathLike = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = str(path)


def looks_like_pickle(head: bytes) -> bool:
    # protocol 2+ pickles start with PROTO (0x80) and a version byte; paddle.save uses 4
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def check_checkpoint_file(path: str | os.PathLike) -> Path:
    """`path` as a safetensors checkpoint that may be opened: a regular file, not a pickle,
    with a plausible safetensors header. Raises CheckpointError otherwise (no loader runs)."""
    p = Path(path)
    if p.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"pickle checkpoints are refused ({p.suffix} files can run code when loaded); "
            "give a .safetensors checkpoint written by this version",
            p,
        )
    try:
        st = os.stat(p)
    except OSError as e:
        raise CheckpointError(f"cannot open checkpoint ({e.strerror or e})", p) from None
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError("checkpoint is not a regular file", p)
    with open(p, "rb") as f:
        head = f.read(8)
    if looks_like_pickle(head):
        raise CheckpointError(
            "pickle checkpoints are refused (this file is a pickle, which can run code when "
            "loaded); give a .safetensors checkpoint written by this version",
            p,
        )
    size = int.from_bytes(head, "little") if len(head) == 8 else -1
    if size < 2 or size > min(MAX_HEADER_BYTES, st.st_size - 8):
        raise CheckpointError("not a safetensors checkpoint (bad header length)", p)
    return p


def _safetensors() -> tuple[Callable, Callable, tuple[type[Exception], ...]]:
    """(load_file, save_file, the errors a bad file raises): the `safetensors` library, or
    where it is not installed (the GPU machine of docs/gpu_training.md) the numpy reader and
    writer of the same format."""
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file, save_file
    except ImportError:
        from segmentation_core.safetensors_numpy import load_file, save_file

        return load_file, save_file, (OSError, ValueError)
    return load_file, save_file, (SafetensorError, OSError, ValueError)


def load_tensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The named arrays in a safetensors file (checked first with `check_checkpoint_file`)."""
    load_file, _, errors = _safetensors()
    p = check_checkpoint_file(path)
    try:
        return load_file(str(p))
    except errors as e:
        raise CheckpointError(f"not a readable safetensors checkpoint ({e})", p) from None


def _replace_atomically(p: Path, write: Callable[[str], None]) -> Path:
    """`write(tmp)` a temporary file beside `p`, fsync it, then rename it over `p`; on any
    failure the temporary file goes and the old `p` stays."""
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def save_tensors(path: str | os.PathLike, tensors: dict[str, np.ndarray]) -> Path:
    """Write `tensors` to `path` atomically: a temporary file in the same folder, fsynced, read
    back and compared, then renamed over the target (a full disk leaves the old file)."""
    load_file, save_file, _ = _safetensors()
    p = Path(path)
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}

    def write(tmp: str) -> None:
        save_file(arrays, tmp)
        back = load_file(tmp)
        if back.keys() != arrays.keys() or not all(
            back[k].dtype == v.dtype and np.array_equal(back[k], v) for k, v in arrays.items()
        ):
            raise CheckpointError("checkpoint read back differs from what was written", p)

    return _replace_atomically(p, write)


def write_json(path: str | os.PathLike, data: dict) -> Path:
    """Write `data` as JSON atomically (temporary file, fsync, rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, allow_nan=False)

    return _replace_atomically(Path(path), write)


def read_json(path: str | os.PathLike, limit: int = 64 << 20) -> dict:
    """A JSON object from `path`, size-capped, with deep nesting refused (no traceback)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise CheckpointError(f"cannot read ({e.strerror or e})", p) from None
    if len(data) > limit:
        raise CheckpointError(f"larger than {limit} bytes", p)
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise CheckpointError("JSON nested too deeply", p) from None
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"not valid JSON ({e})", p) from None
    if not isinstance(value, dict):
        raise CheckpointError("expected a JSON object", p)
    return value
