"""Strict checks of a recovery folder before anything in it is trusted, and setting bad ones aside.

A recovery folder is read at every start, so a damaged one (a crash mid-write, a full disk, a
hand edit, a hostile file) must never stop the application: `meta.json` and `segments.json` are
read with a size cap and must match a schema (types, ranges, a shape that fits the dtype and the
byte count), and `labels.bin` is inflated in bounded pieces that stop one byte past the size the
meta claims (a zlib bomb costs at most that). A folder that fails is renamed into
`<recovery root>/quarantine/` so it is reported once, not at every start.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import time
import zlib
from pathlib import Path

import numpy as np

from viewer.model.segments import Segment

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
QUARANTINE = "quarantine"
MAX_META_BYTES = 1 << 20  # meta.json: paths, a geometry card and a few numbers
MAX_SEGMENTS_BYTES = 32 << 20  # segments.json: up to 65,535 segments with long names
MAX_VOXELS = 1 << 31  # as ITK: larger label arrays are not something this app autosaves
LABEL_DTYPES = ("uint16",)  # what `LabelMap` holds (and so what the autosave writes)
_CHUNK = 1 << 20


class DamagedRecovery(ValueError):
    """A recovery folder that cannot be trusted; `reason` is one line naming the file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _regular_file(path: Path) -> os.stat_result:
    """lstat `path` and insist on a regular file: a FIFO would block the start, a symlink or a
    device would read something that is not the autosave."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise DamagedRecovery(f"{path.name} is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise DamagedRecovery(f"{path.name} is not a regular file")
    return st


def read_json_file(path: Path, limit: int):
    """The JSON value in `path`, refused when larger than `limit` bytes, not UTF-8 JSON, or
    nested too deeply for the parser (a RecursionError, caught)."""
    _regular_file(path)
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise DamagedRecovery(f"{path.name} is larger than {limit} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise DamagedRecovery(f"{path.name} is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise DamagedRecovery(f"{path.name} is not valid JSON ({e})") from None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def validate_meta(meta) -> dict:
    """`meta` checked against the schema `SessionFolder.write` produces; unknown keys are kept
    as they are (a later version may add fields), known ones must have their type."""
    if not isinstance(meta, dict):
        raise DamagedRecovery(f"meta.json holds a {type(meta).__name__}, not an object")
    if meta.get("version") != FORMAT_VERSION or not _is_int(meta.get("version")):
        raise DamagedRecovery(f"meta.json: unknown format version {meta.get('version')!r}")
    shape = meta.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or not all(_is_int(s) and 0 < s <= MAX_VOXELS for s in shape)
    ):
        raise DamagedRecovery(f"meta.json: shape must be 3 positive integers, not {shape!r}")
    if math.prod(shape) > MAX_VOXELS:
        raise DamagedRecovery(f"meta.json: shape {shape} is larger than {MAX_VOXELS} voxels")
    if meta.get("dtype") not in LABEL_DTYPES:
        raise DamagedRecovery(f"meta.json: label dtype {meta.get('dtype')!r} is not uint16")
    pid = meta.get("pid")
    if not _is_int(pid) or pid <= 0:
        raise DamagedRecovery(f"meta.json: pid must be a positive integer, not {pid!r}")
    if not _is_number(meta.get("saved_at")) or meta["saved_at"] < 0:
        raise DamagedRecovery(f"meta.json: saved_at {meta.get('saved_at')!r} is not a time")
    for key in ("image_path", "label_path", "series_uid"):
        if not isinstance(meta.get(key, ""), str) or "\0" in meta.get(key, ""):
            raise DamagedRecovery(f"meta.json: {key} must be a string")
    count = meta.get("segment_count", 0)
    if not _is_int(count) or not 0 <= count <= 65535:
        raise DamagedRecovery(f"meta.json: segment_count {count!r} is not 0..65535")
    if not isinstance(meta.get("geometry", {}), dict):
        raise DamagedRecovery("meta.json: geometry must be an object")
    return meta


def expected_bytes(meta: dict) -> int:
    """The raw size of the label array a checked `meta` describes (Python ints: no overflow)."""
    return math.prod(meta["shape"]) * np.dtype(meta["dtype"]).itemsize


def validate_segments(data) -> list[Segment]:
    """The segment table in segments.json: unique ids 1..65535, names, RGB colours, flags."""
    if not isinstance(data, list) or len(data) > 65535:
        raise DamagedRecovery("segments.json must hold a list of at most 65,535 segments")
    out: list[Segment] = []
    seen: set[int] = set()
    for i, s in enumerate(data):
        where = f"segments.json: segment {i}"
        if not isinstance(s, dict):
            raise DamagedRecovery(f"{where} is not an object")
        sid, name, colour = s.get("id"), s.get("name"), s.get("colour")
        if not _is_int(sid) or not 0 < sid <= 65535 or sid in seen:
            raise DamagedRecovery(f"{where}: id {sid!r} is not a new value in 1..65535")
        if not isinstance(name, str) or len(name) > 10_000:
            raise DamagedRecovery(f"{where}: name must be a string")
        if (
            not isinstance(colour, list)
            or len(colour) != 3
            or not all(_is_int(c) and 0 <= c <= 255 for c in colour)
        ):
            raise DamagedRecovery(f"{where}: colour must be 3 integers 0..255")
        if not all(isinstance(s.get(k), bool) for k in ("visible", "locked")):
            raise DamagedRecovery(f"{where}: visible and locked must be true or false")
        seen.add(sid)
        out.append(Segment(sid, name, tuple(colour), s["visible"], s["locked"]))
    return out


def inflate_exact(path: Path, expected: int, keep: bool = True) -> bytes:
    """Inflate the zlib stream in `path`, which must give exactly `expected` bytes: output is
    produced in bounded pieces and the read stops at `expected + 1` bytes, so a bomb costs no
    more than a genuine file would. With `keep=False` only the check runs (nothing is kept)."""
    _regular_file(path)
    d = zlib.decompressobj()
    parts: list[bytes] = []
    produced = 0
    try:
        with open(path, "rb") as f:
            pending = b""
            while True:
                if not pending:
                    pending = f.read(_CHUNK)
                    if not pending:
                        break
                out = d.decompress(pending, min(_CHUNK, expected + 1 - produced))
                pending = d.unconsumed_tail
                produced += len(out)
                if produced > expected:
                    raise DamagedRecovery(f"labels.bin inflates to more than {expected} bytes")
                if keep:
                    parts.append(out)
                if d.eof:
                    break
            tail = d.flush(max(1, expected + 1 - produced)) if not d.eof else b""
            produced += len(tail)
            if keep:
                parts.append(tail)
            trailing = d.eof and bool(d.unused_data or f.read(1))
    except zlib.error as e:
        raise DamagedRecovery(f"labels.bin is not a valid zlib stream ({e})") from None
    if produced > expected:
        raise DamagedRecovery(f"labels.bin inflates to more than {expected} bytes")
    if not d.eof:
        raise DamagedRecovery("labels.bin ends early (truncated zlib stream)")
    if trailing:
        raise DamagedRecovery("labels.bin has data after its zlib stream")
    if produced != expected:
        raise DamagedRecovery(f"labels.bin holds {produced} bytes, meta.json says {expected}")
    return b"".join(parts) if keep else b""


def check_folder(folder: Path, keep_labels: bool = False) -> tuple[dict, list[Segment], bytes]:
    """Everything in a recovery folder, checked: (meta, segments, raw labels or b"")."""
    meta = validate_meta(read_json_file(folder / "meta.json", MAX_META_BYTES))
    segments = validate_segments(read_json_file(folder / "segments.json", MAX_SEGMENTS_BYTES))
    raw = inflate_exact(folder / "labels.bin", expected_bytes(meta), keep=keep_labels)
    return meta, segments, raw


def set_aside(folder: Path, reason: str) -> Path | None:
    """Move a damaged recovery folder into `quarantine/` beside it (kept for inspection, never
    offered again) and log why; the new path, or None when it could not be moved."""
    target_dir = folder.parent / QUARANTINE
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = target_dir / f"{folder.name}.bad-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = target_dir / f"{folder.name}.bad-{stamp}-{n}"
    try:
        target_dir.mkdir(exist_ok=True)
        os.replace(folder, target)
    except OSError as e:
        log.warning("damaged recovery folder %s (%s) could not be set aside: %s", folder, reason, e)
        return None
    log.warning("damaged recovery folder %s (%s) set aside as %s", folder, reason, target)
    return target
