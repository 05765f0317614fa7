"""Wires measurements into the main window: the ruler (M), angle (N), ellipse ROI (C) and
rectangle ROI (Shift+C) tools with their actions (toolbar, Tools > Measure menu, the
Measurements panel), the overlay drawing them in the slice views, selection and removal, and the
sidecar `<labels>.measurements.json` written when the labels are saved and read when a label
file is opened. `install_measurements(window)` is the entry point."""

from __future__ import annotations

import logging
import os

from PyQt5 import QtCore, QtWidgets

from viewer.commands.measurement_commands import RemoveMeasurement, ReplaceMeasurements
from viewer.errors import RadLabelError
from viewer.io.measurement_sidecar import load_measurements, save_measurements, sidecar_path
from viewer.model.measurement_maths import measurement_value, value_text
from viewer.model.measurements import KIND_TITLES
from viewer.model.view_state import ViewChange
from viewer.qt.measurement_overlay import MeasurementOverlay
from viewer.qt.panels.editing import install_editing
from viewer.qt.panels.measurements_panel import MeasurementsPanel
from viewer.qt.tool_registry import ToolSpec
from viewer.tools.measure import MeasureTool

log = logging.getLogger(__name__)
PANEL_TITLE = "Measurements"


def _measure_spec(kind: str, shortcut: str, tooltip: str) -> ToolSpec:
    return ToolSpec(
        kind,
        KIND_TITLES[kind],
        shortcut,
        lambda c: MeasureTool(kind, c.document),
        tooltip=tooltip,
        panel=PANEL_TITLE,
        needs_segment=False,  # measuring needs no segment
    )


MEASURE_TOOLS: list[ToolSpec] = [
    _measure_spec("ruler", "M", "Ruler (M): drag from one end to the other; distance in mm"),
    _measure_spec("angle", "N", "Angle (N): click three points, the vertex second; degrees"),
    _measure_spec(
        "ellipse", "C", "Ellipse ROI (C): drag a corner to the opposite one; mean, std, area"
    ),
    _measure_spec(
        "rectangle", "Shift+C", "Rectangle ROI (Shift+C): drag corner to corner; mean, std, area"
    ),
]


class MeasureController(QtCore.QObject):
    def __init__(self, window, editing=None) -> None:
        super().__init__(window)
        self.window = window
        self.editing = editing if editing is not None else install_editing(window)
        self.tools = {s.key: self.editing.register_tool(s) for s in MEASURE_TOOLS}
        self.actions = {k: self.editing.registry.actions[k] for k in self.tools}
        self.selected_id: int | None = None
        self.overlay = MeasurementOverlay(window, self)
        self._build_menu()
        self.panel = MeasurementsPanel(self)
        self.dock = window.add_panel(self.panel, PANEL_TITLE)
        self.editing.tool_selected.connect(self._on_tool_selected)
        for tool in self.tools.values():
            tool.changed.connect(self.overlay.invalidate)
        self._doc = None
        window.document_changed.connect(self.on_document)
        # slices and the radiological flip move what is drawn; window/level and overlay do not
        window.state.changed.connect(
            lambda what: (
                self.overlay.refresh() if what in (ViewChange.CURSOR, ViewChange.DISPLAY) else None
            )
        )
        window.labels_opened.connect(self.open_sidecar)
        self.editing.save_hooks.append(self.save_sidecar)
        self.on_document(window.document)

    # --- actions ---------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        self.menu: QtWidgets.QMenu = self.window.menuBar().addMenu("&Measure")
        for action in self.actions.values():
            self.menu.addAction(action)

    def select_tool(self, kind: str) -> None:
        """Make the measurement tool `kind` the active one (Esc goes back to navigation)."""
        self.editing.select_tool(kind)

    def _on_tool_selected(self, key: str | None) -> None:
        spec = self.editing.registry.specs.get(key) if key else None
        if key in self.tools and spec is not None:
            self.window.statusBar().showMessage(spec.tooltip, 8000)  # how to use it

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
    if window.measure is None:
        window.set_measure(MeasureController(window, editing))
    return window.measure
