"""Atomic, verified file replacement: write beside the target, check, fsync, then rename over it.

The writer gets a path with the target's own name inside a fresh hidden folder beside the target
(`.NAME.XXXX.tmp/NAME`), so the final rename never crosses file systems, format-sniffing writers
see the right suffix, and writers that make companion files (a MetaImage `.mhd` with its `.raw`)
name them as they will be named. Before anything is renamed every file written is checked: it is
not empty, a gzip stream (`.gz`, gzip-encoded NRRD) decompresses to its end with a good CRC and
length, and the caller's `verify` (a read-back) passes. ITK in particular reports a full disk
only on stderr and leaves a truncated file, so without these checks a failed save looks done.

A crash, a full disk, a failed check or an exception in the writer at any point leaves the
previous file as it was, removes everything temporary and raises `SaveError` naming the target.
Files get the mode a plain `open()` would give them (`0o666 & ~umask`), not mkstemp's 0600.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from viewer.errors import SaveError
from viewer.io.write_check import WriteCheckError, check_stream

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:  # Linux: no window in which another thread could create a file with umask 0
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        old = os.umask(0o022)
        os.umask(old)
    return old


def new_file_mode() -> int:
    """The permission bits `open(path, 'w')` would give a new file."""
    return 0o666 & ~current_umask()


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


def atomic_write(
    path: str | os.PathLike,
    writer: Callable[[str], None],
    verify: Callable[[str], None] | None = None,
    allow_empty: bool = False,
) -> Path:
    """Call `writer(temp_path)` to produce the file, check it, then atomically move it to `path`.

    `verify(temp_path)` should re-read what was written and raise (any exception) when it is not
    what was meant to be written. Companion files the writer makes beside `temp_path` move too,
    before the named file, which is the one readers open.
    """
    target = Path(path)
    if target.is_symlink():  # write the file it points to: replacing the link would leave
        target = Path(os.path.realpath(target))  # that file, which others read, unchanged
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SaveError("the folder does not exist", str(target))
    try:
        tmp_dir = tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise SaveError(f"cannot write in this folder ({e.strerror or e})", str(target)) from e
    tmp = os.path.join(tmp_dir, target.name)
    kept = "previous file kept" if target.exists() else "nothing written"
    try:
        writer(tmp)
        produced = sorted(os.listdir(tmp_dir), key=lambda n: (n == target.name, n))
        if target.name not in produced:
            raise SaveError("the writer produced no file", str(target))
        for name in produced:
            check_stream(os.path.join(tmp_dir, name), allow_empty=allow_empty)
        if verify is not None:
            verify(tmp)
        mode = new_file_mode()
        for name in produced:
            os.chmod(os.path.join(tmp_dir, name), mode)
            _fsync_file(os.path.join(tmp_dir, name))
        for name in produced:
            os.replace(os.path.join(tmp_dir, name), folder / name)
        os.rmdir(tmp_dir)
    except BaseException as e:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(e, SaveError):  # the writer's own reason (bad format, bad array...)
            reason = e.reason
        else:
            reason = f"save failed, {kept} ({_one_line_reason(e)})"
        # never show the temporary name: the user knows the file by the target's name
        reason = reason.replace(tmp, str(target)).replace(tmp_dir, str(folder))
        raise SaveError(reason, str(target)) from e
    _fsync_dir(folder)
    return target


def _one_line_reason(e: BaseException) -> str:
    """The system's reason (e.g. 'No space left on device') when an OSError is anywhere in the
    chain -- pydicom wraps it with a whole traceback in the message -- else the first line."""
    seen: set[int] = set()
    cause: BaseException | None = e
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    lines = [t.strip() for t in str(e).splitlines() if t.strip()]
    return lines[0] if lines else type(e).__name__


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically replace `path` with `data` (checked: the file holds exactly `data`)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)

    def verify(tmp: str) -> None:
        # Python's own writes raise on a full disk; the size catches anything that did not
        size = os.path.getsize(tmp)
        if size != len(data):
            raise WriteCheckError(f"wrote {size} of {len(data)} bytes")

    return atomic_write(path, write, verify, allow_empty=not data)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy_file(source: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Copy `source` to `path` atomically (checked: the same number of bytes), so a full disk
    or an interruption never leaves a torn copy that later reads as a damaged file."""
    expected = os.path.getsize(source)

    def verify(tmp: str) -> None:
        size = os.path.getsize(tmp)
        if size != expected:
            raise WriteCheckError(f"copied {size} of {expected} bytes")

    return atomic_write(path, lambda tmp: shutil.copyfile(source, tmp), verify, allow_empty=True)
