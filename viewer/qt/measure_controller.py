"""Wires measurements into the main window: the ruler (M), angle (N), ellipse ROI (C) and
rectangle ROI (Shift+C) tools with their actions (toolbar, Tools > Measure menu, the
Measurements panel), the overlay drawing them in the slice views, selection and removal, and the
sidecar `<labels>.measurements.json` written when the labels are saved and read when a label
file is opened. `install_measurements(window)` is the entry point."""

from __future__ import annotations

import logging
import os

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.commands.measurement_commands import RemoveMeasurement, ReplaceMeasurements
from viewer.errors import RadLabelError
from viewer.io.measurement_sidecar import load_measurements, save_measurements, sidecar_path
from viewer.model.measurement_maths import measurement_value, value_text
from viewer.model.measurements import KIND_TITLES
from viewer.qt.measurement_overlay import MeasurementOverlay
from viewer.qt.panels.editing import install_editing
from viewer.qt.panels.measurements_panel import MeasurementsPanel
from viewer.tools.measure import MeasureTool

log = logging.getLogger(__name__)
# kind -> (shortcut, tooltip)
TOOL_KEYS: dict[str, tuple[str, str]] = {
    "ruler": ("M", "Ruler (M): drag from one end to the other; distance in mm"),
    "angle": ("N", "Angle (N): click three points, the vertex second; degrees"),
    "ellipse": ("C", "Ellipse ROI (C): drag a corner to the opposite one; mean, std, area"),
    "rectangle": ("Shift+C", "Rectangle ROI (Shift+C): drag corner to corner; mean, std, area"),
}


class MeasureController(QtCore.QObject):
    def __init__(self, window, editing=None) -> None:
        super().__init__(window)
        self.window = window
        self.editing = editing if editing is not None else install_editing(window)
        self.tools = {kind: MeasureTool(kind, window.document) for kind in TOOL_KEYS}
        self.selected_id: int | None = None
        self.overlay = MeasurementOverlay(window, self)
        self._build_actions()
        self.panel = MeasurementsPanel(self)
        self.dock = window.add_panel(self.panel, "Measurements")
        for tool in self.tools.values():
            tool.changed.connect(self.overlay.invalidate)
        self._doc = None
        window.document_changed.connect(self.on_document)
        window.state.changed.connect(lambda _what: self.overlay.refresh())
        window.labels_opened.connect(self.open_sidecar)
        self.editing.save_hooks.append(self.save_sidecar)
        self.on_document(window.document)

    # --- actions ---------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        self.actions: dict[str, QtWidgets.QAction] = {}
        menu = w.menuBar().addMenu("&Measure")
        toolbar = w.findChild(QtWidgets.QToolBar, "toolbar_main")
        if toolbar is not None:
            toolbar.addSeparator()
        for kind, (key, tip) in TOOL_KEYS.items():
            a = QtWidgets.QAction(KIND_TITLES[kind], w)
            a.setShortcut(QtGui.QKeySequence(key))
            a.setShortcutContext(QtCore.Qt.WindowShortcut)
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _=False, k=kind: self.select_tool(k))
            w.addAction(a)
            menu.addAction(a)
            if toolbar is not None:
                toolbar.addAction(a)
            self.actions[kind] = a

    def select_tool(self, kind: str) -> None:
        """Make the measurement tool `kind` the active one (Esc goes back to navigation)."""
        self.window.set_active_tool(self.tools[kind])
        self.editing.brush_cursor.hide()
        self.dock.show()
        self.dock.raise_()
        self.window.statusBar().showMessage(TOOL_KEYS[kind][1], 8000)

    def preview(self):
        tool = self.window.active_tool
        return tool.preview if isinstance(tool, MeasureTool) else None

    # --- document --------------------------------------------------------------------------------
    def on_document(self, doc) -> None:
        if self._doc is not None:
            self._doc.measurements.changed.disconnect(self._measurements_changed)
        self._doc = doc
        for tool in self.tools.values():
            tool.set_document(doc)
        if doc is not None:
            doc.measurements.changed.connect(self._measurements_changed)
        self.selected_id = None
        self._measurements_changed()

    def _measurements_changed(self) -> None:
        doc = self.window.document
        if doc is None or self.selected_id not in doc.measurements:
            self.selected_id = None
        self.panel.refresh()
        self.overlay.invalidate()

    # --- selection, removal, go to ------------------------------------------------------------------
    def select(self, mid: int | None) -> None:
        if mid != self.selected_id:
            self.selected_id = mid
            self.overlay.invalidate()

    def remove(self, mid: int) -> None:
        doc = self.window.document
        m = doc.measurements.get(mid) if doc is not None else None
        if m is not None:
            self.window.execute(RemoveMeasurement(m))

    def go_to(self, mid: int) -> None:
        """Move the crosshair to the measurement (its slice in every view follows)."""
        m = self.window.document.measurements.get(mid)
        if m is not None:
            self.select(mid)
            self.window.state.set_cursor(m.points_array().mean(axis=0))

    # --- sidecar -------------------------------------------------------------------------------------
    def save_sidecar(self, label_path: str) -> None:
        """Write the measurements beside the labels just saved (also an empty list, when a
        sidecar is there already: it must not bring back removed measurements)."""
        doc = self.window.document
        path = sidecar_path(label_path)
        if doc is None or (not len(doc.measurements) and not os.path.exists(path)):
            return
        unit = "HU" if self.window.modality() == "CT" else ""
        values = {
            m.id: value_text(m, measurement_value(m, doc.volume.array, doc.geometry), unit)
            for m in doc.measurements
        }
        save_measurements(path, doc.measurements, values)

    def open_sidecar(self, label_path: str) -> None:
        """Read `<labels>.measurements.json` when present, as one undoable step."""
        path = sidecar_path(label_path)
        if self.window.document is None or not os.path.isfile(path):
            return
        try:
            measurements = load_measurements(path)
        except RadLabelError as e:
            self.window.show_error("Cannot open measurements", e.message)
            return
        name = f"Open measurements {os.path.basename(path)}"
        self.window.execute(ReplaceMeasurements(measurements, name))
        self.window.statusBar().showMessage(
            f"{len(measurements)} measurement(s) from {os.path.basename(path)}", 8000
        )


def install_measurements(window, editing=None) -> MeasureController:
    """Add the measurement tools, panel and sidecar to a MainWindow (installs editing when
    missing); idempotent."""
    existing = getattr(window, "measure", None)
    if existing is not None:
        return existing
    window.measure = MeasureController(window, editing)
    return window.measure
