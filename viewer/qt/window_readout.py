"""The window/level readout in each slice view's bottom-left corner, updated live (a right-drag,
a preset), and the number keys that pick presets in the focused slice view: 1-8 the CT presets
in menu order, 0 the automatic window. `WindowReadout(window)` installs both."""

from __future__ import annotations

from PyQt5 import QtCore

from viewer.model.view_state import presets_for
from viewer.model.window_text import PRESET_KEYS, window_text

_DIGITS = {getattr(QtCore.Qt, f"Key_{i}"): i for i in range(10)}


class WindowReadout(QtCore.QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.state.events.window.connect(self.refresh)
        window.document_changed.connect(lambda _doc: self.refresh())
        for sv in window.slice_views.values():
            sv.canvas.installEventFilter(self)
        self.refresh()

    def refresh(self) -> None:
        w = self.window
        text = "" if w.document is None else window_text(w.state.window, w.modality())
        for sv in w.slice_views.values():
            if sv.canvas.window_text != text:
                sv.canvas.window_text = text
                sv.canvas.viewport().update()

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() != QtCore.QEvent.KeyPress or ev.key() not in _DIGITS:
            return False
        if ev.modifiers() & ~QtCore.Qt.KeypadModifier:
            return False  # Ctrl+1 and the like are left to shortcuts
        name = PRESET_KEYS[_DIGITS[ev.key()]]
        w = self.window
        if w.document is None or name not in presets_for(w.modality()):
            w.statusBar().showMessage(
                f"Key {_DIGITS[ev.key()]}: no such preset for this image", 4000
            )
            return True
        w.apply_preset(name)
        return True
