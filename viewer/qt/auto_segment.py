"""Segment > Auto-segment (Ctrl+Shift+A, and a toolbar button): runs the automatic model on the
open study in the background and puts its result into the labels as one undoable step.

Which model: the open project's active automatic model (`Project.active_auto_model_dir()`), or
without a project the folder chosen with Segment > Choose automatic model... (remembered in the
settings). The model runs in a separate process (`viewer.services.auto_segment`) followed by a
`BackgroundJob` thread, so the window keeps answering; a progress dialog offers Cancel, which
leaves the document as it was. The result is mapped onto the document's segments by name/value
(`viewer.commands.auto_result`: locked segments keep every voxel and their values), the status
bar names the model version, and in a project case without an `original` label the result
becomes the original (what the user's correction is measured against).
`install_auto_segment(window)` is the entry point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.commands.auto_result import AutoReport, auto_result_command
from viewer.errors import RadLabelError
from viewer.qt.background_job import BackgroundJob
from viewer.services.auto_segment import run_auto_segment

log = logging.getLogger(__name__)
SETTING_MODEL = "auto/model_dir"
SHORTCUT = "Ctrl+Shift+A"
MENU_TITLE = "&Segment"
STATUS_MS = 30000


def segment_menu(window) -> QtWidgets.QMenu:
    """The window's Segment menu (made when no part has made it yet)."""
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None and action.text().replace("&", "") == MENU_TITLE.replace("&", ""):
            return menu
    return window.menuBar().addMenu(MENU_TITLE)


class ModelChoice:
    """The automatic model to run: its folder and card, or why there is none (`reason`)."""

    def __init__(self, folder: Path | None, card: dict | None, reason: str) -> None:
        self.folder, self.card, self.reason = folder, card, reason

    @property
    def version(self) -> str:
        return str(self.card["version"]) if self.card else ""


def read_model(folder: Path) -> ModelChoice:
    """The card of the model in `folder`, or a ModelChoice that says why it cannot be used."""
    from segmentation_core.auto import read_auto_model

    try:
        return ModelChoice(folder, read_auto_model(folder), "")
    except (ValueError, OSError) as e:  # AutoModelError is a ValueError: "path: reason"
        return ModelChoice(None, None, str(e) if hasattr(e, "reason") else f"{folder}: {e}")


class ChangeWatch:
    """Counts the changes of a document's labels and segments (from any thread's view: the
    count only grows), so a merge computed off the UI thread can tell whether it still fits."""

    def __init__(self, doc) -> None:
        self.doc = doc
        self.count = 0
        for event in self._events():
            event.connect(self._bump)

    def _events(self):
        d = self.doc
        return (d.labels_changing, d.labels_changed, d.segments_changed)

    def _bump(self, *_args) -> None:
        self.count += 1

    def close(self) -> None:
        for event in self._events():
            event.disconnect(self._bump)


@dataclass
class Landing:
    """What the background job hands back: the model's labels, the merge computed from the
    document as it was when `seen` changes had happened, and its report."""

    result: np.ndarray
    command: object
    report: AutoReport
    seen: int


