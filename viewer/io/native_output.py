"""Sends what C/C++ libraries (ITK, GDCM, MetaIO, NIfTI's C reader) print on the process's
stderr to the log file instead of the user's terminal.

ITK, GDCM and MetaIO write warnings and errors straight to file descriptor 2, below Python's
`sys.stderr`; a bad file made them print up to 142 lines before the one line that matters. While
a reader runs, fd 2 points at a temporary file; afterwards its text goes to the log (at INFO,
file only). Nested uses share one capture; it is process-wide, so other threads' stderr output
during a read goes to the log too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

_lock = threading.RLock()
_depth = 0
_saved_fd: int | None = None
_capture = None
_MAX_LOGGED = 20_000  # characters of library chatter kept per read


@contextlib.contextmanager
def native_output_to_log() -> Iterator[None]:
    """Redirect fd 2 to a temporary file for the duration; log what was written there."""
    global _depth, _saved_fd, _capture
    with _lock:
        if _depth == 0:
            try:
                sys.stderr.flush()
                _capture = tempfile.TemporaryFile()
                _saved_fd = os.dup(2)
                os.dup2(_capture.fileno(), 2)
            except (OSError, ValueError, AttributeError):  # no fd 2 (some GUI launches)
                _capture, _saved_fd = None, None
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved_fd is not None and _capture is not None:
                try:
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _saved_fd = None
                _capture.seek(0)
                text = _capture.read(_MAX_LOGGED).decode("utf-8", "replace").strip()
                _capture.close()
                _capture = None
                if text:
                    log.info("library output: %s", text, extra={"file_only": True})
