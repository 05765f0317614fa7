"""Wires click-to-segment into the main window: the AI service (session off the UI thread), the
AI tool registered with the editing tools (shortcut A, a toolbar entry), its panel, the preview
and markers in the slice views, and the keys Enter (accept), Esc (reject), Backspace (undo
click) while the tool has work in progress. `install_ai(window)` is the entry point.

Answers of the service arrive on its worker thread; a Qt signal carries them to the UI thread
(queued connection), so the window keeps painting and answering input during a prediction.
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore

from segmentation_core.masks import box_slices
from viewer.commands.accept_report import describe_accept, taken_from
from viewer.qt.ai_overlay import AIOverlay
from viewer.qt.ai_panel import AIPanel
from viewer.qt.panels.editing import install_editing
from viewer.qt.tool_registry import ToolSpec
from viewer.services.ai_service import ENGINES, AIRequest, AIService
from viewer.tools.ai_tool import AITool

log = logging.getLogger(__name__)
SETTING_ENGINE = "ai/engine"
_KEYS = {
    QtCore.Qt.Key_Return: "accept",
    QtCore.Qt.Key_Enter: "accept",
    QtCore.Qt.Key_Escape: "reject",
    QtCore.Qt.Key_Backspace: "undo_click",
}
PANEL_TITLE = "AI segmentation"
_KEEP = object()  # no model change pending
# the tool is built by the controller (it needs the service): the spec has no factory
AI_TOOL = ToolSpec(
    "ai",
    "AI segmentation",
    "A",
    tooltip="AI click-to-segment (A): left click includes, right click excludes",
    panel=PANEL_TITLE,
)


class AIController(QtCore.QObject):
    """Owns the AI tool of one main window (create it with `install_ai`)."""

    sig_result = QtCore.pyqtSignal(object)  # an AIResult, emitted on the service's thread
    accepted = QtCore.pyqtSignal()  # a preview was put into the labels (after the command ran)

    def __init__(self, window, editing=None, engine: str | None = None, service=None) -> None:
        super().__init__(window)
        self.window = window
        self.editing = editing if editing is not None else install_editing(window)
        if engine is None:
            engine = str(window.settings.value(SETTING_ENGINE, "paddle"))
            engine = engine if engine in ENGINES else "paddle"
        self.service = service if service is not None else AIService(engine)
        self.service.listener = self.sig_result.emit
        self.sig_result.connect(self._on_result)  # queued: the emitter is another thread
        self.tool = AITool(window.document, self.editing.state, self.service)
        self._ready_for: str | None = None  # the engine the service last said was ready
        self._next_model_dir = _KEEP  # a model folder waiting for the current work to end
        self._used = False  # the AI tool was selected at least once
        self.overlay = AIOverlay(window.slice_views, self.tool)
        self.panel = AIPanel(self)
        self.dock = window.add_panel(self.panel, PANEL_TITLE)
        self.editing.register_tool(AI_TOOL, self.tool)
        self.action = self.editing.registry.actions[AI_TOOL.key]
        self.editing.tool_selected.connect(self._on_tool_selected)
        self.tool.changed.connect(self._tool_changed)
        self.editing.state.changed.connect(lambda *_: self.overlay.refresh(markers=False))
        window.state.changed.connect(self.overlay.on_view_state)
        window.document_changed.connect(self.on_document)
        for sv in window.slice_views.values():
            sv.canvas.installEventFilter(self)
        self._window_closed = False
        window.closed.connect(self._on_window_closed)
        window.destroyed.connect(lambda *_: self.service.shutdown(wait=False))
        self.on_document(window.document)

    # --- activation ---------------------------------------------------------------------------
    def activate(self, on: bool = True) -> None:
        """Make the AI tool the active one (False: back to navigation)."""
        self.editing.select_tool(AI_TOOL.key if on else None)

    def _on_tool_selected(self, key: str | None) -> None:
        if key == AI_TOOL.key:
            self._warm()  # the engine starts when first needed, not at every open
        self.panel.refresh()

    def is_active(self) -> bool:
        return self.window.active_tool is self.tool

    # --- commands from the panel and keys -------------------------------------------------------
    def accept(self) -> bool:
        """Put the preview into the active segment (one undo step) and say in the status bar
        how many voxels it took from which other segments (the overwrite option)."""
        if self.window.read_only:  # a case another user holds: nothing goes into the labels
            self.window.statusBar().showMessage(self.window.read_only, 10000)
            return False
        target = self.editing.state.active_segment_id
        command = self.tool.accept()
        if command is not None:
            doc = self.window.document
            box = box_slices(command.bbox)
            before = doc.labels.array[box].copy()
            self.window.execute(command)
            added, taken = taken_from(before, doc.labels.array[box], target)
            text = describe_accept(doc.segments, target, added, taken)
            self.tool.message = text
            self.window.statusBar().showMessage(text, 30000)
        self._tool_changed()
        if command is not None:
            self.accepted.emit()
        return command is not None

    def reject(self) -> None:
        self.tool.reject()

    def undo_click(self) -> None:
        self.tool.undo_click()

    def set_engine(self, engine: str) -> None:
        svc = self.service
        if engine not in ENGINES or engine == svc.engine == svc.requested_engine:
            return
        self.tool.reject()  # the clicks belong to the old engine's session
        self._ready_for = None
        self.service.set_engine(engine)
        self.window.settings.setValue(SETTING_ENGINE, engine)
        self.tool.message = f"Starting the {ENGINES[engine]}..."
        self._tool_changed()

    def set_model_dir(self, model_dir) -> None:
        """Answer with the model in `model_dir` (None: the shipped one) from the next
        segmentation on, e.g. a project's newly active version. A segmentation in progress
        (clicks, a preview) keeps its model until it is accepted or rejected."""
        self._next_model_dir = model_dir
        self._switch_model_when_idle()

    def _switch_model_when_idle(self) -> None:
        target = self._next_model_dir
        if target is _KEEP or self.tool.clicks or self.tool.has_preview():
            return
        self._next_model_dir = _KEEP
        if getattr(self.service, "model_dir", None) == target:
            return
        self._ready_for = None
        self.service.set_model_dir(target)
        if self.tool.active:
            self._warm()  # the new model loads now, not at the next click
        self._tool_changed()

    def _warm(self) -> None:
        """Start the engine and hand it the image in the background; the panel says
        "Starting ..." until the service answers that it is ready."""
        self._used = True
        if self.service.prepare() is not None and self._ready_for != self.service.engine:
            if not self.tool.clicks:
                self.tool.message = f"Starting the {ENGINES[self.service.requested_engine]}..."

    def busy(self) -> bool:
        """True while the engine works on something the user asked for."""
        return self.service.busy or any(not c.done for c in self.tool.clicks)

    # --- events -----------------------------------------------------------------------------------
    def on_document(self, doc) -> None:
        self.tool.set_document(doc)
        self.service.set_document(doc, prepare=False)
        if self.tool.active or self._used:
            self._warm()  # once the AI tool was used, a new study gets the engine ready too
        self._tool_changed()

    def _on_window_closed(self) -> None:
        # the views are released now: an answer still in flight must not reach them
        self._window_closed = True
        self.service.shutdown(wait=False)

    def _on_result(self, result) -> None:
        if self._window_closed:
            return
        self.tool.apply_result(result)
        if result.kind == AIRequest.PREPARE and result.generation == self.service.generation:
            if result.ok:
                self._ready_for = result.engine
                if not self.tool.clicks:
                    self.tool.message = ready_text(result.engine, result.message)
        if result.error or result.message:
            self.window.statusBar().showMessage(result.error or result.message, 8000)
        self._tool_changed()

    def _tool_changed(self) -> None:
        self._switch_model_when_idle()
        self.overlay.visible = self.tool.active
        self.overlay.refresh()
        self.panel.refresh()

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        """Enter/Esc/Backspace act on the AI work while it is in progress (only then: Esc is
        also the editing panel's "navigate" shortcut)."""
        t = ev.type()
        if t not in (QtCore.QEvent.ShortcutOverride, QtCore.QEvent.KeyPress):
            return False
        what = _KEYS.get(ev.key())
        if what is None or ev.modifiers() & ~QtCore.Qt.KeypadModifier:
            return False
        if not self.is_active() or not (self.tool.clicks or self.tool.has_preview()):
            return False
        if t == QtCore.QEvent.ShortcutOverride:
            ev.accept()  # deliver the key to the view instead of triggering a shortcut
            return True
        getattr(self, what)()
        return True


def ready_text(engine: str, notice: str = "") -> str:
    """The panel's line once the engine answered that it is ready (after a notice, if any)."""
    ready = f"{ENGINES.get(engine, engine)} ready: click on a structure."
    return f"{notice} {ready}" if notice else ready


def install_ai(window, editing=None, engine: str | None = None, service=None) -> AIController:
    """Add the AI tool, its panel and keys to a MainWindow (installs editing when missing);
    idempotent. `engine` overrides the saved choice ("paddle" by default, falling back to
    "classic" with a message when the model cannot be opened)."""
    if window.ai is None:
        window.set_ai(AIController(window, editing, engine, service))
    return window.ai
