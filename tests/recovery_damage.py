"""Damaged recovery folders for the tests of issue 20 item 4: each kind that broke the start."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np

from viewer.model.segments import Segment
from viewer.services.recovery_store import SessionFolder

SHAPE = (4, 6, 8)


def zlib_bomb(mebibytes: int) -> bytes:
    """A valid zlib stream of `mebibytes` MiB of zeros, about 1 KB per MiB, built without
    compressing it all: after a full flush, every 1 MiB block of zeros compresses to the same
    bytes, and the Adler-32 of n zero bytes is ((n mod 65521) << 16) | 1."""
    chunk = bytes(1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert first[2:] == block  # the construction's premise
    n = mebibytes << 20
    adler = ((n % 65521) << 16) | 1
    return first[:2] + block * mebibytes + b"\x03\x00" + adler.to_bytes(4, "big")


def write_session(root: Path, value: int = 1) -> Path:
    """A crashed session's folder: written by the real SessionFolder, lock released."""
    labels = np.zeros(SHAPE, np.uint16)
    labels[1:3, 2:4, 3:6] = value
    session = SessionFolder(root, tag=f"t{value}")
    session.write(labels, [Segment(value, "liver", (200, 100, 50))], {"image_path": "/x.nii"})
    session.close()
    return session.folder


def edit_meta(folder: Path, **changes) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    meta.update(changes)
    (folder / "meta.json").write_text(json.dumps(meta))


def damage(kind: str, folder: Path) -> None:
    if kind == "meta_is_a_list":
        (folder / "meta.json").write_text("[1, 2, 3]")
    elif kind == "shape_is_an_int":
        edit_meta(folder, shape=5)
    elif kind == "pid_is_null":
        edit_meta(folder, pid=None)
    elif kind == "json_200000_deep":
        (folder / "meta.json").write_text("[" * 200_000 + "]" * 200_000)
    elif kind == "bad_dtype":
        edit_meta(folder, dtype="bogus")
    elif kind == "object_dtype":
        edit_meta(folder, dtype="O")
    elif kind == "zlib_bomb_4gb":
        (folder / "labels.bin").write_bytes(zlib_bomb(4096))
    elif kind == "labels_truncated":
        data = (folder / "labels.bin").read_bytes()
        (folder / "labels.bin").write_bytes(data[: len(data) // 2])
    elif kind == "labels_too_short":  # a valid stream, one byte short of the shape
        (folder / "labels.bin").write_bytes(zlib.compress(bytes(2 * 4 * 6 * 8 - 1)))
    elif kind == "shape_overflows":
        edit_meta(folder, shape=[2**31, 2**31, 2**31])
    elif kind == "labels_is_a_fifo":
        os.unlink(folder / "labels.bin")
        os.mkfifo(folder / "labels.bin")
    elif kind == "segments_bad_colour":
        (folder / "segments.json").write_text(json.dumps([{"id": 1, "colour": "red"}]))
    else:
        raise AssertionError(kind)


KINDS = [
    "meta_is_a_list",
    "shape_is_an_int",
    "pid_is_null",
    "json_200000_deep",
    "bad_dtype",
    "object_dtype",
    "zlib_bomb_4gb",
    "labels_truncated",
    "labels_too_short",
    "shape_overflows",
    "labels_is_a_fifo",
    "segments_bad_colour",
]
