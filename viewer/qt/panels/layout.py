"""Small layout helpers for docked panels (the main window tabs most of them together)."""

from __future__ import annotations

from PyQt5 import QtWidgets


def show_panel(widget: QtWidgets.QWidget) -> None:
    """Bring the dock holding `widget` to the front (selects its tab when it is tabbed)."""
    w = widget.parentWidget()
    while w is not None and not isinstance(w, QtWidgets.QDockWidget):
        w = w.parentWidget()
    if w is not None and w.isVisible():
        w.raise_()
