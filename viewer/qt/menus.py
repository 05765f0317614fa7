"""Finding the main window's menus for parts installed later (PACS, projects): the File menu
and the place above Quit where their entries go."""

from __future__ import annotations

from PyQt5 import QtWidgets


def file_menu(window: QtWidgets.QMainWindow) -> QtWidgets.QMenu:
    """The window's File menu (made when missing)."""
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == "File":
            return action.menu()
    return window.menuBar().addMenu("&File")


def before_quit(menu: QtWidgets.QMenu) -> QtWidgets.QAction | None:
    """The action to insert before so that new entries land above Quit (and the separator
    above it); None: at the end."""
    actions = menu.actions()
    for i, a in enumerate(actions):
        if a.text().replace("&", "") == "Quit":
            return actions[i - 1] if i and actions[i - 1].isSeparator() else a
    return None
