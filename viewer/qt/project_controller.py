"""Projects in the main window: the open `Project`, the case being edited in it (its lock, time
and clicks, read-only when another user holds it), saving into the project (Ctrl+S -> `draft`,
the first accepted AI result -> `original`, Submit -> `final`), the model the AI tool uses (the
project's active version) and the retrain that may run. `install_project(window)` adds it with
its menus (`viewer.qt.project_menu`) and its panel (`viewer.qt.project_panel`).

The retrain of the interactive model and the training of the automatic model (Project > Train
automatic model...) are both training runs of `viewer.project.retrain` in their own process:
one at a time per project (one lock), shown in the panel's training view by one monitor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from viewer.errors import RadLabelError
from viewer.model.document import Document
from viewer.project import Project
from viewer.project.store import default_user
from viewer.project.uncertainty import from_cache
from viewer.qt.project_case import case_document
from viewer.qt.project_menu import ProjectMenu
from viewer.qt.project_panel import PANEL_TITLE, ProjectPanel
from viewer.qt.read_only import set_read_only
from viewer.qt.settings import add_recent_project
from viewer.qt.training_view import RetrainMonitor, result_text
from viewer.qt.unsaved_guard import confirm_unsaved

log = logging.getLogger(__name__)
LOCK_HEARTBEAT_MS = 5 * 60 * 1000  # the case lock is stale after hours: a touch now and then
Q = QtWidgets.QMessageBox


@dataclass
class CaseSession:
    """The project case open in the window."""

    case_id: str
    document: Document
    holder: str | None  # who else holds the case (None: this user has its lock)
    started: float  # time.monotonic() when opened
    clicks: int = 0  # mouse presses with an editing or AI tool in the slice views
    submitted: bool = False
    stamp: str | None = None  # the case's `updated` when opened or last saved from here

    @property
    def read_only(self) -> bool:
        return self.holder is not None or self.submitted

    def seconds(self) -> float:
        return time.monotonic() - self.started


class ProjectController(QtCore.QObject):
    """Owns the project side of one main window (create it with `install_project`).

    project_changed(Project | None), case_changed(case id | None), cases_changed() after
    anything that changes the case list (states, locks, Dice), versions_changed() after a
    retrain, an automatic training or an activation, retrain_started(RetrainMonitor) when a
    training of either kind starts (or is re-attached)."""

    project_changed = QtCore.pyqtSignal(object)
    case_changed = QtCore.pyqtSignal(object)
    cases_changed = QtCore.pyqtSignal()
    versions_changed = QtCore.pyqtSignal()
    retrain_started = QtCore.pyqtSignal(object)

    def __init__(self, window, user: str | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.user = user or default_user()
        self.project = None
        self.session: CaseSession | None = None
        self.monitor: RetrainMonitor | None = None
        self.open_next_after_submit = True
        # a retrain's step limit besides its time budget (0: the budget alone); the project's
        # settings hold the budget and threads
        self.retrain_max_steps = 0
        # the same for the automatic model's training (steps per fold and stage), and its
        # options (e.g. {"max_patch": 16}) for small machines and tests
        self.auto_max_steps = 0
        self.auto_options: dict = {}
        self.train_dialog = None  # the last Project > Train automatic model... dialog
        self._close_choice: int | None = None  # the answer about a running retrain at quit
        self._heartbeat = QtCore.QTimer(self)
        self._heartbeat.setInterval(LOCK_HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._touch_lock)
        window.document_changed.connect(self._on_document)
        window.closed.connect(self._on_window_closed)
        window.installEventFilter(self)
        self._viewports = [sv.canvas.viewport() for sv in window.slice_views.values()]
        for vp in self._viewports:
            vp.installEventFilter(self)
        if window.ai is not None:
            window.ai.accepted.connect(self.save_original)
        self.model_label = QtWidgets.QLabel("")
        window.statusBar().addPermanentWidget(self.model_label)
        self.menu = ProjectMenu(self)
        self.panel = ProjectPanel(self)
        self.dock = window.add_panel(self.panel, PANEL_TITLE)
        self._refresh_model()

    # --- projects ----------------------------------------------------------------------------
    def new_project(self, folder, name: str, labels) -> bool:
        """Create a project in `folder` and open it."""
        if not self.close_project():
            return False
        try:
            project = Project.create(Path(folder), name, list(labels))
        except RadLabelError as e:
            self.window.show_error("Cannot create the project", e.message)
            return False
        self._adopt(project)
        return True

    def open_project(self, folder) -> bool:
        """Open the project in `folder` (closing the one open, after its questions)."""
        try:
            project = Project.open(Path(folder))
        except RadLabelError as e:
            self.window.show_error("Cannot open the project", e.message)
            return False
        if not self.close_project():
            return False
        self._adopt(project)
        return True

    def _adopt(self, project) -> None:
        self.project = project
        add_recent_project(self.window.settings, str(project.folder))
        self.menu.fill_recent()
        self._attach_running_retrain()
        self._refresh_model()
        self.project_changed.emit(project)
        self.window.show_dock(PANEL_TITLE)
        damaged = project.damaged_cases()
        if damaged:  # the others open; this one needs someone to look at its file
            more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
            self.window.statusBar().showMessage(
                f"A damaged case is left out: {damaged[0]}{more}", 30000
            )
        else:
            self.window.statusBar().showMessage(
                f"Project {project.name} open: {project.folder}", 8000
            )

    def close_project(self) -> bool:
        """Close the open project: its case (after the unsaved-labels question, whose Save
        saves a draft) is closed and unlocked. False when the user cancelled."""
        if self.project is None:
            return True
        if self.session is not None:
            if not confirm_unsaved(self.window, "closing the project"):
                return False
            self.window.set_document(None)  # ends the case session (its lock is released)
        if self.monitor is not None:
            self.monitor.timer.stop()  # it keeps running; reopening the project re-attaches
            self.monitor = None
        self.project = None
        self._refresh_model()
        self.project_changed.emit(None)
        return True

    # --- cases ------------------------------------------------------------------------------------
    def open_case(self, case_id: str) -> bool:
        """Open a case for editing: its lock is taken (another user holds it: open read-only,
        naming who), then its image and newest label replace the open document after the
        unsaved-labels question."""
        project = self.project
        if project is None:
            return False
        current = self.session
        if current is not None and current.case_id == case_id:
            if not current.read_only:
                return True
            self.window.set_document(None)  # a read-only view of it: try for the lock again
        locked = False
        notes: list[str] = []
        try:
            locked = project.acquire_lock(case_id, self.user, this_process_only=True)
            holder = None if locked else (project.lock_holder(case_id) or "another user")
            stamp = project.case_stamp(case_id)  # read before the labels: a save between shows
            doc = case_document(project, case_id, notes)
            source = str(project.image_path(case_id))
        except Exception as e:
            if locked:
                project.release_lock(case_id, self.user, this_process_only=True)
            if isinstance(e, RadLabelError):
                self.window.show_error("Cannot open the case", e.message)
            else:  # an unexpected failure must not take the window down
                log.exception("opening case %s failed", case_id)
                self.window.show_error(
                    "Cannot open the case", f"{case_id}: {type(e).__name__}: {e}"
                )
            return False
        if not self.window.adopt_volume(
            doc.volume, source, f"opening case {case_id}", remember=False, document=doc
        ):
            if locked:
                project.release_lock(case_id, self.user, this_process_only=True)
            return False
        self.session = CaseSession(case_id, doc, holder, time.monotonic(), stamp=stamp)
        self._apply_session()
        if notes:
            self.window.statusBar().showMessage(f"{case_id}: {'; '.join(notes)}", 20000)
        if holder is not None:
            set_read_only(self.window, read_only_text(case_id, holder))
        self._heartbeat.start()
        self.case_changed.emit(case_id)
        self.cases_changed.emit()
        return True

    def next_case(self) -> bool:
        """Open the case to label next (Project.next_case); says so when none is left."""
        if self.project is None:
            return False
        try:
            # as nobody in particular: the case this window holds is not offered again
            record = self.project.next_case(uncertainty=from_cache(self.project))
        except RadLabelError as e:
            self.window.show_error("Cannot choose the next case", e.message)
            return False
        if record is None:
            self.window.statusBar().showMessage("No case left to label in this project.", 10000)
            return False
        return self.open_case(record.case_id)

    def save_draft(self) -> bool:
        """Ctrl+S in a project case: its label goes into the project as `draft`."""
        s = self.session
        if s is None or self.project is None:
            return False
        if s.read_only:
            self.window.statusBar().showMessage(self.window.read_only, 10000)
            return False
        doc = s.document
        try:
            s.stamp = self.project.save_label(
                s.case_id, "draft", doc.labels, user=self.user, expect_updated=s.stamp
            )
        except RadLabelError as e:
            self.window.show_error("Cannot save the case", e.message)
            return False
        self._mark_saved(doc)
        self.window.statusBar().showMessage(f"Case {s.case_id} saved in the project.", 8000)
        self.cases_changed.emit()
        return True

    def save_original(self) -> None:
        """The first AI result accepted in a case becomes its `original` label (kept once: it
        measures how much the user corrected afterwards)."""
        s = self.session
        if s is None or self.project is None or s.read_only:
            return
        try:
            if self.project.label_path(s.case_id, "original") is not None:
                return
            s.stamp = self.project.save_label(
                s.case_id, "original", s.document.labels, user=self.user, expect_updated=s.stamp
            )
        except RadLabelError as e:
            self.window.show_error("Cannot keep the AI result", e.message)
            return
        self.cases_changed.emit()

    def submit(self, move_next: bool | None = None) -> bool:
        """Save the case's `final` label, mark it finished with the time spent and the clicks,
        release its lock, then (`move_next`, default: the panel's choice) open the next case."""
        s = self.session
        if s is None or self.project is None:
            self.window.statusBar().showMessage("Open a project case to submit it.", 8000)
            return False
        if s.read_only:
            self.window.statusBar().showMessage(self.window.read_only, 10000)
            return False
        doc = s.document
        try:
            record = self.project.submit(
                s.case_id,
                doc.labels,
                user=self.user,
                time_spent_s=s.seconds(),
                clicks=s.clicks,
                expect_updated=s.stamp,
            )
        except RadLabelError as e:
            self.window.show_error("Cannot submit the case", e.message)
            return False
        self._mark_saved(doc)
        s.stamp = record.updated
        s.submitted = True
        self.project.release_lock(s.case_id, self.user, this_process_only=True)
        self._heartbeat.stop()
        set_read_only(self.window, submitted_text(s.case_id))
        self.cases_changed.emit()
        self.window.statusBar().showMessage(f"Case {record.case_id} submitted.", 10000)
        self._maybe_auto_retrain()
        if self.open_next_after_submit if move_next is None else move_next:
            self.next_case()
        return True

    def _mark_saved(self, doc: Document) -> None:
        doc.dirty = False
        self.window.history.mark_clean()
        if self.window.editing is not None:
            self.window.editing.forget_autosave()

    def _apply_session(self) -> None:
        """Ctrl+S saves into the project while a case is open."""
        editing = self.window.editing
        if editing is not None:
            editing.save_handler = self.save_draft if self.session is not None else None

    def _on_document(self, doc) -> None:
        s = self.session
        if s is not None and doc is not s.document:
            self._end_session()

    def _end_session(self) -> None:
        s, self.session = self.session, None
        self._heartbeat.stop()
        if s is not None and self.project is not None and s.holder is None and not s.submitted:
            try:
                self.project.release_lock(s.case_id, self.user, this_process_only=True)
            except RadLabelError as e:
                log.warning("releasing the lock of case %s failed: %s", s.case_id, e)
        if self.window.read_only:
            set_read_only(self.window, "")
        self._apply_session()
        self.case_changed.emit(None)
        self.cases_changed.emit()

    def _touch_lock(self) -> None:
        """The heartbeat: keeps this window's case lock fresh, takes it again if it was broken
        as stale (a laptop asleep), and says so when someone else holds it now."""
        s = self.session
        if s is None or self.project is None or s.read_only:
            return
        try:
            held = self.project.acquire_lock(s.case_id, self.user, this_process_only=True)
            holder = None if held else self.project.lock_holder(s.case_id)
        except RadLabelError as e:
            log.warning("the heartbeat of case %s failed: %s", s.case_id, e)
            return
        if not held:
            self.window.statusBar().showMessage(taken_over_text(s.case_id, holder), 0)

    # --- models and retraining --------------------------------------------------------------------
    def activate(self, version_id: str | None) -> bool:
        """Make a version the active one (None: the shipped base); the next AI click uses it."""
        if self.project is None:
            return False
        try:
            self.project.activate(version_id, user=self.user)
        except RadLabelError as e:
            self.window.show_error("Cannot activate the version", e.message)
            return False
        self._refresh_model()
        self.versions_changed.emit()
        return True

    def retrain_now(self) -> bool:
        """Start a retrain of the active model on the finished cases, in its own process."""
        from viewer.project.retrain import RetrainJob  # the training side: loaded when used

        if self.project is None:
            return False
        if self._training_runs():
            return False
        settings = self.project.settings()
        try:
            job = RetrainJob.start(
                self.project.folder,
                minutes=float(settings.get("retrain_minutes", 10.0)),
                threads=int(settings.get("retrain_threads", 2)),
                user=self.user,
                max_steps=int(self.retrain_max_steps),
            )
        except RadLabelError as e:
            self.window.show_error("Cannot retrain", e.message)
            return False
        self._watch(job)
        return True

    def _training_runs(self) -> bool:
        """True (and the one message, in the status bar) when this window's training runs."""
        if self.monitor is None or not self.monitor.running:
            return False
        what = "the automatic model's training" if self.monitor.kind == "auto" else "a retrain"
        self.window.statusBar().showMessage(busy_text(what), 10000)
        return True

    def finished_cases(self) -> int:
        """How many cases of the open project are finished (0 without a project)."""
        if self.project is None:
            return 0
        try:
            return sum(c.state == "finished" for c in self.project.cases())
        except RadLabelError:
            return 0

    def train_auto_dialog(self):
        """Project > Train automatic model...: the budget dialog (window-modal, not blocking);
        its Train starts the training. None (and the one message) when it cannot start."""
        from viewer.project.auto_train_run import resumable_auto_run

        if self.project is None or self._training_runs():
            return None
        from viewer.qt.auto_train_dialog import AutoTrainDialog

        try:
            settings = self.project.settings()
            run = resumable_auto_run(self.project)
            resumable = None if run is None else (run.run_id, run.settings())
        except RadLabelError as e:
            self.window.show_error("Cannot train the automatic model", e.message)
            return None
        minutes = float(settings.get("auto_train_minutes", 60.0) or 60.0)
        dialog = AutoTrainDialog(self.window, minutes, resumable=resumable)
        dialog.accepted.connect(lambda: self.train_auto(**dialog.choice()))
        self.train_dialog = dialog
        dialog.open()
        return dialog

    def train_auto(
        self, minutes: float, fold: str = "cv", folds: int = 5, resume: str | None = None
    ) -> bool:
        """Start (or resume) the automatic model's training on the finished cases, in its own
        process; the training view shows it."""
        from viewer.project.auto_train_run import start_auto_training

        if self.project is None or self._training_runs():
            return False
        try:
            settings = self.project.settings()
            if resume is None and float(settings.get("auto_train_minutes", 0)) != minutes:
                self.project.update_settings(user=self.user, auto_train_minutes=float(minutes))
            job = start_auto_training(
                self.project.folder,
                minutes=minutes,
                fold=fold,
                folds=folds,
                threads=int(settings.get("retrain_threads", 2)),
                user=self.user,
                max_steps=int(self.auto_max_steps),
                resume=resume,
                options=dict(self.auto_options),
            )
        except RadLabelError as e:
            self.window.show_error("Cannot train the automatic model", e.message)
            return False
        self._watch(job)
        return True

    def _attach_running_retrain(self) -> None:
        """A retrain of this project still running (started before it was closed, or by this
        user's earlier session) is shown again."""
        from viewer.project.retrain import RetrainJob  # the training side: loaded when used

        try:
            job = RetrainJob.attach(self.project.folder)
        except RadLabelError as e:  # a damaged run record: the project still opens
            log.warning("cannot re-attach to a retrain: %s", e.message)
            return
        if job is not None:
            self._watch(job)

    def _watch(self, job) -> None:
        self.monitor = RetrainMonitor(job, self)
        self.monitor.ended.connect(self._retrain_finished)
        self.retrain_started.emit(self.monitor)
        self.window.show_dock(PANEL_TITLE)

    def _retrain_finished(self, event: dict) -> None:
        title = self.monitor.title if self.monitor is not None else "Retrain"
        self.window.statusBar().showMessage(result_text(event, title), 30000)
        self._refresh_model()
        self.versions_changed.emit()

    def _maybe_auto_retrain(self) -> None:
        """Retrain by itself after N newly finished cases (the project's setting; 0 = off)."""
        if self.monitor is not None and self.monitor.running:
            return
        try:
            due = self.project.auto_retrain_due()
        except RadLabelError as e:
            log.warning("cannot tell whether a retrain is due: %s", e.message)
            return
        if due:
            self.retrain_now()

    def _refresh_model(self) -> None:
        """The AI tool answers with the project's active model; the status bar names it."""
        project = self.project
        if project is None:
            self.model_label.setText("")
            if self.window.ai is not None:
                self.window.ai.set_model_dir(None)
            return
        try:
            model_dir, active = project.active_model_dir(), project.active_version()
        except RadLabelError as e:  # project.json damaged meanwhile: say so, keep the model
            self.model_label.setText(f"Project {project.name}: {e.message}")
            return
        self.show_model(model_dir, active)

    def show_model(self, model_dir, active: str | None) -> None:
        """Use `model_dir` (the project's active version `active`, None: the shipped base) for
        the AI tool, and name it in the status bar."""
        if self.project is None:
            return
        if self.window.ai is not None:
            self.window.ai.set_model_dir(Path(model_dir))
        self.model_label.setText(f"Project {self.project.name}: model {active or 'base (shipped)'}")

    # --- window events ------------------------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        t = ev.type()
        if t == QtCore.QEvent.MouseButtonPress and obj in self._viewports:
            s = self.session
            if s is not None and not s.read_only and self.window.active_tool is not None:
                s.clicks += 1
            return False
        if obj is self.window and t == QtCore.QEvent.Close:
            if self.monitor is not None and self.monitor.running:
                answer = ask_retrain_at_quit(self.window, self.monitor.kind)
                if answer not in (Q.Yes, Q.No):
                    ev.ignore()
                    return True
                self._close_choice = answer  # acted on when the close is final
        return False

    def _on_window_closed(self) -> None:
        self.panel.stop_reading()
        if self.monitor is not None and self.monitor.running and self._close_choice == Q.No:
            self.monitor.cancel()
        if self.monitor is not None:
            self.monitor.timer.stop()  # the window is gone: nobody watches it any more
            self.monitor = None
        if self.session is not None:
            self._end_session()


def read_only_text(case_id: str, holder: str) -> str:
    return f"Case {case_id} is being edited by {holder}: it is open read-only."


def taken_over_text(case_id: str, holder: str | None) -> str:
    return (
        f"Case {case_id} is now being edited by {holder or 'someone else'}: saving here will be "
        "refused if they save it; keep your labels with Save labels as..."
    )


def submitted_text(case_id: str) -> str:
    return f"Case {case_id} is submitted: open it again from the Project panel to change it."


def busy_text(what: str) -> str:
    return (
        f"{what[0].upper()}{what[1:]} of this project is running: one training at a time "
        "(wait for it, or cancel it in the Project panel)."
    )


def ask_retrain_at_quit(window, kind: str = "retrain") -> int:
    """Yes: the training keeps running (its version is published when it ends); No: it is
    cancelled (a cancelled automatic training can be resumed); Cancel: RadLabel stays open."""
    if kind == "auto":
        title, what = "An automatic training is running", "The automatic model's training"
    else:
        title, what = "A retrain is running", "A retrain of the project's model"
    return Q.question(
        window,
        title,
        f"{what} is running. Keep it running after RadLabel closes?\n"
        "Yes: it goes on and publishes its version when it ends. No: it is cancelled.",
        Q.Yes | Q.No | Q.Cancel,
        Q.Yes,
    )


def install_project(window, user: str | None = None) -> ProjectController:
    """Add projects (menus, the Project panel) to a MainWindow; idempotent. Install after the
    editing and AI parts: Ctrl+S and the AI tool's accepted results are routed through it."""
    if window.project is None:
        window.set_project(ProjectController(window, user))
    return window.project
