"""The last line of defence in the GUI: an exception that escapes a slot or an event handler.

PyQt5 aborts the whole process (qFatal) on such an exception unless `sys.excepthook` is replaced,
and an abort loses whatever was not yet autosaved. Here it is logged with its traceback and the
user sees one line in a dialog instead; the window stays open with its labels.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from PyQt5 import QtWidgets

log = logging.getLogger(__name__)


class CrashGuard:
    """A `sys.excepthook` for a running GUI; `install` puts it in place, `uninstall` takes it out."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self.parent = parent
        self.showing = False  # an error while the dialog is up is only logged
        self.previous = sys.excepthook
        self.count = 0

    def __call__(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, error, tb)
            return
        self.count += 1
        log.error("unexpected error in the viewer", exc_info=(kind, error, tb))
        if self.showing:
            return
        from viewer.logsetup import log_file_path

        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        line = f"{kind.__name__}: {text}" if text else kind.__name__
        self.showing = True
        try:
            QtWidgets.QMessageBox.critical(
                self.parent,
                "Unexpected error",
                f"{line}\n\nThe action was stopped; your labels are still open. "
                f"Details are in the log: {log_file_path()}",
            )
        finally:
            self.showing = False

    def install(self) -> CrashGuard:
        self.previous = sys.excepthook
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self.previous
