"""The tools panel: a button per tool the registry puts here (Navigate first), each tool's
options widget (once per factory: brush and eraser share theirs), and the options every painting
tool obeys (overwrite, threshold range). Tools registered later appear as they are added."""

from __future__ import annotations

from PyQt5 import QtWidgets

from viewer.qt.panels.tool_options import OverwriteOption, ThresholdOptions
from viewer.qt.tool_registry import TOOLS_PANEL, ToolSpec

BUTTON_COLUMNS = 3  # three per row: fits a narrow dock


class ToolsPanel(QtWidgets.QWidget):
    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.registry = controller.registry
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self._grid = QtWidgets.QGridLayout()
        self._grid.setSpacing(2)
        lay.addLayout(self._grid)
        self._options_box = QtWidgets.QVBoxLayout()
        lay.addLayout(self._options_box)
        self.tool_buttons: dict[str | None, QtWidgets.QToolButton] = {}
        self.options: dict[object, QtWidgets.QWidget] = {}  # by factory
        self._add_button(None)
        for spec in self.registry.in_panel(TOOLS_PANEL):
            self._add_tool(spec)
        self.registry.added.connect(self._add_tool)
        self.overwrite = OverwriteOption(controller.state)
        lay.addWidget(self.overwrite)
        self.threshold = ThresholdOptions(controller.state)
        lay.addWidget(self.threshold)
        lay.addStretch(1)

    def options_for(self, key: str) -> QtWidgets.QWidget | None:
        """The options widget of tool `key` (None when it has none)."""
        return self.options.get(self.registry.specs[key].options)

    def on_document(self, doc) -> None:
        self.threshold.on_document(doc)

    def _add_tool(self, spec: ToolSpec) -> None:
        if spec.panel != TOOLS_PANEL:
            return
        self._add_button(spec.key)
        if spec.options is not None and spec.options not in self.options:
            widget = spec.options(self.controller)
            self.options[spec.options] = widget
            self._options_box.addWidget(widget)

    def _add_button(self, key: str | None) -> None:
        i = len(self.tool_buttons)
        b = self.registry.button(key)
        self._grid.addWidget(b, i // BUTTON_COLUMNS, i % BUTTON_COLUMNS)
        self.tool_buttons[key] = b
