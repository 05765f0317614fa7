"""Wires editing into the main window: the app-wide history (window.history), editor state and
tools, the segments/tools/operations panels, Edit menu (Undo Ctrl+Z, Redo Ctrl+Shift+Z and
Ctrl+Y, Save labels Ctrl+S), autosave, the unsaved-changes prompt and the recovery offer; and
`open_labels_command`, the undoable "Open labels <file>" step MainWindow.open_label runs."""

from __future__ import annotations

import logging
import os

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.commands import Command, CompositeCommand, History, LabelEdit
from viewer.commands.segment_commands import ReplaceSegmentTable
from viewer.errors import LoadError, RadLabelError
from viewer.qt.panels.brush_cursor import BrushCursor
from viewer.qt.panels.operations_panel import OperationsPanel
from viewer.qt.panels.segments_panel import SegmentsPanel
from viewer.qt.panels.tools_panel import ToolsPanel
from viewer.qt.save_target import ask_label_path, remember_label_path
from viewer.qt.unsaved_guard import confirm_unsaved
from viewer.services.autosave import (
    AutosaveService,
    discard,
    find_recoverable,
    recover,
    series_uid,
)
from viewer.tools.brush import BrushSettings, BrushTool, EraserTool
from viewer.tools.editor_state import EditorState
from viewer.tools.flood_fill import FloodFillSettings, FloodFillTool
from viewer.tools.lasso import LassoTool

log = logging.getLogger(__name__)


