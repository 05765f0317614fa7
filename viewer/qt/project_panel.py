"""The Project panel: the open project's cases (state, who edits, Dice original<->final, time
spent; double-click opens one), Next case / Submit / Retrain now, the automatic-retrain
setting, the model versions (date, candidate score beside the active one's, active mark) with
Activate, Train automatic model... with the automatic model's versions (which is active), and
the training view (the retrain's or the automatic training's). It mirrors the ProjectController, which does the work; the
case list is re-read every few seconds while shown (other users take and give back cases)."""

from __future__ import annotations

import logging

from PyQt5 import QtCore, QtWidgets

from viewer.errors import RadLabelError
from viewer.project.auto_train_run import MIN_CASES
from viewer.qt.background_job import BackgroundJob
from viewer.qt.training_view import TrainingView, mean_dice

log = logging.getLogger(__name__)

PANEL_TITLE = "Project"
REFRESH_MS = 5000  # re-read case states and locks while the panel is visible
CASE_COLUMNS = ("Case", "State", "Editor", "Dice", "Time")
VERSION_COLUMNS = ("Version", "Created", "Score", "Before", "")
STATE_TEXT = {"new": "new", "in_progress": "in progress", "finished": "finished"}


class ProjectPanel(QtWidgets.QWidget):
    short_title = "Project"

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._damaged_shown: list[str] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.header = QtWidgets.QLabel("")
        self.header.setWordWrap(True)
        lay.addWidget(self.header)
        self.cases = _table(CASE_COLUMNS)
        self.cases.setToolTip("Double-click a case to open it")
        self.cases.cellDoubleClicked.connect(self._case_double_clicked)
        lay.addWidget(self.cases, 2)
        row = QtWidgets.QHBoxLayout()
        self.next_button = _button("Next case", "Open the case to label next (Ctrl+Shift+N)")
        self.next_button.clicked.connect(lambda: controller.next_case())
        self.submit_button = _button(
            "Submit", "Save the label as final and mark the case finished (Ctrl+Return)"
        )
        self.submit_button.clicked.connect(lambda: controller.submit())
        row.addWidget(self.next_button)
        row.addWidget(self.submit_button)
        lay.addLayout(row)
        self.next_after_submit = QtWidgets.QCheckBox("Open the next case after Submit")
        self.next_after_submit.setChecked(controller.open_next_after_submit)
        self.next_after_submit.toggled.connect(
            lambda on: setattr(controller, "open_next_after_submit", on)
        )
        lay.addWidget(self.next_after_submit)
        lay.addWidget(QtWidgets.QLabel("<b>Model versions</b>"))
        self.versions = _table(VERSION_COLUMNS)
        self.versions.setToolTip(
            "Mean Dice@1/3/5 on the validation cases: the version's, and the model's that was "
            "active when it was measured"
        )
        lay.addWidget(self.versions, 1)
        vrow = QtWidgets.QHBoxLayout()
        self.activate_button = _button("Activate", "Use the selected version (a rollback too)")
        self.activate_button.clicked.connect(self._activate_selected)
        self.base_button = _button("Use base model", "Go back to the shipped model")
        self.base_button.clicked.connect(lambda: controller.activate(None))
        vrow.addWidget(self.activate_button)
        vrow.addWidget(self.base_button)
        lay.addLayout(vrow)
        rrow = QtWidgets.QHBoxLayout()
        self.retrain_button = _button(
            "Retrain now", "Fine-tune the active model on the finished cases"
        )
        self.retrain_button.clicked.connect(lambda: controller.retrain_now())
        rrow.addWidget(self.retrain_button)
        self.auto_retrain = QtWidgets.QSpinBox()
        self.auto_retrain.setRange(0, 1000)
        self.auto_retrain.setPrefix("then after ")
        self.auto_retrain.setSpecialValueText("by hand only")
        self.auto_retrain.setSuffix(" cases")
        self.auto_retrain.setToolTip(
            "Start a retrain by itself after this many newly finished cases (0: by hand only)"
        )
        self.auto_retrain.valueChanged.connect(self._auto_retrain_changed)
        rrow.addWidget(self.auto_retrain, 1)
        lay.addLayout(rrow)
        arow = QtWidgets.QHBoxLayout()
        self.train_auto_button = _button(
            "Train automatic model...",
            "Train the automatic segmentation model on the finished cases (Ctrl+Shift+T)",
        )
        self.train_auto_button.clicked.connect(lambda: controller.train_auto_dialog())
        arow.addWidget(self.train_auto_button)
        self.auto_models = QtWidgets.QLabel("")
        self.auto_models.setWordWrap(True)
        arow.addWidget(self.auto_models, 1)
        lay.addLayout(arow)
        self._case_rows: list = []
        self.finished = 0  # finished cases in the list last read (the menu's entries use it)
        self.reader: BackgroundJob | None = None  # the periodic re-read in flight
        self._version_rows: list = []
        self.training = TrainingView()
        lay.addWidget(self.training, 2)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._refresh_if_shown)
        self.timer.start()
        controller.project_changed.connect(lambda *_: self.refresh())
        controller.cases_changed.connect(self.refresh_cases)
        controller.case_changed.connect(lambda *_: self._buttons())
        controller.versions_changed.connect(self.refresh_versions)
        controller.retrain_started.connect(self._retrain_started)
        self.versions.itemSelectionChanged.connect(self._buttons)
        self.refresh()

    # --- filling ------------------------------------------------------------------------------
    def refresh(self) -> None:
        project = self.controller.project
        if project is None:
            self.header.setText("No project open: File > New project... or Open project...")
        else:
            self.header.setText(f"<b>{project.name}</b><br>{project.folder}")
            self.auto_retrain.blockSignals(True)
            self.auto_retrain.setValue(int(_settings(project).get("auto_retrain_after", 0) or 0))
            self.auto_retrain.blockSignals(False)
        self.refresh_cases()
        self.refresh_versions()

    def refresh_cases(self) -> None:
        project = self.controller.project
        rows = []
        if project is not None:
            try:
                rows = read_cases(project)
            except RadLabelError as e:
                self.header.setText(f"{project.name}: {e.message}")
        self._show_cases(rows)

    def _show_cases(self, rows: list) -> None:
        current = self.controller.session.case_id if self.controller.session else None
        table = [(case_texts(c, holder), c.case_id == current) for c, holder in rows]
        if table != self._case_rows:  # unchanged: keep the selection and scroll position
            self._case_rows = table
            _fill(self.cases, table)
        finished = sum(texts[1] == STATE_TEXT["finished"] for texts, _ in table)
        if finished != self.finished:
            self.finished = finished
            self.controller.menu.refresh()
        self._buttons()

    def refresh_versions(self) -> None:
        project = self.controller.project
        versions = []
        auto = ([], None)
        if project is not None:
            try:
                versions = project.versions()
                auto = read_auto_versions(project)
            except RadLabelError as e:
                self.header.setText(f"{project.name}: {e.message}")
        self._show_versions(versions)
        self._show_auto(*auto)

    def _show_auto(self, versions: list[str], active: str | None) -> None:
        self.auto_models.setText(auto_models_text(versions, active))
        self.auto_models.setToolTip(", ".join(versions))

    def _show_versions(self, versions: list) -> None:
        table = [(version_texts(v), v.active) for v in versions]
        if table != self._version_rows:
            self._version_rows = table
            _fill(self.versions, table)
        self._buttons()

    def _buttons(self) -> None:
        c = self.controller
        has = c.project is not None
        s = c.session
        self.next_button.setEnabled(has)
        self.submit_button.setEnabled(s is not None and not s.read_only)
        idle = not (c.monitor is not None and c.monitor.running)
        self.retrain_button.setEnabled(has and idle)
        self.train_auto_button.setEnabled(has and idle and self.finished >= MIN_CASES)
        self.auto_retrain.setEnabled(has)
        self.activate_button.setEnabled(has and self.selected_version() is not None)
        self.base_button.setEnabled(has)

    def _refresh_if_shown(self) -> None:
        """Other instances take cases, submit, retrain and activate: follow them while shown.
        The files are read off the UI thread (a network drive may be slow to answer)."""
        project = self.controller.project
        if project is None or not self.isVisible() or self.reader is not None:
            return
        job = BackgroundJob(lambda _progress, _cancel: read_state(project), self)
        job.succeeded.connect(lambda state: self._show_state(project, state))
        job.failed.connect(lambda message: log.warning("re-reading the project: %s", message))
        job.finished.connect(self._reader_done)
        self.reader = job
        job.start()

    def _reader_done(self) -> None:
        if self.reader is not None:
            self.reader.deleteLater()
        self.reader = None

    def _show_state(self, project, state: dict) -> None:
        if project is not self.controller.project:
            return  # closed or replaced while it was read
        self._show_cases(state["cases"])
        self._show_versions(state["versions"])
        self._show_auto(*state["auto"])
        self.controller.show_model(state["model_dir"], state["active"])
        damaged = state.get("damaged", [])
        if damaged and damaged != self._damaged_shown:  # said once per change, not every poll
            more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
            self.controller.window.statusBar().showMessage(
                f"A damaged case is left out: {damaged[0]}{more}", 30000
            )
        self._damaged_shown = damaged

    def stop_reading(self) -> None:
        """Wait for a read in flight (the window closes: its thread must not outlive it)."""
        self.timer.stop()
        if self.reader is not None:
            self.reader.wait(10000)

    # --- actions ------------------------------------------------------------------------------------
    def row_of_case(self, case_id: str) -> int:
        for i in range(self.cases.rowCount()):
            if self.cases.item(i, 0).text() == case_id:
                return i
        return -1

    def row_of_version(self, version_id: str) -> int:
        for i in range(self.versions.rowCount()):
            if self.versions.item(i, 0).text() == version_id:
                return i
        return -1

    def selected_version(self) -> str | None:
        rows = {i.row() for i in self.versions.selectedItems()}
        if len(rows) != 1:
            return None
        return self.versions.item(rows.pop(), 0).text()

    def _case_double_clicked(self, row: int, _col: int) -> None:
        item = self.cases.item(row, 0)
        if item is not None:
            self.controller.open_case(item.text())

    def _activate_selected(self) -> None:
        vid = self.selected_version()
        if vid is not None:
            self.controller.activate(vid)

    def _auto_retrain_changed(self, n: int) -> None:
        project = self.controller.project
        if project is None:
            return
        try:
            project.update_settings(user=self.controller.user, auto_retrain_after=int(n))
        except RadLabelError as e:
            self.controller.window.show_error("Cannot change the setting", e.message)

    def _retrain_started(self, monitor) -> None:
        self.training.attach(monitor)
        monitor.ended.connect(lambda *_: self._buttons())
        self._buttons()


