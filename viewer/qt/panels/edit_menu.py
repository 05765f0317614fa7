"""The Edit menu: Undo (Ctrl+Z), Redo (Ctrl+Shift+Z, Ctrl+Y), Save labels (Ctrl+S) and Save
labels as (Ctrl+Shift+S), window-wide; Undo/Redo name the step they act on."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets


class EditMenu:
    """Owns the Edit menu's actions of the editing controller's window."""

    def __init__(self, controller) -> None:
        self.controller = controller
        w = controller.window
        history = w.history
        self.menu = w.menuBar().addMenu("&Edit")
        self.undo_action = _action(w, "Undo", ["Ctrl+Z"], history.undo)
        self.redo_action = _action(w, "Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], history.redo)
        self.save_action = _action(w, "Save labels", ["Ctrl+S"], controller.save_labels)
        self.save_as_action = _action(
            w, "Save labels as...", ["Ctrl+Shift+S"], lambda: controller.save_labels(ask=True)
        )
        for a in (self.undo_action, self.redo_action, None, self.save_action, self.save_as_action):
            if a is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(a)
                w.addAction(a)
        self.refresh()

    def refresh(self) -> None:
        """Undo/Redo enabled and named after the steps they would take."""
        h = self.controller.window.history
        self.undo_action.setEnabled(h.can_undo())
        self.redo_action.setEnabled(h.can_redo())
        self.undo_action.setText(f"Undo {h.undo_name()}" if h.can_undo() else "Undo")
        self.redo_action.setText(f"Redo {h.redo_name()}" if h.can_redo() else "Redo")


def _action(window, text: str, keys: list[str], slot) -> QtWidgets.QAction:
    a = QtWidgets.QAction(text, window)
    a.setShortcuts([QtGui.QKeySequence(k) for k in keys])
    a.setShortcutContext(QtCore.Qt.WindowShortcut)
    a.triggered.connect(lambda _=False: slot())
    return a
