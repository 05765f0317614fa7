"""The project's files on disk: JSON read and written atomically, the append-only journal, and
the locks' places. Everything that touches the folder's bytes for the workspace goes through
`LocalFolderStore`; `viewer.project.workspace` holds the rules.

Readers never take the mutex: every JSON file is replaced by rename (written beside, fsynced,
renamed through viewer.io.atomic_save), so a reader sees the old or the new file, never half.
Writers of shared JSON (project.json, case.json) do read-modify-write under the project mutex.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.io.atomic_save import atomic_write_text
from viewer.project.locks import FileLock

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
JOURNAL_FILE = "journal.jsonl"
MUTEX_FILE = "project.lock"
RETRAIN_LOCK_FILE = "retrain.lock"
CASE_FILE = "case.json"
CASE_LOCK_FILE = "lock"

# the mutex guards a read-modify-write of a few milliseconds: a holder silent for two minutes
# is gone (another host's crash); the same host's dead pid is broken at once
MUTEX_STALE_S = 120.0
# an editor holds a case for a working session; the GUI touches the lock while it is open
CASE_LOCK_STALE_S = 12 * 3600.0
# the retrain worker touches its lock every few seconds
RETRAIN_LOCK_STALE_S = 600.0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def read_json(path: Path, what: str) -> dict:
    """A JSON object from `path`; LoadError naming the file when missing or not JSON, or when
    it is a link (a project reads only its own files)."""
    if path.is_symlink():
        raise LoadError(f"the {what} is a link; the project reads only its own files", path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LoadError(f"no {what} here", path) from None
    except OSError as e:
        raise LoadError(f"cannot read the {what} ({e.strerror or e})", path) from e
    except UnicodeDecodeError:
        raise LoadError(f"the {what} is not UTF-8 text", path) from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise LoadError(f"the {what} is not valid JSON ({e})", path) from None
    except RecursionError:
        raise LoadError(f"the {what} is nested too deeply to be one of ours", path) from None
    if not isinstance(data, dict):
        raise LoadError(f"the {what} is not a JSON object", path)
    return data


def append_line(path: Path, line: str) -> None:
    """Append `line` and a newline to a JSON-lines file, fsynced. A torn last line (a crash or a
    full disk mid-append) is ended first, so it never swallows the line written after it."""
    # never through a link: a link planted in a shared folder would aim the append elsewhere
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(str(path), flags, 0o666)
    except OSError as e:
        if not os.path.islink(path):
            raise
        raise SaveError("is a link; the project writes only its own files", str(path)) from e
    try:
        size = os.fstat(fd).st_size
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        data = ("\n" if torn else "") + line + "\n"
        view = memoryview(data.encode("utf-8"))
        while view:  # a short write (a nearly full disk) goes on or raises
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: dict) -> None:
    """Replace `path` with `data` as JSON, atomically and verified."""
    unlink_if_link(path)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def unlink_if_link(path: Path) -> None:
    """A project file that is a symbolic link is replaced, never written through: a link
    planted in a shared project folder must not make a save overwrite a file elsewhere."""
    if os.path.islink(path):
        os.unlink(path)


class LocalFolderStore:
    """A project folder on a local or network file system."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.mutex = FileLock(self.folder / MUTEX_FILE, MUTEX_STALE_S)

    # --- places ------------------------------------------------------------------------------
    @property
    def project_file(self) -> Path:
        return self.folder / PROJECT_FILE

    @property
    def journal_file(self) -> Path:
        return self.folder / JOURNAL_FILE

    @property
    def cases_dir(self) -> Path:
        return self.folder / "cases"

    @property
    def models_dir(self) -> Path:
        return self.folder / "models"

    @property
    def runs_dir(self) -> Path:
        return self.folder / "runs"

    def case_dir(self, case_id: str) -> Path:
        return self.cases_dir / case_id

    def case_lock(self, case_id: str) -> FileLock:
        return FileLock(self.case_dir(case_id) / CASE_LOCK_FILE, CASE_LOCK_STALE_S)

    def retrain_lock(self) -> FileLock:
        return FileLock(self.folder / RETRAIN_LOCK_FILE, RETRAIN_LOCK_STALE_S)

    def case_ids(self) -> list[str]:
        """Every published case folder (hidden ones are being written; links lead outside)."""
        if not self.cases_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.cases_dir.iterdir()
            if not p.name.startswith(".") and not p.is_symlink() and (p / CASE_FILE).is_file()
        )

    # --- exclusive sections --------------------------------------------------------------------
    @contextmanager
    def locked(self, user: str = "") -> Iterator[None]:
        """Hold the project mutex (waits for another instance's read-modify-write)."""
        with self.mutex.hold(user or _default_user(), timeout_s=60.0):
            yield

    # --- journal -----------------------------------------------------------------------------
    def append_journal(self, event: str, user: str = "", **fields) -> dict:
        """Append one JSON line (fsynced). Call under the mutex: lines never interleave."""
        entry = {"time": now_iso(), "event": event, "user": user or _default_user()}
        entry.update(fields)
        append_line(self.journal_file, json.dumps(entry, sort_keys=True))
        return entry

    def read_journal(self) -> list[dict]:
        """Every journal entry; a torn last line (a crash mid-append) is skipped."""
        try:
            text = self.journal_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                log.warning("%s: line %d is not JSON; skipped", self.journal_file, n)
        return entries


def _default_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name (a service account): the host still tells who
        return f"user@{socket.gethostname()}"


def default_user() -> str:
    """The login name, for records when the caller gives none."""
    return _default_user()


def wait_until(predicate, timeout_s: float, step_s: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout_s` passed (tests and the CLI)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step_s)
    return bool(predicate())
