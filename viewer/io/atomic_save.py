"""Atomic file replacement: write beside the target, flush + fsync, then rename over it.

A crash, a full disk or an exception in the writer at any point leaves the previous file as it
was (the temporary file is removed) and raises `SaveError` naming the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from viewer.errors import SaveError


def _suffixes(path: Path) -> str:
    # keep compound suffixes (.nii.gz, .seg.nrrd): writers pick the format from the name
    return "".join(path.suffixes[-2:]) if len(path.suffixes) >= 2 else path.suffix


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, writer: Callable[[str], None]) -> Path:
    """Call `writer(temp_path)` to produce the file, then atomically move it to `path`.

    The temporary file lives in the target's folder (so the final rename never crosses file
    systems) and keeps the target's suffix so format-sniffing writers behave.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SaveError("the folder does not exist", str(target))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp" + _suffixes(target), dir=folder
        )
    except OSError as e:
        raise SaveError(f"cannot write in this folder ({e.strerror or e})", str(target)) from e
    os.close(fd)
    try:
        writer(tmp)
        if not os.path.exists(tmp):
            raise SaveError("the writer produced no file", str(target))
        _fsync_file(tmp)
        os.replace(tmp, target)
    except SaveError:
        _remove_quietly(tmp)
        raise
    except BaseException as e:
        _remove_quietly(tmp)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
        raise SaveError(f"save failed, previous file kept ({reason})", str(target)) from e
    _fsync_dir(folder)
    return target


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically replace `path` with `data`."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def save_labels_atomic(path: str | os.PathLike, labels, segments=None) -> Path:
    """Save a label map (any format `viewer.io.label_formats.save_labels` knows) atomically.

    Every label writer there already goes through `atomic_write`; wrapping it again would only
    add a second temporary file and fsync.
    """
    from viewer.io.label_formats import save_labels

    return Path(save_labels(path, labels, segments))
