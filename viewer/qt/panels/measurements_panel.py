"""The Measurements panel: one row per measurement (name, value, view and slice). Selecting a
row highlights the measurement; double-clicking it jumps the crosshair to it; *Remove* (or the
Delete key in the list) removes the selected ones as undoable steps."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.display_frame import DisplayFrame
from viewer.model.measurement_maths import measurement_slice, measurement_value, value_text

COLUMNS = ("Name", "Value", "Slice")


class MeasurementsPanel(QtWidgets.QWidget):
    short_title = "Measure"

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        tools = QtWidgets.QGridLayout()
        tools.setSpacing(2)
        self.tool_buttons: dict[str, QtWidgets.QToolButton] = {}
        registry = controller.editing.registry
        for i, kind in enumerate(controller.tools):
            b = registry.button(kind)
            tools.addWidget(b, i // 2, i % 2)
            self.tool_buttons[kind] = b
        lay.addLayout(tools)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._go_to(row))
        lay.addWidget(self.table, 1)
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected measurements (Delete in the list)")
        self.remove_button.clicked.connect(self.remove_selected)
        lay.addWidget(self.remove_button)
        delete = QtWidgets.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key_Delete), self.table)
        delete.setContext(QtCore.Qt.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        self._ids: list[int] = []
        self._filling = False
        self.refresh()

    def refresh(self) -> None:
        doc = self.controller.window.document
        items = list(doc.measurements) if doc is not None else []
        frame = DisplayFrame.from_geometry(doc.geometry) if doc is not None else None
        unit = "HU" if self.controller.window.modality() == "CT" else ""
        self._filling = True
        self.table.setRowCount(len(items))
        self._ids = [m.id for m in items]
        for row, m in enumerate(items):
            value = value_text(m, measurement_value(m, doc.volume.array, doc.geometry), unit)
            s = int(round(measurement_slice(m, frame))) + 1
            cells = (m.name, value, f"{m.view.capitalize()} {s}")
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.clearSelection()
        sel = self.controller.selected_id
        if sel in self._ids:
            self.table.selectRow(self._ids.index(sel))
        self.remove_button.setEnabled(bool(items))
        self._filling = False

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._ids[r] for r in rows if r < len(self._ids)]

    def remove_selected(self) -> None:
        for mid in self.selected_ids():
            self.controller.remove(mid)

    def _selection_changed(self) -> None:
        if self._filling:
            return
        ids = self.selected_ids()
        self.controller.select(ids[0] if ids else None)

    def _go_to(self, row: int) -> None:
        if row < len(self._ids):
            self.controller.go_to(self._ids[row])