def read_cases(project) -> list:
    """(CaseRecord, lock holder or None) of every case."""
    return [(c, project.lock_holder(c.case_id)) for c in project.cases()]


def read_state(project) -> dict:
    """What the panel shows, read from the project's files (any thread)."""
    return {
        "cases": read_cases(project),
        "damaged": project.damaged_cases(),
        "versions": project.versions(),
        "model_dir": project.active_model_dir(),
        "active": project.active_version(),
        "auto": read_auto_versions(project),
    }


def read_auto_versions(project) -> tuple[list[str], str | None]:
    """The automatic model's versions (auto-001, ...) and the active one."""
    from viewer.project.auto_versions import auto_versions

    active = project.active_auto_model_dir()
    return auto_versions(project), None if active is None else active.name


def auto_models_text(versions: list[str], active: str | None) -> str:
    """'Automatic model: auto-002 active (2 versions)', or that there is none yet."""
    if not versions:
        return "Automatic model: none trained yet"
    n = f"{len(versions)} version{'s' if len(versions) != 1 else ''}"
    if active is None:
        return f"Automatic model: none active ({n})"
    return f"Automatic model: {active} active ({n})"


def case_texts(c, holder: str | None) -> tuple[str, ...]:
    """A case's row: id, state, who edits it (the lock holder) or edited it last, Dice
    original<->final, time spent."""
    editor = f"{holder} (editing)" if holder else (c.editor or "")
    dice = "" if c.dice_original_final is None else f"{c.dice_original_final:.3f}"
    return (c.case_id, STATE_TEXT.get(c.state, c.state), editor, dice, _mmss(c.time_spent_s))


