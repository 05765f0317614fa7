"""Shared test configuration: headless Qt, quiet Paddle, the real test data (tests/data/real) and
the optional ../shared/data fixture."""

from __future__ import annotations

import faulthandler
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data"
REAL_DATA = TEST_DATA / "real"
SHARED_DATA = REPO.parent / "shared" / "data"


_paddle_fault_handler_removed = False


def pytest_runtest_teardown(item) -> None:
    """Importing Paddle installs its own SIGSEGV handler, which prints no Python stack: once a
    test has imported it, give the signal back to faulthandler so a crash names its test."""
    global _paddle_fault_handler_removed
    if _paddle_fault_handler_removed or "paddle" not in sys.modules:
        return
    _paddle_fault_handler_removed = True
    sys.modules["paddle"].disable_signal_handler()
    try:
        from _pytest.faulthandler import fault_handler_stderr_fd_key

        fd = item.config.stash[fault_handler_stderr_fd_key]
    except (ImportError, KeyError):  # pytest internals moved, or -p no:faulthandler
        fd = sys.__stderr__.fileno()
    faulthandler.disable()  # enable() alone keeps the replaced handlers
    faulthandler.enable(file=fd, all_threads=True)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep logs, settings and autosave of the app under test out of the real home folder."""
    monkeypatch.setenv("RADLABEL_DATA_DIR", str(tmp_path_factory.mktemp("radlabel-user")))


@pytest.fixture(autouse=True)
def _no_blocking_message_boxes(request, monkeypatch):
    """A modal QMessageBox under the offscreen platform waits forever (nobody can click it):
    answer every unpatched one with 'Discard'/'No' so a stray prompt fails a test, not CI."""
    from PyQt5.QtWidgets import QMessageBox

    def answer(*_args, **_kwargs):
        return QMessageBox.Discard

    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, answer)
    monkeypatch.setattr(QMessageBox, "exec_", lambda self: QMessageBox.Discard)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.Discard)


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def real_data() -> Path:
    """Small cuts of the real scans, laid out as ../shared/data is (tests/data/README.md)."""
    return REAL_DATA


@pytest.fixture
def shared_data() -> Path:
    """The full scans beside the clone: for the long reference checks only (absent in a fresh
    clone, where those skip)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MB tmpfs at tmp_path/fs for full-disk tests, always unmounted afterwards; skipped
    where mounting is not permitted (it needs root, as CI has)."""
    if shutil.which("mount") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8) (CI runs as root)")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def fill_disk():
    """`fill(folder, leave)`: fill folder's file system until `leave` bytes are free (0: until
    it refuses more); returns the filler file (unlink it to free the space again)."""

    def fill(folder: Path, leave: int) -> Path:
        filler = folder / "filler.bin"
        st = os.statvfs(folder)
        with open(filler, "wb", buffering=0) as f:
            try:
                f.write(b"\xa5" * max(0, st.f_bavail * st.f_frsize - leave))
                while leave == 0:
                    f.write(b"\xa5" * 4096)
            except OSError:
                pass
        st = os.statvfs(folder)
        assert st.f_bavail * st.f_frsize == leave
        return filler

    return fill
