"""The numpy safetensors reader/writer (checkpoint_io's fallback where the library is missing,
as on the GPU machine) reads the library's files and writes files the library reads, exactly;
malformed files are refused with ValueError."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file as lib_load
from safetensors.numpy import save_file as lib_save

from segmentation_core.safetensors_numpy import load_file, save_file


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "down.0.body.0.weight": rng.normal(size=(8, 6, 3, 3, 3)).astype(np.float32),
        "head.bias": np.array([0.25], np.float32),
        "codes": rng.integers(0, 255, (3, 4, 5)).astype(np.uint8),
        "half": rng.normal(size=(7,)).astype(np.float16),
        "double": rng.normal(size=(2, 2)),
        "big": rng.integers(-(2**40), 2**40, (2, 3)).astype(np.int64),
        "empty": np.zeros((0, 4), np.float32),
        "flags": np.array([True, False, True]),
    }


def _same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), k


def test_the_library_reads_what_numpy_writes(tmp_path):
    t = _tensors()
    save_file(t, tmp_path / "a.safetensors")
    _same(lib_load(str(tmp_path / "a.safetensors")), t)


def test_numpy_reads_what_the_library_writes(tmp_path):
    t = _tensors()
    lib_save(t, str(tmp_path / "b.safetensors"), metadata={"format": "np"})
    _same(load_file(tmp_path / "b.safetensors"), t)


def test_a_big_endian_array_is_stored_little_endian(tmp_path):
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    save_file({"a": a}, tmp_path / "c.safetensors")
    back = lib_load(str(tmp_path / "c.safetensors"))["a"]
    assert back.dtype == np.float32 and np.array_equal(back, a)


def _raw(header: str, body: int) -> bytes:
    return len(header).to_bytes(8, "little") + header.encode() + b"\0" * body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01", "file shorter than the header length"),
        ((10**9).to_bytes(8, "little") + b"{}", "header length out of range"),
        ((4).to_bytes(8, "little") + b"nope", "header is not JSON"),
        ((2).to_bytes(8, "little") + b"[]", "header is not a JSON object"),
        (_raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 4), "a: data offsets"),
        (
            _raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8),
            "a: 8 bytes for shape (3,) of F32",
        ),
        (_raw('{"a":{"dtype":"X32","shape":[2],"data_offsets":[0,8]}}', 8), "a: bad header entry"),
    ],
)
def test_malformed_files_are_refused(tmp_path, data, message):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(data)
    with pytest.raises(ValueError) as e:
        load_file(p)
    assert str(e.value).startswith(message)