class EditingController(QtCore.QObject):
    """Owns the editing state of one main window; `install_editing(window)` creates it."""

    def __init__(self, window, autosave_interval_s: float = 30.0, autosave: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.history = History(window.document)
        window.history = self.history
        self.state = EditorState()
        self.brush_settings = BrushSettings(radius_mm=5.0)
        self.flood_settings = FloodFillSettings()
        self.tools = {
            "brush": BrushTool(window.document, self.state, self.brush_settings),
            "eraser": EraserTool(window.document, self.state, self.brush_settings),
            "flood_fill": FloodFillTool(window.document, self.state, self.flood_settings),
            "lasso": LassoTool(window.document, self.state),
        }
        # called with the path after the labels are written (the measurements sidecar); a
        # SaveError they raise is reported like the labels' own
        self.save_hooks: list = []
        self.autosave = AutosaveService(window.document, autosave_interval_s) if autosave else None
        self.segments_panel = SegmentsPanel(self)
        self.tools_panel = ToolsPanel(self)
        self.operations_panel = OperationsPanel(self)
        window.add_panel(self.segments_panel, "Segments")
        window.add_panel(self.tools_panel, "Tools")
        window.add_panel(self.operations_panel, "Segment operations")
        self._build_actions()
        self.brush_cursor = BrushCursor(self)
        self._connected_doc = None
        window.document_changed.connect(self.on_document)
        self.history.changed.connect(self._history_changed)
        window.installEventFilter(self)
        self.on_document(window.document)
        if self.autosave is not None:
            self.autosave.start()

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

    def select_tool(self, key: str | None) -> None:
        tool = self.tools.get(key) if key else None
        if tool is not None and self.document is not None and not len(self.document.segments):
            self.segments_panel.add_segment()  # painting needs a segment
        self.window.set_active_tool(tool)
        self.tools_panel.show_tool(key)
        self.brush_cursor.hide()

    # --- document ----------------------------------------------------------------------------
    def on_document(self, doc) -> None:
        if self._connected_doc is not None:
            self._connected_doc.segments_changed.disconnect(self._segments_changed)
            self._connected_doc.labels_changed.disconnect(self._labels_changed)
        self._connected_doc = doc
        self._label_array = doc.labels.array if doc is not None else None
        self.history.set_document(doc)
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

    # --- actions ---------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        menu = w.menuBar().addMenu("&Edit")
        self.undo_action = QtWidgets.QAction("Undo", w)
        self.undo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Z")])
        self.undo_action.triggered.connect(lambda: self.history.undo())
        self.redo_action = QtWidgets.QAction("Redo", w)
        self.redo_action.setShortcuts(
            [QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")]
        )
        self.redo_action.triggered.connect(lambda: self.history.redo())
        self.save_action = QtWidgets.QAction("Save labels", w)
        self.save_action.setShortcut(QtGui.QKeySequence("Ctrl+S"))
        self.save_action.triggered.connect(lambda: self.save_labels())
        self.save_as_action = QtWidgets.QAction("Save labels as...", w)
        self.save_as_action.setShortcut(QtGui.QKeySequence("Ctrl+Shift+S"))
        self.save_as_action.triggered.connect(lambda: self.save_labels(ask=True))
        for a in (self.undo_action, self.redo_action, None, self.save_action, self.save_as_action):
            if a is None:
                menu.addSeparator()
                continue
            a.setShortcutContext(QtCore.Qt.WindowShortcut)
            menu.addAction(a)
            w.addAction(a)
        self._history_changed()

    def _history_changed(self) -> None:
        h = self.history
        self.undo_action.setEnabled(h.can_undo())
        self.redo_action.setEnabled(h.can_redo())
        self.undo_action.setText(f"Undo {h.undo_name()}" if h.can_undo() else "Undo")
        self.redo_action.setText(f"Redo {h.redo_name()}" if h.can_redo() else "Redo")
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
        from viewer.io.atomic_save import save_labels_atomic

        doc = self.document
        if doc is None:
            return False
        path = path or (None if ask else doc.label_path) or None
        if path is None:
            path = ask_label_path(self.window, doc)
            if not path:
                return False
        try:
            save_labels_atomic(path, doc.labels, doc.segments)
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
        full = (0, 0, 0, *doc.labels.array.shape)
        edit = LabelEdit.from_box("Recover labels", doc.labels.array, full, labels)
        cmds: list[Command] = [ReplaceSegmentTable(segments, "Recover segments")]
        if label_path:
            cmds.append(_SetLabelPath(label_path))
        if edit is not None:
            cmds.append(edit)
        self.execute(CompositeCommand("Recover autosaved labels", cmds))
        return True


class _SetLabelPath(Command):
    """Which file Ctrl+S writes to; undone with the labels it came with."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.old = ""
        self.name = "Set label file"

    def do(self, doc) -> None:
        self.old, doc.label_path = doc.label_path, self.path

    def undo(self, doc) -> None:
        doc.label_path = self.old


def open_labels_command(doc, loaded, path: str | os.PathLike) -> Command:
    """One undoable step that puts labels read by `viewer.io.open_labels` into `doc`: the
    label map, the segment table (the file's names and colours; for a file without names the
    open document's names for the same values; visibility and locks of those values kept) and
    the file Ctrl+S saves to (none for formats that are only read: MetaImage, DICOM SEG)."""
    from viewer.io.label_formats import label_format
    from viewer.model.segments import Segment

    labels = loaded.labelmap
    table = loaded.segments
    table.ensure(labels.values())
    segments = []
    for s in table:
        old = doc.segments.get(s.id)
        name, colour = (s.name, s.colour) if loaded.named or old is None else (old.name, old.colour)
        visible, locked = (old.visible, old.locked) if old is not None else (True, False)
        segments.append(Segment(s.id, name, colour, visible, locked))
    path = os.fspath(path)
    try:
        label_format(path)
        save_path = path
    except LoadError:
        save_path = ""
    name = f"Open labels {os.path.basename(path)}"
    cmds: list[Command] = [ReplaceSegmentTable(segments, name), _SetLabelPath(save_path)]
    full = (0, 0, 0, *doc.labels.array.shape)
    edit = LabelEdit.from_box(name, doc.labels.array, full, labels.array)
    if edit is not None:
        cmds.append(edit)
    return CompositeCommand(name, cmds)


def install_editing(window, **kwargs) -> EditingController:
    """Add editing (history, tools, panels, autosave) to a MainWindow; idempotent."""
    existing = getattr(window, "editing", None)
    if existing is not None:
        return existing
    window.editing = EditingController(window, **kwargs)
    return window.editing


def offer_recovery(window) -> bool:
    """At start-up: offer the newest crashed session's autosave; True when recovered. Damaged
    autosaves are set aside (never offered again) with one line in the status bar."""
    set_aside: list[str] = []
    entries = find_recoverable(set_aside=set_aside)
    if set_aside:
        more = f" (and {len(set_aside) - 1} more; see the log)" if len(set_aside) > 1 else ""
        window.statusBar().showMessage(set_aside[0][0].upper() + set_aside[0][1:] + more, 60000)
    if not entries:
        return False
    entry = entries[0]
    answer = QtWidgets.QMessageBox.question(
        window,
        "Recover unsaved labels?",
        f"RadLabel did not close normally last time.\n\n{entry.describe()}\n\nRecover these labels?",
        QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No | QtWidgets.QMessageBox.Discard,
        QtWidgets.QMessageBox.Yes,
    )
    if answer == QtWidgets.QMessageBox.Discard:
        discard(entry)
        return False
    if answer != QtWidgets.QMessageBox.Yes:
        return False
    try:
        labels, segments = recover(entry)
    except RadLabelError as e:
        window.show_error("Cannot recover labels", e.message)
        return False
    if entry.image_path and os.path.exists(entry.image_path):
        doc = window.document
        # several series can share a folder: the series UID tells them apart
        shown = doc is not None and doc.volume.source_path == entry.image_path
        if shown and entry.series_uid and series_uid(doc) != entry.series_uid:
            shown = False
        if not shown:
            if not window.open_path(entry.image_path, series_uid=entry.series_uid or None):
                return False  # cannot be read, or the user kept the open labels: entry stays
    controller = install_editing(window)
    restored = controller.restore(labels, segments, entry.label_path)
    if restored is None:
        return False
    if not restored:
        window.show_error(
            "Cannot recover labels",
            f"open the image the labels belong to ({entry.image_path or 'unknown'}) and retry",
        )
        return False
    discard(entry)
    return True
