"""The segments panel: the segment table (add, remove, rename, recolour, show/hide, lock,
reorder, active segment), per-segment statistics with CSV export, and colour-table import.

Every change goes through the controller's history, so it can be undone."""

from __future__ import annotations

import contextlib
import math

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.commands.segment_commands import (
    AddSegment,
    LockSegment,
    MoveSegment,
    RecolourSegment,
    RemoveSegment,
    RenameSegment,
    ReplaceSegmentTable,
    ShowSegment,
)
from viewer.errors import LoadError, SaveError
from viewer.io.atomic_save import atomic_write_text
from viewer.model.segment_io import apply_colour_table, read_colour_table
from viewer.model.statistics import segment_statistics, statistics_csv
from viewer.model.stats_tracker import StatisticsTracker

COLUMNS = ["", "Name", "Show", "Lock", "Voxels", "mL", "Mean", "Std", "Min", "Max"]
# key, text, QStyle standard icon (None: the text is shown), tooltip
BUTTONS = [
    ("add", "Add", None, "Add a segment"),
    ("remove", "Remove", None, "Remove the active segment"),
    ("up", "Up", "SP_ArrowUp", "Move the active segment up"),
    ("down", "Down", "SP_ArrowDown", "Move the active segment down"),
    ("import", "Import colours...", "SP_DialogOpenButton", "Import names and colours..."),
    ("csv", "Export CSV...", "SP_DialogSaveButton", "Export the statistics as CSV..."),
    ("stats", "Update statistics", "SP_BrowserReload", "Update the statistics columns"),
]
AUTO_STATS_MAX_VOXELS = 30_000_000  # above this, statistics update on request only


