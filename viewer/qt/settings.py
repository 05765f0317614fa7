"""Where the GUI keeps its settings: RADLABEL_DATA_DIR/settings.ini when set (tests), else Qt's
per-user location. Also the recent-files and recent-projects lists."""

from __future__ import annotations

import os

from PyQt5 import QtCore

MAX_RECENT = 10


def app_settings() -> QtCore.QSettings:
    data_dir = os.environ.get("RADLABEL_DATA_DIR")
    if data_dir:
        return QtCore.QSettings(os.path.join(data_dir, "settings.ini"), QtCore.QSettings.IniFormat)
    return QtCore.QSettings("RadLabel", "RadLabel")


def recent_files(settings: QtCore.QSettings, key: str = "recent_files") -> list[str]:
    value = settings.value(key, [])
    if isinstance(value, str):  # QSettings returns a bare string for one-element lists
        value = [value]
    return [str(v) for v in (value or []) if v]


def add_recent_file(settings: QtCore.QSettings, path: str, key: str = "recent_files") -> list[str]:
    path = os.path.abspath(path)
    files = [path] + [p for p in recent_files(settings, key) if p != path]
    files = files[:MAX_RECENT]
    settings.setValue(key, files)
    return files


def recent_projects(settings: QtCore.QSettings) -> list[str]:
    """Project folders opened lately, newest first (File > Recent projects)."""
    return recent_files(settings, "recent_projects")


def add_recent_project(settings: QtCore.QSettings, folder: str) -> list[str]:
    return add_recent_file(settings, folder, "recent_projects")
