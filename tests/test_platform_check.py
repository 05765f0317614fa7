"""A machine that cannot open a window: `check_system.sh` (with a display set) and the GUI's
start-up name the missing Debian packages, from `ldd` on the venv's Qt xcb plugin (a stand-in
`ldd` on PATH plays the system)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.qt.platform_check import missing_libraries, packages_for, uses_xcb

REPO = Path(__file__).resolve().parent.parent
CHECK = REPO / "scripts" / "check_system.sh"
# what ldd printed for PyQt5's libqxcb.so on a Debian 12 machine without three xcb packages
LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007fba4bc45000)
\tlibQt5XcbQpa.so.5 => /venv/PyQt5/Qt5/plugins/platforms/../../lib/libQt5XcbQpa.so.5 (0x1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-image.so.0 => /lib/x86_64-linux-gnu/libxcb-image.so.0 (0x00007fba4b928000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-xinerama.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-weird.so.7 => not found
"""
LDD_ALL_FOUND = "\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x1)\n"


def test_ldd_output_maps_to_debian_packages():
    libs = missing_libraries(LDD_MISSING)
    assert libs == [
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libxcb-xinerama.so.0",
        "libxcb-weird.so.7",
    ]
    assert packages_for(libs) == [
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libxcb-xinerama0",
        "libxcb-weird.so.7",  # unknown: named as the library itself
    ]
    assert missing_libraries(LDD_ALL_FOUND) == []


def test_which_platform_uses_xcb():
    assert uses_xcb({"DISPLAY": ":0"})
    assert uses_xcb({"WAYLAND_DISPLAY": "wayland-0"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({})


def _env(tmp_path: Path, ldd_output: str, ldconfig_output: str = "") -> dict[str, str]:
    """PATH with stand-ins for `ldd` (what the xcb plugin lacks), `ldconfig` and `id` (not root,
    so nothing is installed); a display is set and no QT_QPA_PLATFORM."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ldd").write_text(f"#!/bin/sh\ncat <<'X'\n{ldd_output}X\n")
    (bin_dir / "ldconfig").write_text(f"#!/bin/sh\ncat <<'X'\n{ldconfig_output}\nX\n")
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["DISPLAY"] = ":99"
    env["PY"] = env["VPY"] = sys.executable
    return env


def _real_ldconfig() -> str:
    exe = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        return subprocess.run([exe, "-p"], capture_output=True, text=True).stdout
    except OSError:
        return ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_check_system_with_a_display_names_missing_xcb_packages(tmp_path):
    real = _real_ldconfig()
    if "libGL.so.1" not in real:
        pytest.skip("this machine lacks the base libraries itself")
    r = subprocess.run(
        ["bash", str(CHECK)],
        env=_env(tmp_path, LDD_MISSING, real),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    assert (
        "needs these Debian packages: libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 "
        "libxcb-weird.so.7" in r.stderr
    )
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0" in r.stderr

    ok = subprocess.run(
        ["bash", str(CHECK)],
        env=_env(tmp_path / "ok", LDD_ALL_FOUND, real),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr


def test_gui_start_names_the_missing_package_before_qt_fails(tmp_path):
    env = _env(tmp_path, LDD_MISSING)
    env["QT_QPA_PLATFORM"] = "xcb"
    r = subprocess.run(
        [sys.executable, str(REPO / "main.py")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == [
        "RadLabel cannot open its window: Qt's xcb platform plugin needs libxcb-icccm4, "
        "libxcb-keysyms1, libxcb-xinerama0, libxcb-weird.so.7. Install with: sudo apt-get "
        "install libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-weird.so.7"
    ], r.stderr
    assert "could not load" not in r.stderr