class SegmentsPanel(QtWidgets.QWidget):
    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._updating = False
        self.table = self._segment_table()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table)
        lay.addLayout(self._button_row())
        # statistics follow edits after a pause, not on every brush stroke
        self._stats_timer = QtCore.QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(400)
        self._stats_timer.timeout.connect(self.refresh_stats)
        self.stats: dict[int, object] = {}
        self.tracker: StatisticsTracker | None = None  # follows the edits, box by box
        self._row_of: dict[int, int] = {}  # segment id -> table row

    # --- building the panel ----------------------------------------------------------------
    def _segment_table(self) -> QtWidgets.QTableWidget:
        """One row per segment (COLUMNS), one selected at a time: the active segment."""
        table = QtWidgets.QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels(COLUMNS)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        table.verticalHeader().setVisible(False)
        # a narrow dock column: colour, name, show and lock stay in view, statistics scroll
        header = table.horizontalHeader()
        header.setMinimumSectionSize(18)
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.Fixed)
        header.setMaximumSectionSize(130)  # a long name is elided; its tooltip has the rest
        table.setColumnWidth(0, 18)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        table.setHorizontalScrollMode(QtWidgets.QAbstractItemView.ScrollPerPixel)
        table.itemChanged.connect(self._item_changed)
        table.cellDoubleClicked.connect(self._double_clicked)
        table.itemSelectionChanged.connect(self._selection_changed)
        return table

    def _button_row(self) -> QtWidgets.QHBoxLayout:
        """A tool button per BUTTONS entry, kept in `self.buttons` by key; small gaps set
        add/remove, up/down and the file and statistics actions apart."""
        slots = {
            "add": self.add_segment,
            "remove": self.remove_segment,
            "up": lambda: self.move_segment(-1),
            "down": lambda: self.move_segment(1),
            "import": self.import_colours,
            "csv": self.export_csv,
            "stats": self.refresh_stats,
        }
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(2)
        self.buttons = {}
        for key, text, icon, tip in BUTTONS:
            b = self._tool_button(text, icon, tip, slots[key])
            row.addWidget(b)
            if key in ("remove", "down"):
                row.addSpacing(6)
            self.buttons[key] = b
        row.addStretch(1)
        return row

    def _tool_button(self, text: str, icon: str | None, tip: str, slot) -> QtWidgets.QToolButton:
        """A button that calls `slot()`; with a QStyle `icon` it shows only the icon."""
        b = QtWidgets.QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        if icon is not None:  # icon only: the row fits a narrow dock; the tooltip says it
            b.setIcon(self.style().standardIcon(getattr(QtWidgets.QStyle, icon)))
            b.setToolButtonStyle(QtCore.Qt.ToolButtonIconOnly)
        # clicked(bool) would pass `checked` to slots that take an argument: call without it
        b.clicked.connect(lambda _=False: slot())
        return b

    # --- model -> view ---------------------------------------------------------------------
    @property
    def document(self):
        return self.controller.document

    def on_document(self, doc) -> None:
        self.stats = {}
        if self.tracker is not None:
            self.tracker.close()
        self.tracker = StatisticsTracker(doc) if doc is not None else None
        self.refresh()
        self.schedule_stats()

    def schedule_stats(self) -> None:
        """Update the statistics soon: at the next turn of the event loop once the tracker
        follows the edits (cheap), else after a pause in the edits (a full pass)."""
        doc = self.document
        if doc is None:
            return
        if self.tracker is not None and self.tracker.document is doc and self.tracker.ready:
            self._stats_timer.start(0)
        elif doc.labels.array.size <= AUTO_STATS_MAX_VOXELS:
            self._stats_timer.start(400)

    @contextlib.contextmanager
    def _bulk_update(self):
        """Fill many rows at once: with the columns sized to their contents, Qt re-measures a
        column (up to 1,000 rows) after every item set, which made a label with 65,535 segments
        take minutes; size them once at the end instead."""
        header = self.table.horizontalHeader()
        self._updating = True
        self.table.setUpdatesEnabled(False)
        for col in range(1, header.count()):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.Interactive)
        try:
            yield
        finally:
            for col in range(1, header.count()):
                header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeToContents)
            self.table.setUpdatesEnabled(True)
            self._updating = False

    def refresh(self) -> None:
        doc = self.document
        with self._bulk_update():
            segs = list(doc.segments) if doc is not None else []
            self._row_of = {s.id: row for row, s in enumerate(segs)}
            self.table.setRowCount(len(segs))
            for row, s in enumerate(segs):
                sw = QtWidgets.QTableWidgetItem()
                sw.setBackground(QtGui.QColor(*s.colour))
                sw.setFlags(QtCore.Qt.ItemIsEnabled | QtCore.Qt.ItemIsSelectable)
                sw.setData(QtCore.Qt.UserRole, s.id)
                sw.setToolTip("Double-click to change the colour")
                self.table.setItem(row, 0, sw)
                name = QtWidgets.QTableWidgetItem(s.name)
                name.setData(QtCore.Qt.UserRole, s.id)
                self.table.setItem(row, 1, name)
                for col, value in ((2, s.visible), (3, s.locked)):
                    it = QtWidgets.QTableWidgetItem()
                    it.setFlags(
                        QtCore.Qt.ItemIsEnabled
                        | QtCore.Qt.ItemIsUserCheckable
                        | QtCore.Qt.ItemIsSelectable
                    )
                    it.setCheckState(QtCore.Qt.Checked if value else QtCore.Qt.Unchecked)
                    self.table.setItem(row, col, it)
                self._fill_stats_row(row, s.id)
            active = self.controller.state.active_segment_id
            ids = [s.id for s in segs]
            if active not in ids:
                active = ids[0] if ids else None
                self.controller.set_active_segment(active)
            if active is not None:
                self.table.selectRow(ids.index(active))
        self.buttons["remove"].setEnabled(bool(doc and len(doc.segments)))

    def _fill_stats_row(self, row: int, segment_id: int) -> None:
        st = self.stats.get(segment_id)
        values = [st.voxels, st.volume_ml, st.mean, st.std, st.min, st.max] if st else [""] * 6
        for col, v in enumerate(values, start=4):
            if isinstance(v, float):
                text = "" if math.isnan(v) else f"{v:.4g}" if col != 5 else f"{v:.3f}"
            else:
                text = str(v)
            it = QtWidgets.QTableWidgetItem(text)
            it.setFlags(QtCore.Qt.ItemIsEnabled | QtCore.Qt.ItemIsSelectable)
            it.setTextAlignment(QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
            self.table.setItem(row, col, it)
        name = self.table.item(row, 1)
        if name is not None:  # long names are elided and statistics may be scrolled away
            stats = f"\n{st.voxels} voxels, {st.volume_ml:.3f} mL, mean {st.mean:.4g}" if st else ""
            name.setToolTip(name.text() + stats)

    def refresh_stats(self) -> None:
        """Show the statistics: a full pass the first time, then only what edits changed."""
        doc = self.document
        if doc is not None and (self.tracker is None or self.tracker.document is not doc):
            self.on_document(doc)
        if doc is None:
            self.stats = {}
            changed = None
        else:
            # once the tracker follows the edits, only the rows of segments they changed (and
            # rows not shown yet) are filled: a label may have thousands of segments
            changed = self.tracker.take_changed() if self.tracker.ready else None
            if changed is not None:
                changed |= {sid for sid in self._row_of if sid not in self.stats}
            rows = self.tracker.rows(changed)
            if changed is None:
                self.stats = {}
            self.stats.update((r.segment_id, r) for r in rows)
        if changed is None:
            with self._bulk_update():
                for row in range(self.table.rowCount()):
                    self._fill_stats_row(row, self.segment_id_at(row))
            return
        self._updating = True  # a few rows: no bulk re-measuring of the columns
        try:
            for sid in changed:
                if sid in self._row_of:
                    self._fill_stats_row(self._row_of[sid], sid)
        finally:
            self._updating = False

    # --- view -> commands ----------------------------------------------------------------------
    def segment_id_at(self, row: int) -> int:
        return int(self.table.item(row, 0).data(QtCore.Qt.UserRole))

    def _selection_changed(self) -> None:
        if self._updating:
            return
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.controller.set_active_segment(self.segment_id_at(rows[0].row()))

    def _item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._updating or self.document is None:
            return
        sid = self.segment_id_at(item.row())
        seg = self.document.segments.get(sid)
        col = item.column()
        if col == 1 and item.text().strip() and item.text() != seg.name:
            self.controller.execute(RenameSegment(sid, item.text().strip()))
        elif col == 2 and (item.checkState() == QtCore.Qt.Checked) != seg.visible:
            self.controller.execute(ShowSegment(sid, item.checkState() == QtCore.Qt.Checked))
        elif col == 3 and (item.checkState() == QtCore.Qt.Checked) != seg.locked:
            self.controller.execute(LockSegment(sid, item.checkState() == QtCore.Qt.Checked))

    def _double_clicked(self, row: int, col: int) -> None:
        if col != 0 or self.document is None:
            return
        sid = self.segment_id_at(row)
        colour = QtWidgets.QColorDialog.getColor(
            QtGui.QColor(*self.document.segments.get(sid).colour), self, "Segment colour"
        )
        if colour.isValid():
            self.controller.execute(
                RecolourSegment(sid, (colour.red(), colour.green(), colour.blue()))
            )

    def add_segment(self, name: str | None = None) -> None:
        if self.document is None:
            return
        cmd = AddSegment(name)
        self.controller.execute(cmd)
        self.controller.set_active_segment(cmd.segment_id)
        self.refresh()

    def remove_segment(self) -> None:
        sid = self.controller.state.active_segment_id
        seg = self.document.segments.get(sid) if self.document is not None and sid else None
        if seg is None:
            return
        if seg.locked:  # a lock protects the voxels from every edit, removal included
            self.controller.window.statusBar().showMessage(
                f"{seg.name} is locked: unlock it to remove it", 10000
            )
            return
        self.controller.execute(RemoveSegment(sid))

    def move_segment(self, delta: int) -> None:
        sid = self.controller.state.active_segment_id
        doc = self.document
        if doc is None or sid is None or doc.segments.get(sid) is None:
            return
        pos = doc.segments.ids().index(sid) + delta
        if 0 <= pos < len(doc.segments):
            self.controller.execute(MoveSegment(sid, pos))

    def import_colours(self, path: str | None = None) -> None:
        if self.document is None:
            return
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self,
                "Import segment names and colours",
                "",
                "Colour tables (*.json *.txt *.ctbl *.label);;All files (*)",
            )
            if not path:
                return
        try:
            imported = read_colour_table(path)
        except LoadError as e:
            self.controller.show_error("Cannot import colour table", e.message)
            return
        merged = apply_colour_table(self.document.segments, imported)
        self.controller.execute(ReplaceSegmentTable(merged))

    def export_csv(self, path: str | None = None) -> None:
        if self.document is None:
            return
        if path is None:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export statistics", "segment_statistics.csv", "CSV (*.csv)"
            )
            if not path:
                return
        try:
            rows = self.tracker.rows() if self.tracker else segment_statistics(self.document)
            atomic_write_text(path, statistics_csv(rows))
        except SaveError as e:
            self.controller.show_error("Cannot export statistics", e.message)