class AutoSegmentController(QtCore.QObject):
    """Owns Segment > Auto-segment of one window. `finished(report or None)` after each run
    (None: cancelled, failed or dropped because another study was opened)."""

    finished = QtCore.pyqtSignal(object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.job: BackgroundJob | None = None
        self.progress: QtWidgets.QProgressDialog | None = None
        self._run_doc = None  # the document the running job segments
        self._run_model: ModelChoice | None = None
        self._watch: ChangeWatch | None = None
        self._cache: tuple[str, float, ModelChoice] | None = None  # folder, card mtime, choice
        self.menu = segment_menu(window)
        self.action = QtWidgets.QAction("Auto-segment", window)
        self.action.setShortcut(QtGui.QKeySequence(SHORTCUT))
        self.action.setShortcutContext(QtCore.Qt.WindowShortcut)
        self.action.setIcon(QtGui.QIcon.fromTheme("system-run"))
        self.action.triggered.connect(lambda _=False: self.run())
        self.choose_action = QtWidgets.QAction("Choose automatic model...", window)
        self.choose_action.triggered.connect(lambda _=False: self.choose_model())
        self.menu.addAction(self.action)
        self.menu.addAction(self.choose_action)
        window.addAction(self.action)  # the shortcut works with the menu bar hidden too
        window.toolbar.addSeparator()
        window.toolbar.addAction(self.action)
        window.document_changed.connect(self._on_document)
        window.closed.connect(self._on_window_closed)
        self.menu.aboutToShow.connect(self.refresh)  # e.g. a project's new active model
        self._hooked = None  # the project controller whose signals refresh the action
        self.refresh()

    # --- which model ---------------------------------------------------------------------------
    def _project_controller(self):
        return self.window.project  # None until `install_project` (it may come later)

    def _project(self):
        controller = self._project_controller()
        return getattr(controller, "project", None) if controller is not None else None

    def model(self) -> ModelChoice:
        """The model Auto-segment would run now, or why there is none."""
        project = self._project()
        if project is not None:
            try:
                folder = project.active_auto_model_dir()
            except RadLabelError as e:  # project.json unreadable for a moment (a network share)
                return ModelChoice(None, None, f"The project cannot be read: {e.message}")
            if folder is None:
                return ModelChoice(
                    None,
                    None,
                    "The project has no active automatic model yet: train one with "
                    "Project > Train automatic model... (Ctrl+Shift+T)",
                )
        else:
            chosen = str(self.window.settings.value(SETTING_MODEL, "") or "")
            if not chosen:
                return ModelChoice(
                    None,
                    None,
                    "No automatic model: choose one with Segment > Choose automatic model...",
                )
            folder = Path(chosen)
        return self._read_cached(Path(folder))

    def _read_cached(self, folder: Path) -> ModelChoice:
        try:
            stamp = (folder / "auto_model.json").stat().st_mtime
        except OSError:
            stamp = -1.0
        if self._cache is not None and self._cache[:2] == (str(folder), stamp):
            return self._cache[2]
        choice = read_model(folder)
        self._cache = (str(folder), stamp, choice)
        return choice

    def set_model_dir(self, folder: str | Path) -> bool:
        """Use the model in `folder` when no project is open (remembered); False and an error
        box when it is not a usable automatic model."""
        choice = read_model(Path(folder))
        if choice.card is None:
            self.window.show_error("Cannot use this model", choice.reason)
            return False
        self.window.settings.setValue(SETTING_MODEL, str(Path(folder)))
        self.refresh()
        self.window.statusBar().showMessage(f"Automatic model {choice.version} chosen.", 8000)
        return True

    def choose_model(self) -> bool:
        start = str(self.window.settings.value(SETTING_MODEL, "") or "")
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self.window, "Choose an automatic segmentation model folder", start
        )
        return bool(folder) and self.set_model_dir(folder)

    # --- state ---------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.job is not None

    def _hook_project(self) -> None:
        """Follow the project controller's changes (it may be installed after this part)."""
        controller = self._project_controller()
        if controller is None or controller is self._hooked:
            return
        self._hooked = controller
        for signal in ("project_changed", "versions_changed", "case_changed"):
            if hasattr(controller, signal):
                getattr(controller, signal).connect(lambda *_: self.refresh())

    def refresh(self) -> None:
        """Enable the action only when it can run; its tooltip says which model or why not."""
        self._hook_project()
        why = ""
        choice = self.model()
        if self.running():
            why = "Auto-segment is running."
        elif self.window.document is None:
            why = "Open an image first."
        elif choice.card is None:
            why = choice.reason
        elif self.window.read_only:  # a project case another user holds
            why = self.window.read_only
        self.action.setEnabled(not why)
        tip = (
            why or f"Auto-segment the study with the automatic model {choice.version} ({SHORTCUT})"
        )
        self.action.setToolTip(f"Auto-segment ({SHORTCUT}): {why}" if why else tip)
        self.action.setStatusTip(self.action.toolTip())
        self.choose_action.setEnabled(self._project() is None and not self.running())

    def _on_document(self, doc) -> None:
        if self.job is not None and doc is not self._run_doc:
            self.cancel()  # its result would be dropped: free the CPU now
        self.refresh()

    # --- running -------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the model on the open study; False (with a status-bar line) when it cannot."""
        self.refresh()
        if not self.action.isEnabled():
            self.window.statusBar().showMessage(self.action.toolTip(), 8000)
            return False
        doc = self.window.document
        choice = self.model()
        image = doc.volume.array
        spacing_zyx = tuple(float(s) for s in reversed(doc.volume.geometry.spacing))
        direction = doc.volume.geometry.direction
        folder = choice.folder

        labels, version = choice.card["labels"], choice.version
        watch = self._watch = ChangeWatch(doc)

        def work(progress, cancelled):
            result = run_auto_segment(
                folder,
                image,
                spacing_zyx,
                direction=direction,
                progress=lambda f: progress(f, ""),
                should_stop=cancelled,
            )
            if result is None or cancelled():
                return None
            # the merge reads a whole CT (seconds): here, not on the UI thread; valid unless
            # the labels or segments changed meanwhile (then it is redone at landing)
            seen = watch.count
            command, report = auto_result_command(doc, result, labels, version)
            return Landing(result, command, report, seen)

        self._run_doc, self._run_model = doc, choice
        self.job = BackgroundJob(work, self)
        text = f"Auto-segmenting with the automatic model {choice.version}..."
        self.progress = QtWidgets.QProgressDialog(text, "Cancel", 0, 1000, self.window)
        self.progress.setWindowTitle("Auto-segment")
        self.progress.setWindowModality(QtCore.Qt.NonModal)  # the views stay usable
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self.cancel)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.start()
        self.progress.show()
        self.window.statusBar().showMessage(text, STATUS_MS)
        self.refresh()
        return True

    def cancel(self) -> None:
        """Ask the model to stop; the document stays as it is."""
        if self.job is not None:
            self.job.cancel_event.set()
            if self.progress is not None:
                # QProgressDialog hides itself on Cancel: show it again until the job has stopped
                self.progress.setLabelText("Cancelling...")
                self.progress.show()
            self.window.statusBar().showMessage("Cancelling Auto-segment...", STATUS_MS)

    def _on_progress(self, fraction: float, _text: str) -> None:
        if (
            self.progress is not None
            and self.job is not None
            and not self.job.cancel_event.is_set()
        ):
            self.progress.setValue(int(round(1000 * min(1.0, max(0.0, fraction)))))
            if fraction >= 1.0:  # the merge into the labels follows (seconds for a big CT)
                self.progress.setLabelText("Putting the result into the labels...")

    def _finish_job(self) -> tuple[bool, object, ModelChoice | None]:
        cancelled = self.job is None or self.job.cancel_event.is_set()
        if self.job is not None:
            self.job.wait()
            self.job.deleteLater()
        self.job = None
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        doc, choice = self._run_doc, self._run_model
        self._run_doc = self._run_model = None
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self.refresh()
        return cancelled, doc, choice

    def _on_done(self, landing) -> None:
        watch = self._watch
        cancelled, doc, choice = self._finish_job()
        status = self.window.statusBar()
        if cancelled or landing is None:
            status.showMessage("Auto-segment cancelled: the labels are as they were.", 8000)
            self.finished.emit(None)
            return
        if doc is not self.window.document:
            status.showMessage("Auto-segment result dropped: another study was opened.", 8000)
            self.finished.emit(None)
            return
        if self.window.read_only:
            status.showMessage(self.window.read_only, 8000)
            self.finished.emit(None)
            return
        command, report = landing.command, landing.report
        if watch is None or watch.count != landing.seen:  # edited while the merge ran
            log.info("labels changed during the auto-segment merge: merging again")
            command, report = auto_result_command(
                doc, landing.result, choice.card["labels"], choice.version
            )
        if command is not None:
            self.window.execute(command)
        self._keep_as_original()
        status.showMessage(report.text(), STATUS_MS)
        self.finished.emit(report)

    def _keep_as_original(self) -> None:
        """In a project case without an `original` label, the automatic result is it."""
        controller = self._project_controller()
        if controller is not None:
            controller.save_original()

    def _on_failed(self, message: str) -> None:
        cancelled, _doc, _choice = self._finish_job()
        if cancelled:
            self.window.statusBar().showMessage("Auto-segment cancelled.", 8000)
        else:
            self.window.show_error("Auto-segment failed", message)
        self.finished.emit(None)

    def _on_window_closed(self) -> None:
        """Cancel and let go at once: the window closes without waiting for the model to stop.
        The job keeps itself alive until it ends (`BackgroundJob.running`; the application
        waits for it, bounded, at quit), and its result, if any, goes nowhere."""
        job = self.job
        if job is None:
            return
        job.cancel_event.set()
        for signal, slot in (
            (job.progressed, self._on_progress),
            (job.succeeded, self._on_done),
            (job.failed, self._on_failed),
        ):
            try:
                signal.disconnect(slot)
            except TypeError:  # not connected
                pass
        self.job = None
        self._finish_job()


def install_auto_segment(window) -> AutoSegmentController:
    """Add Segment > Auto-segment and its toolbar button to a MainWindow (idempotent)."""
    if window.auto_segment is None:
        window.set_auto_segment(AutoSegmentController(window))
    return window.auto_segment


__all__ = ["AutoReport", "AutoSegmentController", "install_auto_segment", "segment_menu"]