def version_texts(v) -> tuple[str, ...]:
    """A version's row: id, date, its score and the score of the model active when it was
    measured (mean Dice@1/3/5), the active mark."""
    cand = mean_dice(v.metrics.get("candidate"))
    before = mean_dice(v.metrics.get("active_before") or v.metrics.get("active"))
    return (
        v.version_id,
        v.created[5:16].replace("T", " "),  # month-day hour:minute: fits the dock
        "" if cand is None else f"{cand:.3f}",
        "" if before is None else f"{before:.3f}",
        "active" if v.active else "",
    )


def _fill(table: QtWidgets.QTableWidget, rows: list) -> None:
    """Rows of texts; the row whose flag is set is bold (the open case, the active version)."""
    table.setRowCount(len(rows))
    for i, (texts, bold) in enumerate(rows):
        for j, text in enumerate(texts):
            item = QtWidgets.QTableWidgetItem(text)
            font = item.font()
            font.setBold(bool(bold))
            item.setFont(font)
            table.setItem(i, j, item)


def _settings(project) -> dict:
    try:
        return project.settings()
    except RadLabelError:
        return {}


def _table(columns) -> QtWidgets.QTableWidget:
    t = QtWidgets.QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(list(columns))
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
    t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
    t.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
    header.setStretchLastSection(True)
    t.setMinimumHeight(90)
    return t


def _button(text: str, tip: str) -> QtWidgets.QPushButton:
    b = QtWidgets.QPushButton(text)
    b.setToolTip(tip)
    b.setAutoDefault(False)
    return b


def _mmss(seconds: float) -> str:
    s = int(round(float(seconds or 0.0)))
    return f"{s // 60}:{s % 60:02d}"
