"""File locks that work on a shared (network) folder: the project mutex, case locks, the retrain
lock.

A lock is a file created with O_CREAT|O_EXCL (atomic on local disks, NFS v3+ and SMB), holding
its owner as JSON: user, host, pid, time. Its modification time is the heartbeat: a holder that
keeps a lock for long (an editor on a case, a retrain) calls `touch()` now and then.

Stale rule (a lock left by a crash is broken, never one that is alive):
- same host and the owner's pid is no longer running: stale at once;
- otherwise stale when the heartbeat (mtime) is older than `stale_after_s` -- generous, since
  another host's pid cannot be checked and clocks differ a little between machines.
Breaking renames the stale file to a unique name first (only one process can win that rename),
then checks the renamed file is the one judged stale; if a fresh lock was taken in between it is
put back (os.link fails rather than overwrite a newer one).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from viewer.errors import RadLabelError

ON_WINDOWS = os.name == "nt"
MAX_PID = 2**31  # pids are C ints everywhere; a larger one makes os.kill overflow


class ProjectBusy(RadLabelError):
    """A lock is held by someone else (the reason says who)."""


@dataclass(frozen=True)
class LockOwner:
    user: str
    host: str
    pid: int
    time: float

    @classmethod
    def me(cls, user: str) -> LockOwner:
        return cls(user=user, host=socket.gethostname(), pid=os.getpid(), time=time.time())

    def to_json(self) -> str:
        return json.dumps(
            {"user": self.user, "host": self.host, "pid": self.pid, "time": self.time}
        )

    def describe(self) -> str:
        return f"{self.user or 'someone'} on {self.host}"


def read_owner(path: Path) -> LockOwner | None:
    """The owner written in a lock file; None when there is none (or it is being written)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        owner = LockOwner(
            str(data["user"]), str(data["host"]), int(data["pid"]), float(data["time"])
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return None
    if not 0 < owner.pid < MAX_PID:  # a damaged file: its age decides, like a torn one
        return None
    return owner


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (True when it cannot be told)."""
    if pid <= 0:
        return False
    if ON_WINDOWS:  # os.kill(pid, 0) would terminate the process on Windows
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


def _pid_alive_windows(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _heartbeat_age(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None


class FileLock:
    """One lock file. `acquire()` never blocks; `hold()` waits up to a timeout."""

    def __init__(self, path: str | os.PathLike, stale_after_s: float) -> None:
        self.path = Path(path)
        self.stale_after_s = stale_after_s

    # --- state -------------------------------------------------------------------------------
    def owner(self) -> LockOwner | None:
        """Who holds it now (None when free or stale)."""
        if not self.path.exists():
            return None
        owner = read_owner(self.path)
        if self._is_stale(owner):
            return None
        return owner

    def _is_stale(self, owner: LockOwner | None) -> bool:
        age = _heartbeat_age(self.path)
        if age is None:
            return False  # gone already: not ours to judge
        if owner is None:
            # an unreadable owner: a writer between create and write, or a torn file; only age
            # decides (a short grace keeps the first case from being broken)
            return age > min(self.stale_after_s, 30.0)
        if owner.host == socket.gethostname() and not pid_alive(owner.pid):
            return True
        return age > self.stale_after_s

    # --- taking and giving back ----------------------------------------------------------------
    def acquire(self, user: str) -> bool:
        """Take the lock if it is free (or stale). True when this process now holds it."""
        for _ in range(3):
            try:
                fd = os.open(str(self.path), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                if not self._break_if_stale():
                    return False
                continue
            except OSError as e:
                raise ProjectBusy(f"cannot create a lock ({e.strerror or e})", self.path) from e
            try:
                os.write(fd, LockOwner.me(user).to_json().encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        return False

    def _break_if_stale(self) -> bool:
        owner = read_owner(self.path)
        if not self._is_stale(owner):
            return False
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return True  # someone else broke it: try to create again
        except OSError:
            return False
        if read_owner(aside) != owner:  # a fresh lock was taken in between: give it back
            with contextlib.suppress(OSError):
                os.link(aside, self.path)
        with contextlib.suppress(OSError):
            os.unlink(aside)
        return True

    def held_by_me(self) -> bool:
        owner = read_owner(self.path)
        return owner is not None and owner.host == socket.gethostname() and owner.pid == os.getpid()

    def touch(self) -> None:
        """The heartbeat of a long-held lock."""
        with contextlib.suppress(OSError):
            os.utime(self.path)

    def release(self) -> None:
        """Remove the lock if this process holds it (never someone else's)."""
        if self.held_by_me():
            try:
                os.unlink(self.path)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise

    def force_release(self) -> None:
        """Remove the lock whoever holds it (a case lock given back by its user elsewhere)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    @contextlib.contextmanager
    def hold(self, user: str, timeout_s: float = 60.0, what: str = "the project") -> Iterator[None]:
        """Hold the lock for a block, waiting up to `timeout_s` for it."""
        deadline = time.monotonic() + timeout_s
        delay = 0.005
        while not self.acquire(user):
            if time.monotonic() > deadline:
                owner = read_owner(self.path)
                who = owner.describe() if owner else "another program"
                raise ProjectBusy(f"{what} is locked by {who}; try again", self.path)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            self.release()
