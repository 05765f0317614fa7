"""The Help menu: a searchable list of the window's keyboard shortcuts (read from its QActions
when opened, so it lists what the keys really do), the user guide (docs/guide.md with its
screenshots, shown in the app: works offline and in the bundle) and About (viewer/qt/about.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt5 import QtCore, QtGui, QtWidgets

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDE = "docs/guide.md"


def bundled_file(relative: str) -> Path:
    """A file shipped with the app: next to the code, or inside the PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    return (Path(bundle) if bundle else REPO_ROOT) / relative


def guide_markdown(path: Path | None = None) -> str:
    """The user guide (docs/guide.md) as Markdown; its images are relative to its folder."""
    path = path or bundled_file(GUIDE)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"The user guide ({path}) is not installed."


def action_shortcuts(window: QtWidgets.QWidget) -> list[tuple[str, str]]:
    """(action name, its shortcuts) for every QAction of the window that has a shortcut."""
    rows: dict[tuple[str, str], None] = {}
    for action in window.findChildren(QtWidgets.QAction):
        keys = [k.toString(QtGui.QKeySequence.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        if not keys:
            continue
        name = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        rows[(name.rstrip(".").strip() or action.toolTip(), ", ".join(keys))] = None
    return sorted(rows, key=lambda r: r[0].lower())


class ShortcutsDialog(QtWidgets.QDialog):
    """Keyboard shortcuts with a filter box (matches the action's name or its keys)."""

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(480, 560)
        self.filter_box = QtWidgets.QLineEdit()
        self.filter_box.setPlaceholderText("Filter: type a name or a key")
        self.filter_box.setClearButtonEnabled(True)
        self.table = QtWidgets.QTreeWidget()
        self.table.setHeaderLabels(["Action", "Keys"])
        self.table.setRootIsDecorated(False)
        self.table.setColumnWidth(0, 300)
        for name, keys in action_shortcuts(window):
            self.table.addTopLevelItem(QtWidgets.QTreeWidgetItem([name, keys]))
        self.filter_box.textChanged.connect(self.apply_filter)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.filter_box)
        lay.addWidget(self.table, 1)
        note = QtWidgets.QLabel(
            "In a slice view the mouse wheel, arrow keys and Page Up/Down move through slices."
        )
        note.setWordWrap(True)
        lay.addWidget(note)

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            hay = f"{item.text(0)} {item.text(1)}".lower()
            item.setHidden(bool(needle) and needle not in hay)

    def visible_rows(self) -> list[tuple[str, str]]:
        items = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [(it.text(0), it.text(1)) for it in items if not it.isHidden()]


class TextViewer(QtWidgets.QDialog):
    """A bundled Markdown file (user guide, model card) in a read-only browser."""

    def __init__(
        self, parent: QtWidgets.QWidget, title: str, markdown: str, folder: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 700)
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        if folder is not None:  # relative image paths (screenshots) resolve from here
            self.browser.setSearchPaths([str(folder)])
        self.browser.setMarkdown(markdown)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.browser)


class HelpMenu(QtCore.QObject):
    """Owns the Help menu of `window` and keeps it the menu bar's last menu."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialogs: dict[str, QtWidgets.QDialog] = {}
        self.menu = window.menuBar().addMenu("&Help")
        self.shortcuts_action = self._add("&Keyboard shortcuts...", self.show_shortcuts, "F1")
        self.guide_action = self._add("&User guide", self.show_guide)
        self.menu.addSeparator()
        self.about_action = self._add("&About RadLabel...", self.show_about)
        # menus added later (Edit, AI, ...) would land right of Help: keep Help last
        window.menuBar().installEventFilter(self)

    def _add(self, text: str, slot, shortcut: str | None = None) -> QtWidgets.QAction:
        action = QtWidgets.QAction(text, self.window)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(QtCore.Qt.WindowShortcut)
        action.triggered.connect(lambda _=False: slot())
        self.menu.addAction(action)
        self.window.addAction(action)  # works while the menu bar is hidden too
        return action

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.ActionAdded and event.action() is not (
            help_action := self.menu.menuAction()
        ):
            obj.removeAction(help_action)
            obj.addAction(help_action)
        return False

    def _show(self, key: str, make) -> QtWidgets.QDialog:
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = self.dialogs[key] = make()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        # rebuilt each time: panels and tools add their actions after the window is made
        old = self.dialogs.pop("shortcuts", None)
        if old is not None:
            old.close()
            old.deleteLater()
        return self._show("shortcuts", lambda: ShortcutsDialog(self.window))

    def show_guide(self) -> TextViewer:
        guide = bundled_file(GUIDE)
        return self._show(
            "guide",
            lambda: TextViewer(self.window, "RadLabel user guide", guide_markdown(), guide.parent),
        )

    def show_about(self) -> QtWidgets.QDialog:
        from viewer.qt.about import AboutDialog

        return self._show("about", lambda: AboutDialog(self.window, self.show_model_card))

    def show_model_card(self) -> TextViewer:
        path = bundled_file("resources/models/MODEL_CARD.md")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = f"The model card ({path}) is not installed."
        return self._show("model_card", lambda: TextViewer(self.window, "Model card", text))


def install_help_menu(window: QtWidgets.QMainWindow) -> HelpMenu:
    """Add the Help menu to `window`; the window keeps the returned object as `help_menu`."""
    return HelpMenu(window)
