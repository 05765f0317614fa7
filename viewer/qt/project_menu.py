"""The project entries of the menus: File > New project..., Open project..., Recent projects,
Close project, and the Project menu: Next case (Ctrl+Shift+N), Submit case (Ctrl+Return),
Retrain now, Train automatic model... (Ctrl+Shift+T), the Project panel. Each entry enables
itself when it can act."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.project.auto_train_run import MIN_CASES
from viewer.qt import menus
from viewer.qt.project_panel import PANEL_TITLE
from viewer.qt.settings import recent_projects

NEXT_CASE_KEYS = ["Ctrl+Shift+N"]
SUBMIT_KEYS = ["Ctrl+Return", "Ctrl+Enter"]  # Enter alone accepts the AI preview
TRAIN_AUTO_KEYS = ["Ctrl+Shift+T"]
TRAIN_AUTO_TIP = "Train the project's automatic segmentation model on its finished cases"


class ProjectMenu:
    """Owns the project actions of a ProjectController's window."""

    def __init__(self, controller) -> None:
        self.controller = controller
        w = controller.window
        self.new_dialog = None  # the last File > New project dialog
        file_menu = menus.file_menu(w)
        before = menus.before_quit(file_menu)
        self.new_action = _action(w, "&New project...", [], self.show_new_dialog)
        self.open_action = _action(w, "Open p&roject...", [], self.open_dialog)
        self.recent_menu = QtWidgets.QMenu("Recent projects", file_menu)
        self.close_action = _action(w, "Close project", [], controller.close_project)
        file_menu.insertSeparator(before)
        for a in (self.new_action, self.open_action):
            file_menu.insertAction(before, a)
        file_menu.insertMenu(before, self.recent_menu)
        file_menu.insertAction(before, self.close_action)
        self.menu = w.menuBar().addMenu("&Project")
        self.next_action = _action(w, "&Next case", NEXT_CASE_KEYS, controller.next_case)
        self.submit_action = _action(w, "&Submit case", SUBMIT_KEYS, controller.submit)
        self.retrain_action = _action(w, "&Retrain now", [], controller.retrain_now)
        self.train_auto_action = _action(
            w, "Train &automatic model...", TRAIN_AUTO_KEYS, controller.train_auto_dialog
        )
        self.panel_action = _action(w, "Project &panel", [], lambda: w.show_dock(PANEL_TITLE))
        actions = (self.next_action, self.submit_action, None, self.retrain_action)
        for a in (*actions, self.train_auto_action, None):
            if a is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(a)
        self.menu.addAction(self.panel_action)
        for a in (self.next_action, self.submit_action, self.train_auto_action):
            w.addAction(a)  # the keys work with the menu bar hidden too
        controller.project_changed.connect(lambda *_: self.refresh())
        controller.case_changed.connect(lambda *_: self.refresh())
        controller.cases_changed.connect(self.refresh)
        # cases other users finished meanwhile: read them when the menu opens
        self.menu.aboutToShow.connect(lambda: self.refresh(controller.finished_cases()))
        self.fill_recent()
        self.refresh()

    def refresh(self, finished: int | None = None) -> None:
        """Enable each entry; `finished`: the project's finished cases, by default the count
        of the case list the panel last read (read here only before the panel exists)."""
        c = self.controller
        has_project = c.project is not None
        s = c.session
        self.close_action.setEnabled(has_project)
        self.next_action.setEnabled(has_project)
        self.submit_action.setEnabled(s is not None and not s.read_only)
        self.retrain_action.setEnabled(has_project)
        # automatic training needs MIN_CASES finished cases (the run refuses fewer)
        if finished is None:
            panel = getattr(c, "panel", None)
            finished = panel.finished if panel is not None else c.finished_cases()
        self.train_auto_action.setEnabled(finished >= MIN_CASES)
        tip = f"{TRAIN_AUTO_TIP} ({TRAIN_AUTO_KEYS[0]})"
        if has_project and finished < MIN_CASES:
            tip += f": needs {MIN_CASES} finished cases, the project has {finished}"
        self.train_auto_action.setToolTip(tip)
        self.train_auto_action.setStatusTip(tip)

    def fill_recent(self) -> None:
        self.recent_menu.clear()
        folders = recent_projects(self.controller.window.settings)
        for folder in folders:
            self.recent_menu.addAction(folder, lambda f=folder: self.controller.open_project(f))
        self.recent_menu.setEnabled(bool(folders))

    def open_dialog(self) -> bool:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self.controller.window, "Open project (its folder)"
        )
        return bool(folder) and self.controller.open_project(folder)

    def show_new_dialog(self):
        """File > New project...: the dialog (window-modal, not blocking); OK creates it."""
        from viewer.qt.new_project_dialog import NewProjectDialog

        c = self.controller
        dialog = NewProjectDialog(c.window, c.window.document)
        dialog.accepted.connect(
            lambda: c.new_project(dialog.folder(), dialog.name(), dialog.labels)
        )
        self.new_dialog = dialog
        dialog.open()
        return dialog


def _action(window, text: str, keys: list[str], slot) -> QtWidgets.QAction:
    a = QtWidgets.QAction(text, window)
    if keys:
        a.setShortcuts([QtGui.QKeySequence(k) for k in keys])
        a.setShortcutContext(QtCore.Qt.WindowShortcut)
    a.triggered.connect(lambda _=False: slot())
    return a
