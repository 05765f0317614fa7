"""The lock file rules: O_EXCL creation, the owner inside, the stale rule."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from viewer.project.locks import FileLock, ProjectBusy, read_owner


def _foreign(path, host="elsewhere", age_s=0.0):
    path.write_text(json.dumps({"user": "eve", "host": host, "pid": 1, "time": 0}))
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))


def test_owner_is_written_and_only_the_holder_releases(tmp_path):
    lock = FileLock(tmp_path / "lock", stale_after_s=60)
    assert lock.acquire("ann")
    owner = read_owner(tmp_path / "lock")
    assert (owner.user, owner.host, owner.pid) == ("ann", socket.gethostname(), os.getpid())
    assert not lock.acquire("bob")
    lock.release()
    assert not (tmp_path / "lock").exists()


def test_another_hosts_lock_is_kept_until_its_heartbeat_is_old(tmp_path):
    path = tmp_path / "lock"
    lock = FileLock(path, stale_after_s=60)
    _foreign(path, age_s=30)
    assert lock.owner().user == "eve"
    assert not lock.acquire("ann")
    lock.release()  # not ours: stays
    assert read_owner(path).user == "eve"
    _foreign(path, age_s=61)
    assert lock.owner() is None
    assert lock.acquire("ann")
    assert read_owner(path).user == "ann"
    assert [p.name for p in tmp_path.iterdir()] == ["lock"]  # the stale one is gone


def test_same_host_live_pid_is_never_broken_however_old(tmp_path):
    path = tmp_path / "lock"
    path.write_text(
        json.dumps({"user": "eve", "host": socket.gethostname(), "pid": os.getpid(), "time": 0})
    )
    os.utime(path, (time.time() - 10, time.time() - 10))
    assert not FileLock(path, stale_after_s=3600).acquire("ann")


def test_hold_waits_then_names_the_holder(tmp_path):
    path = tmp_path / "project.lock"
    _foreign(path)
    with pytest.raises(ProjectBusy, match="locked by eve on elsewhere"):
        with FileLock(path, stale_after_s=600).hold("ann", timeout_s=0.2):
            pass


def test_liveness_on_windows_never_sends_a_signal(monkeypatch):
    """os.kill(pid, 0) terminates the process on Windows: the check must ask another way."""
    from viewer.project import locks

    def no_kill(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) would end that process on Windows")

    asked = []
    monkeypatch.setattr(locks.os, "kill", no_kill)
    monkeypatch.setattr(locks, "ON_WINDOWS", True)
    monkeypatch.setattr(locks, "_pid_alive_windows", lambda pid: asked.append(pid) or True)
    assert locks.pid_alive(4242)
    assert asked == [4242]


def test_the_heartbeat_keeps_an_old_lock_alive(tmp_path):
    path = tmp_path / "lock"
    lock = FileLock(path, stale_after_s=60)
    _foreign(path, age_s=61)
    assert lock.owner() is None  # stale
    lock.touch()  # its holder (on the other host) is still there
    assert lock.owner().user == "eve"
    assert not lock.acquire("ann")


@pytest.mark.parametrize("pid", ["1e999", "100000000000000000000", "-5", "0"])
def test_a_lock_with_an_impossible_pid_is_unreadable_and_its_age_breaks_it(tmp_path, pid):
    path = tmp_path / "lock"
    path.write_text(f'{{"user": "eve", "host": "{socket.gethostname()}", "pid": {pid}, "time": 0}}')
    lock = FileLock(path, stale_after_s=3600)
    assert read_owner(path) is None
    assert not lock.acquire("ann")  # young: could be a writer between create and write
    old = time.time() - 31
    os.utime(path, (old, old))
    assert lock.owner() is None
    assert lock.acquire("ann")
    assert read_owner(path).user == "ann"
