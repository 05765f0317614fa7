"""Logging to the console and to a log file in the user's data folder (for bug reports)."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

_CONFIGURED = False

# `log.error(..., extra=FILE_ONLY)`: details (a traceback) for the log file, not the console.
FILE_ONLY = {"file_only": True}


# Loggers whose records may reach the console; libraries' (pydicom's tracebacks, nibabel's
# notes, Python warnings via py.warnings) go to the log file only: the user sees one line.
_OWN_LOGGERS = ("viewer", "segmentation_core", "radlabel", "__main__", "root")


def _console_filter(record: logging.LogRecord) -> bool:
    if getattr(record, "file_only", False):
        return False
    return record.name.split(".", 1)[0] in _OWN_LOGGERS


def log_dir() -> Path:
    override = os.environ.get("RADLABEL_DATA_DIR")
    if override:
        return Path(override) / "logs"
    from platformdirs import user_log_dir

    return Path(user_log_dir("RadLabel", appauthor=False))


def log_file_path() -> Path:
    return log_dir() / "radlabel.log"


def setup_logging(debug: bool = False) -> Path | None:
    """Configure root logging once; returns the log file path (None if it could not be opened)."""
    global _CONFIGURED
    root = logging.getLogger()
    if _CONFIGURED:
        return log_file_path()
    _CONFIGURED = True
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:
        console.addFilter(_console_filter)
    root.addHandler(console)
    logging.captureWarnings(True)  # library warnings to the log (py.warnings), not the console
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3)
        fh.setLevel(logging.DEBUG if debug else logging.INFO)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
    except OSError as e:  # a read-only home must not stop the app
        root.warning("cannot write log file %s: %s", path, e)
        return None
    return path
