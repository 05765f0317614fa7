"""The on-disk recovery area: one folder per running session with labels, segments and meta.

Layout: `<data dir>/recovery/session-<pid>-<time>/` holding `labels.bin` (zlib-compressed raw
label array), `segments.json`, `meta.json` (written last: a folder without it is incomplete)
and `lock`, which the live session holds locked (fcntl) so a later start can tell a crashed
session (lock free) from another running instance (lock held).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from viewer.errors import LoadError
from viewer.io.atomic_save import atomic_write_bytes, atomic_write_text
from viewer.model.segments import Segment

try:
    import fcntl
except ImportError:  # Windows: fall back to "is the pid alive"
    fcntl = None  # type: ignore[assignment]

FORMAT_VERSION = 1


def data_dir() -> Path:
    """The per-user data folder (RADLABEL_DATA_DIR overrides, as for logs and settings)."""
    override = os.environ.get("RADLABEL_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("RadLabel", appauthor=False))


def recovery_root() -> Path:
    return data_dir() / "recovery"


@dataclass(frozen=True)
class RecoveryEntry:
    """A crashed session's autosave, as offered to the user at start."""

    folder: Path
    image_path: str
    label_path: str
    saved_at: float
    shape_zyx: tuple[int, int, int]
    segment_count: int
    pid: int
    series_uid: str = ""  # the DICOM series the labels belong to ("" for image files)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        # the full path: many datasets call every image "image.nii.gz"
        image = self.image_path or "(unsaved image)"
        return f"{image}: labels autosaved {when}, {self.segment_count} segments"


class SessionFolder:
    """The recovery folder of this running session (created on first write); `tag` tells the
    folders of one session's documents apart."""

    def __init__(self, root: Path | None = None, tag: str = "") -> None:
        self.root = Path(root) if root is not None else recovery_root()
        name = f"session-{os.getpid()}-{int(time.time() * 1000)}" + (f"-{tag}" if tag else "")
        self.folder = self.root / name
        self._lock_fd: int | None = None

    def _ensure(self) -> None:
        if self._lock_fd is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def write(self, labels: np.ndarray, segments: list[Segment], meta: dict) -> None:
        self._ensure()
        header = {
            "version": FORMAT_VERSION,
            "shape": list(labels.shape),
            "dtype": str(labels.dtype),
            "saved_at": time.time(),
            "pid": os.getpid(),
            **meta,
        }
        data = zlib.compress(np.ascontiguousarray(labels).tobytes(), 1)
        atomic_write_bytes(self.folder / "labels.bin", data)
        atomic_write_text(self.folder / "segments.json", json.dumps([asdict(s) for s in segments]))
        atomic_write_text(self.folder / "meta.json", json.dumps(header, indent=1))

    def close(self) -> None:
        """Release the lock but keep the files (they become recoverable)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def remove(self) -> None:
        """A clean exit: nothing to recover."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _owner_alive(folder: Path, pid: int) -> bool:
    lock = folder / "lock"
    if fcntl is not None and lock.exists():
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def find_recoverable(root: Path | None = None) -> list[RecoveryEntry]:
    """Autosaves left by sessions that did not exit cleanly, newest first."""
    root = Path(root) if root is not None else recovery_root()
    out = []
    for folder in sorted(root.glob("session-*")) if root.is_dir() else []:
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if not (folder / "labels.bin").exists():
                continue
            pid = int(meta.get("pid", -1))
            if _owner_alive(folder, pid):
                continue
            out.append(
                RecoveryEntry(
                    folder=folder,
                    image_path=str(meta.get("image_path", "")),
                    label_path=str(meta.get("label_path", "")),
                    saved_at=float(meta.get("saved_at", 0.0)),
                    shape_zyx=tuple(int(s) for s in meta["shape"]),  # type: ignore[arg-type]
                    segment_count=int(meta.get("segment_count", 0)),
                    pid=pid,
                    series_uid=str(meta.get("series_uid", "")),
                )
            )
        except (OSError, ValueError, KeyError):
            continue  # an incomplete or foreign folder: not offered
    return sorted(out, key=lambda e: e.saved_at, reverse=True)


def recover(entry: RecoveryEntry) -> tuple[np.ndarray, list[Segment]]:
    """The label array and segment table saved in `entry`; LoadError when damaged."""
    try:
        meta = json.loads((entry.folder / "meta.json").read_text(encoding="utf-8"))
        raw = zlib.decompress((entry.folder / "labels.bin").read_bytes())
        arr = np.frombuffer(raw, dtype=np.dtype(meta["dtype"])).reshape(meta["shape"]).copy()
        segs = json.loads((entry.folder / "segments.json").read_text(encoding="utf-8"))
        segments = [
            Segment(
                int(s["id"]),
                str(s["name"]),
                tuple(s["colour"]),
                bool(s["visible"]),
                bool(s["locked"]),
            )
            for s in segs
        ]
    except (OSError, ValueError, KeyError, zlib.error) as e:
        raise LoadError(f"recovery data is damaged ({e})", str(entry.folder)) from e
    return arr, segments


def discard(entry: RecoveryEntry) -> None:
    """Delete a recovery entry (the user declined, or recovered and saved it)."""
    shutil.rmtree(entry.folder, ignore_errors=True)
