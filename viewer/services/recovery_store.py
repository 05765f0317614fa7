"""The on-disk recovery area: one folder per running session with labels, segments and meta.

Layout: `<data dir>/recovery/session-<pid>-<time>/` holding `labels.bin` (zlib-compressed raw
label array), `segments.json`, `meta.json` (written last: a folder without it is incomplete)
and `lock`, which the live session holds locked (fcntl) so a later start can tell a crashed
session (lock free) from another running instance (lock held).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from viewer.errors import LoadError
from viewer.io.atomic_save import atomic_write_bytes, atomic_write_text
from viewer.model.geometry import Geometry
from viewer.model.segments import Segment
from viewer.services import recovery_check
from viewer.services.recovery_check import DamagedRecovery

try:
    import fcntl
except ImportError:  # Windows: fall back to "is the pid alive"
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT_VERSION = recovery_check.FORMAT_VERSION


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
    geometry: Geometry | None = None  # the grid the labels were drawn on (None: not recorded)

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


def find_recoverable(
    root: Path | None = None, set_aside: list[str] | None = None
) -> list[RecoveryEntry]:
    """Autosaves left by sessions that did not exit cleanly, newest first. Each is checked in
    full (`recovery_check`); a damaged one is moved into `quarantine/` and one line naming it
    and the problem goes to `set_aside` (and the log), so it is reported once."""
    root = Path(root) if root is not None else recovery_root()
    out = []
    for folder in sorted(root.glob("session-*")) if root.is_dir() else []:
        try:
            if folder.is_symlink():  # sessions write real folders: a link leads elsewhere
                raise DamagedRecovery("a link, not a session folder")
            if not (folder / "meta.json").exists() or _locked_by_owner(folder):
                continue  # meta.json is written last: without it the folder is not complete
            meta, _segments, _ = recovery_check.check_folder(folder)
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
                    geometry=_recorded_geometry(meta),
                )
            )
        except DamagedRecovery as e:
            _set_aside(folder, e.reason, set_aside)
        except OSError as e:  # unreadable (permissions, I/O): not offered, left where it is
            log.warning("recovery folder %s cannot be read: %s", folder, e)
    return sorted(out, key=lambda e: e.saved_at, reverse=True)


def _recorded_geometry(meta: dict) -> Geometry | None:
    try:
        return Geometry.from_dict(meta["geometry"])
    except (KeyError, TypeError, ValueError):  # older autosaves wrote none
        return None


def fits_grid(entry: RecoveryEntry, geometry: Geometry) -> bool:
    """The entry's labels belong on `geometry`: the same shape and, when the autosave recorded
    its grid, the same spacing, origin and direction (a same-sized other image is not enough)."""
    if tuple(entry.shape_zyx) != tuple(geometry.shape_zyx):
        return False
    return entry.geometry is None or entry.geometry.same_grid(geometry)


def _locked_by_owner(folder: Path) -> bool:
    """The folder's lock is held: another running instance is writing it (do not read it)."""
    return fcntl is not None and (folder / "lock").exists() and _owner_alive(folder, -1)


def _set_aside(folder: Path, reason: str, notes: list[str] | None) -> Path | None:
    moved = recovery_check.set_aside(folder, reason)
    if notes is not None:
        where = moved if moved is not None else folder
        notes.append(f"damaged autosave set aside ({reason}): {where}")
    return moved


def recover(entry: RecoveryEntry) -> tuple[np.ndarray, list[Segment]]:
    """The label array and segment table saved in `entry`, checked again in full (the folder
    may have changed since it was offered); LoadError when damaged, and the folder is then
    set aside so it is not offered again."""
    try:
        meta, segments, raw = recovery_check.check_folder(entry.folder, keep_labels=True)
    except DamagedRecovery as e:
        moved = _set_aside(entry.folder, e.reason, None)
        raise LoadError(
            f"recovery data is damaged ({e.reason}); set aside as {moved or entry.folder}",
            str(entry.folder),
        ) from None
    except OSError as e:
        raise LoadError(f"recovery data cannot be read ({e})", str(entry.folder)) from e
    arr = np.frombuffer(raw, dtype=np.dtype(meta["dtype"])).reshape(meta["shape"]).copy()
    return arr, segments


def discard(entry: RecoveryEntry) -> None:
    """Delete a recovery entry (the user declined, or recovered and saved it)."""
    if entry.folder.is_symlink():  # remove the link itself, never what it points to
        entry.folder.unlink(missing_ok=True)
        return
    shutil.rmtree(entry.folder, ignore_errors=True)
