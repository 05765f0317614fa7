"""Before the QApplication exists: can Qt's xcb platform plugin (the window on X11/XWayland)
load? `ldd` on the plugin lists the system libraries it cannot find; each is mapped to the Debian
package that ships it, so the user reads "install libxcb-icccm4" instead of Qt's generic "could
not load the Qt platform plugin xcb". `scripts/check_system.sh` runs this module too
(`python -m viewer.qt.platform_check`), so the mapping lives in one place."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# soname -> Debian/Ubuntu package (what Qt 5's xcb plugin and its Qt libraries load)
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpng16.so.16": "libpng16-16",
    "libexpat.so.1": "libexpat1",
    "libz.so.1": "zlib1g",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames `ldd` reports as "not found", each once, in first-seen order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def packages_for(libraries: list[str]) -> list[str]:
    """Debian packages for `libraries`, each once; an unknown soname is named as itself."""
    return list(dict.fromkeys(DEBIAN_PACKAGES.get(lib, lib) for lib in libraries))


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the PyQt5 in use (None when this Qt has none)."""
    from PyQt5 import QtCore  # QtCore loads without a display

    plugins = QtCore.QLibraryInfo.location(QtCore.QLibraryInfo.PluginsPath)
    path = Path(plugins) / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def run_ldd(path: Path) -> str:
    """`ldd PATH`'s output ("" when ldd is not there or fails: the check is then skipped)."""
    try:
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


def missing_xcb_packages(plugin: Path | None = None) -> list[str]:
    """Debian packages Qt's xcb plugin needs and this system lacks ([] when none, or unknown)."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    return packages_for(missing_libraries(run_ldd(plugin)))


def uses_xcb(environ=os.environ) -> bool:
    """Whether Qt will pick the xcb plugin: QT_QPA_PLATFORM says so, or is unset on X11."""
    platform = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform:
        return platform == "xcb"
    # Qt 5 defaults to xcb on Linux, on a Wayland desktop too (through XWayland)
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def install_hint(packages: list[str]) -> str:
    """One line: what is missing and the apt-get command that installs it."""
    return (
        "RadLabel cannot open its window: Qt's xcb platform plugin needs "
        f"{', '.join(packages)}. Install with: sudo apt-get install {' '.join(packages)}"
    )


def check_before_qapplication(environ=os.environ) -> str | None:
    """The one-line reason the window cannot open, or None when nothing is known to be missing."""
    if not sys.platform.startswith("linux") or not uses_xcb(environ):
        return None
    packages = missing_xcb_packages()
    return install_hint(packages) if packages else None


def main() -> int:
    """For check_system.sh: print the missing packages (space-separated); exit 1 when any."""
    packages = missing_xcb_packages()
    if packages:
        print(" ".join(packages))
    return 1 if packages else 0


if __name__ == "__main__":
    sys.exit(main())
