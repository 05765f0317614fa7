"""`BackgroundJob`: runs `fn(progress, cancel)` on a QThread and reports through signals, so
long work (exports, DICOM scans, PACS transfers) never blocks the window; one copy for all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PyQt5 import QtCore

from viewer.errors import RadLabelError

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Cancelled = Callable[[], bool]


class BackgroundJob(QtCore.QThread):
    """`fn(progress, cancel)` off the UI thread. `progressed(fraction, text)` while it runs,
    then `succeeded(result)` or `failed(one line)`; `cancel_event.set()` asks it to stop."""

    progressed = QtCore.pyqtSignal(float, str)
    succeeded = QtCore.pyqtSignal(object)
    failed = QtCore.pyqtSignal(str)

    def __init__(self, fn: Callable[[Progress, Cancelled], object], parent=None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.cancel_event = threading.Event()

    def run(self) -> None:
        try:
            result = self.fn(
                lambda f, text: self.progressed.emit(float(f), str(text)), self.cancel_event.is_set
            )
        except RadLabelError as e:
            self.failed.emit(e.message)
        except Exception as e:  # report in one line, never take the window down
            log.exception("background job failed")
            self.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.succeeded.emit(result)
