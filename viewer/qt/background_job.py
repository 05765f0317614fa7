"""`BackgroundJob`: runs `fn(progress, cancel)` on a QThread and reports through signals, so
long work (exports, DICOM scans, PACS transfers) never blocks the window; one copy for all.

A running job belongs to no widget: Qt aborts the process when a QThread is destroyed while it
runs, which closing the dialog that started it would do. Running jobs are kept here until they
finish; `stop_all` cancels and waits for them when the application quits."""

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

    running: set[BackgroundJob] = set()  # started and not yet finished, owned by nobody else

    def __init__(self, fn: Callable[[Progress, Cancelled], object], parent=None) -> None:
        super().__init__(parent)
        self.fn = fn
        self.cancel_event = threading.Event()
        self.finished.connect(self._forget)

    def start(self, priority=QtCore.QThread.InheritPriority) -> None:  # noqa: D102
        self.setParent(None)  # outlives a dialog closed while it runs (see the module's note)
        BackgroundJob.running.add(self)
        super().start(priority)

    def _forget(self) -> None:
        # dropped from the next turn of the event loop, not inside this object's own slot: it
        # may be the last reference (its dialog is gone) and the object must not die mid-call
        QtCore.QTimer.singleShot(0, lambda job=self: BackgroundJob.running.discard(job))

    @classmethod
    def stop_all(cls, timeout_ms: int = 30_000) -> bool:
        """Ask every running job to stop and wait for them (at quit); False if one still runs."""
        jobs = list(cls.running)
        for job in jobs:
            job.cancel_event.set()
        return all(_wait(job, timeout_ms) for job in jobs)

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


def _wait(job: BackgroundJob, timeout_ms: int) -> bool:
    try:
        return job.wait(timeout_ms)
    except RuntimeError:  # its owner deleted it (deleteLater) after it finished
        return True
