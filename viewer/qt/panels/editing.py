"""The editing controller of a main window: editor state, the tools (declared in
`viewer.qt.tool_specs`, built and wired by one `ToolRegistry`), the segments/tools/operations
panels, the Edit menu, saving the labels, autosave and the unsaved-changes check on close.
The window owns the history; the recovery offer at start-up is `viewer.qt.recovery_prompt`."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import numpy as np
from PyQt5 import QtCore, QtWidgets

from viewer.commands.label_file import restore_labels_command
from viewer.errors import RadLabelError
from viewer.qt.panels.brush_cursor import BrushCursor
from viewer.qt.panels.edit_menu import EditMenu
from viewer.qt.panels.operations_panel import OperationsPanel
from viewer.qt.panels.segments_panel import SegmentsPanel
from viewer.qt.panels.tools_panel import ToolsPanel
from viewer.qt.save_target import ask_label_path, remember_label_path
from viewer.qt.tool_registry import ToolRegistry, ToolSpec
from viewer.qt.tool_specs import PAINT_TOOLS
from viewer.qt.unsaved_guard import confirm_unsaved
from viewer.services.autosave import AutosaveService
from viewer.tools.brush import BrushSettings
from viewer.tools.editor_state import EditorState
from viewer.tools.flood_fill import FloodFillSettings

if TYPE_CHECKING:
    from viewer.qt.main_window import MainWindow
    from viewer.tools.base import Tool

log = logging.getLogger(__name__)


class EditingController(QtCore.QObject):
    """Owns the editing state of one main window; `install_editing(window)` creates it.

    `tool_selected(key)` is emitted after a tool (None: navigation) became the active one."""

    tool_selected = QtCore.pyqtSignal(object)
    autosave_failed = QtCore.pyqtSignal(str)  # from the autosave thread: queued to the UI

    def __init__(
        self, window: MainWindow, autosave_interval_s: float = 30.0, autosave: bool = True
    ) -> None:
        super().__init__(window)
        self.window = window
        self.history = window.history
        self.state = EditorState()
        self.brush_settings = BrushSettings(radius_mm=5.0)
        self.flood_settings = FloodFillSettings()
        self.registry = ToolRegistry(window, self.select_tool)
        self.tools = self.registry.tools  # key -> Tool
        for spec in PAINT_TOOLS:
            self.registry.register(spec, self)
        # called with the path after the labels are written (the measurements sidecar); a
        # SaveError they raise is reported like the labels' own
        self.save_hooks: list = []
        # Ctrl+S (a save without a path, not "as") goes here instead when set: a project case
        # saves its label into the project; returns True when saved
        self.save_handler = None
        self.autosave = AutosaveService(window.document, autosave_interval_s) if autosave else None
        self.segments_panel = SegmentsPanel(self)
        self.tools_panel = ToolsPanel(self)
        self.operations_panel = OperationsPanel(self)
        window.add_panel(self.segments_panel, "Segments")
        window.add_panel(self.tools_panel, "Tools")
        window.add_panel(self.operations_panel, "Segment operations")
        self.edit_menu = EditMenu(self)
        self.brush_cursor = BrushCursor(self)
        self._connected_doc = None
        window.document_changed.connect(self.on_document)
        self.history.changed.connect(self._history_changed)
        window.installEventFilter(self)
        self.on_document(window.document)
        self._history_changed()
        if self.autosave is not None:
            self.autosave_failed.connect(self._warn_autosave_failed)
            self.autosave.on_failure = self.autosave_failed.emit
            self.autosave.start()

    def _warn_autosave_failed(self, message: str) -> None:
        """The labels are no longer protected against a crash: say so once, plainly."""
        self.window.statusBar().showMessage(message, 120_000)
        QtWidgets.QMessageBox.warning(
            self.window,
            "Autosave failed",
            f"{message}\n\nYour labels are not being autosaved; save them (Ctrl+S) to keep "
            "them safe. Autosave keeps trying and says so again if it fails after working.",
        )

    # --- properties --------------------------------------------------------------------------
    @property
    def document(self):
        return self.window.document

    def execute(self, command) -> None:
        if command is not None:
            self.window.execute(command)

    def show_error(self, title: str, message: str) -> None:
        self.window.show_error(title, message)

    def set_active_segment(self, segment_id: int | None) -> None:
        if self.state.active_segment_id != segment_id:
            self.state.set(active_segment_id=segment_id)

    # --- tools -------------------------------------------------------------------------------
    def register_tool(self, spec: ToolSpec, tool: Tool | None = None) -> Tool:
        """Add a tool to this window: its action (shortcut, toolbar), its button and options in
        the panel `spec.panel`. Returns the tool (built by `spec.make` unless given)."""
        tool = self.registry.register(spec, self, tool)
        tool.set_document(self.document)
        return tool

    def select_tool(self, key: str | None) -> None:
        """Make the tool `key` the active one (None: navigation); its panel comes to the front."""
        spec = self.registry.specs.get(key) if key else None
        tool = self.tools.get(key) if key else None
        doc = self.document
        if spec is not None and spec.needs_segment and doc is not None and not len(doc.segments):
            self.segments_panel.add_segment()  # painting needs a segment
        self.window.set_active_tool(tool)
        self.registry.mark_selected(key if tool is not None else None)
        self.brush_cursor.hide()
        if spec is not None:
            self.window.show_dock(spec.panel)
        self.tool_selected.emit(key if tool is not None else None)

    # --- document ----------------------------------------------------------------------------
    def on_document(self, doc) -> None:
        if self._connected_doc is not None:
            self._connected_doc.segments_changed.disconnect(self._segments_changed)
            self._connected_doc.labels_changed.disconnect(self._labels_changed)
        self._connected_doc = doc
        self._label_array = doc.labels.array if doc is not None else None
        for t in self.tools.values():
            t.set_document(doc)
        if self.autosave is not None:
            self.autosave.set_document(doc)
        if doc is not None:
            doc.segments_changed.connect(self._segments_changed)
            doc.labels_changed.connect(self._labels_changed)
        self.state.set(
            active_segment_id=doc.segments.ids()[0] if doc and len(doc.segments) else None
        )
        self.segments_panel.on_document(doc)
        self.tools_panel.on_document(doc)
        self.operations_panel.on_segments(doc)

    def _segments_changed(self) -> None:
        self.segments_panel.refresh()
        self.segments_panel.schedule_stats()
        self.operations_panel.on_segments(self.document)

    def _labels_changed(self, bbox=None) -> None:
        doc = self.document
        if doc is not None and doc.labels.array is not self._label_array:
            # the label map was replaced outside the history (a label file was opened): old
            # entries refer to other voxels, and the new labels are the saved state
            self._label_array = doc.labels.array
            self.history.clear()
        self.segments_panel.schedule_stats()

    def _history_changed(self) -> None:
        self.edit_menu.refresh()
        self.window.setWindowModified(self.has_unsaved_changes())
        title = self.window.windowTitle()
        if "[*]" not in title:
            self.window.setWindowTitle(title + "[*]")

    def has_unsaved_changes(self) -> bool:
        return self.document is not None and not self.history.is_clean()

    def forget_autosave(self) -> None:
        """The labels were saved or discarded: their autosave has nothing left to recover."""
        if self.autosave is not None:
            self.autosave.forget()

    # --- saving ----------------------------------------------------------------------------------
    def save_labels(self, path: str | None = None, ask: bool = False) -> bool:
        from viewer.io.labels.load_save import save_labels

        doc = self.document
        if doc is None:
            return False
        if self.save_handler is not None and path is None and not ask:
            return bool(self.save_handler())
        path = path or (None if ask else doc.label_path) or None
        if path is None:
            path = ask_label_path(self.window, doc)
            if not path:
                return False
        try:
            save_labels(path, doc.labels, doc.segments)
            for hook in self.save_hooks:
                hook(os.fspath(path))
        except RadLabelError as e:
            self.show_error("Cannot save labels", e.message)
            return False
        doc.label_path = os.fspath(path)
        doc.dirty = False
        self.history.mark_clean()
        remember_label_path(self.window.settings, doc.label_path)
        self.forget_autosave()  # the file holds everything the autosave did
        return True

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if obj is self.window and ev.type() == QtCore.QEvent.Close:
            if not self.confirm_close():
                ev.ignore()
                return True
            if self.autosave is not None:
                self.autosave.stop(clean=True)
        return False

    def confirm_close(self) -> bool:
        """Unsaved-changes prompt: Save / Discard / Cancel. False cancels the close."""
        return confirm_unsaved(self.window, "closing")

    # --- recovery ----------------------------------------------------------------------------------
    def restore(self, labels: np.ndarray, segments, label_path: str = "") -> bool | None:
        """Put recovered labels and segments into the open document as one undoable step;
        `label_path`, the file the labels were last saved to or opened from before the crash,
        becomes the file Ctrl+S writes to again. False when the labels do not fit the document;
        None when the user kept unsaved labels of the open document."""
        doc = self.document
        if doc is None or tuple(labels.shape) != tuple(doc.labels.array.shape):
            return False
        if not confirm_unsaved(self.window, "restoring the autosaved labels"):
            return None
        self.execute(restore_labels_command(doc, labels, segments, label_path))
        return True


def install_editing(window: MainWindow, **kwargs) -> EditingController:
    """Add editing (tools, panels, Edit menu, autosave) to a MainWindow; idempotent."""
    if window.editing is None:
        window.set_editing(EditingController(window, **kwargs))
    return window.editing
