"""Editing tools as declarations. A `ToolSpec` says what a tool is (key, title, shortcut, icon,
tooltip), which panel shows its button and options, and how to build it; `ToolRegistry` (one per
window, owned by the editing controller) turns every registered spec into one checkable action
(window-wide shortcut, toolbar entry, listed under Help > Keyboard shortcuts) that selects the
tool, and tells the panels (`added`) to show its button and options widget.

The built-in painting tools are declared in `viewer.qt.tool_specs`; the AI and measurement
controllers register theirs when they are installed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PyQt5 import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels.editing import EditingController
    from viewer.tools.base import Tool

TOOLS_PANEL = "Tools"  # the dock title of the panel holding painting tools and their options
NAVIGATE = "Navigate"  # the action of "no tool": crosshair navigation


@dataclass(frozen=True)
class ToolSpec:
    """One tool, declared.

    make: builds the Qt-free tool from the editing controller (its `document`, `state`,
    `brush_settings`, `flood_settings`); None when the owner hands `register` the tool itself.
    options: builds the tool's options widget (Qt side) from the editing controller; tools that
    share a factory share one widget. panel: the dock title whose panel shows the tool's button
    and which comes to the front when the tool is selected. needs_segment: selecting the tool
    with an empty segment table adds a first segment (painting needs one). icon: a theme icon
    name (`QIcon.fromTheme`); without one the action shows its title."""

    key: str
    title: str
    shortcut: str
    make: Callable[[EditingController], Tool] | None = None
    tooltip: str = ""
    icon: str = ""
    options: Callable[[EditingController], QtWidgets.QWidget] | None = None
    panel: str = TOOLS_PANEL
    needs_segment: bool = True
    toolbar: bool = True

    @property
    def tip(self) -> str:
        return self.tooltip or f"{self.title} ({self.shortcut})"


class ToolRegistry(QtCore.QObject):
    """The tools of one window: `specs`, the built `tools` and their `actions`, by key. The
    actions form one exclusive group with Navigate (key None, Esc): the checked one is the
    tool in use."""

    added = QtCore.pyqtSignal(object)  # the ToolSpec just registered

    def __init__(self, window: MainWindow, select: Callable[[str | None], None]) -> None:
        super().__init__(window)
        self.window = window
        self._select = select
        self.specs: dict[str, ToolSpec] = {}
        self.tools: dict[str, Tool] = {}
        self.actions: dict[str | None, QtWidgets.QAction] = {}
        self._group = QtWidgets.QActionGroup(self)
        self._group.setExclusive(True)
        self._last_toolbar_panel: str | None = None
        self.actions[None] = self._action(None, NAVIGATE, "Esc", "Crosshair navigation (Esc)", "")
        self.actions[None].setChecked(True)

    def register(self, spec: ToolSpec, context: EditingController, tool: Tool | None = None):
        """Build `spec`'s tool (or take `tool`), its action and toolbar entry; the panels add
        its button and options when they hear `added`. Returns the tool."""
        if spec.key in self.specs:
            raise ValueError(f"a tool with the key {spec.key!r} is registered already")
        if tool is None:
            if spec.make is None:
                raise ValueError(f"tool {spec.key!r}: neither a factory nor a tool")
            tool = spec.make(context)
        self.specs[spec.key] = spec
        self.tools[spec.key] = tool
        action = self._action(spec.key, spec.title, spec.shortcut, spec.tip, spec.icon)
        self.actions[spec.key] = action
        if spec.toolbar:
            self._add_to_toolbar(spec.panel, action)
        self.added.emit(spec)
        return tool

    def in_panel(self, panel: str) -> list[ToolSpec]:
        """The specs whose buttons the panel titled `panel` shows, in registration order."""
        return [s for s in self.specs.values() if s.panel == panel]

    def mark_selected(self, key: str | None) -> None:
        action = self.actions.get(key)
        if action is not None and not action.isChecked():
            action.setChecked(True)

    def button(self, key: str | None) -> QtWidgets.QToolButton:
        """A new button that shows and triggers the tool's action."""
        b = QtWidgets.QToolButton()
        b.setDefaultAction(self.actions[key])
        b.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Fixed)
        b.setToolButtonStyle(QtCore.Qt.ToolButtonTextOnly)
        return b

    def _action(self, key, title: str, shortcut: str, tip: str, icon: str) -> QtWidgets.QAction:
        w = self.window
        a = QtWidgets.QAction(title, w)
        if icon:
            a.setIcon(QtGui.QIcon.fromTheme(icon))
        a.setShortcut(QtGui.QKeySequence(shortcut))
        a.setShortcutContext(QtCore.Qt.WindowShortcut)  # whichever view has focus
        a.setToolTip(tip)
        a.setStatusTip(tip)
        a.setCheckable(True)
        a.triggered.connect(lambda _=False, k=key: self._select(k))
        self._group.addAction(a)
        w.addAction(a)
        return a

    def _add_to_toolbar(self, panel: str, action: QtWidgets.QAction) -> None:
        toolbar = self.window.toolbar
        if panel != self._last_toolbar_panel:
            toolbar.addSeparator()  # one section per panel: AI, measurements, ...
            self._last_toolbar_panel = panel
        toolbar.addAction(action)
