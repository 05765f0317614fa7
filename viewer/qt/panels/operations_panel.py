"""Segment operations panel: islands, fill holes, smoothing, margins, fill between slices and
logical operations on the active segment, each one undoable command."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.errors import RadLabelError
from viewer.model.display_frame import VIEWS, array_axis_of_view
from viewer.tools import islands, logical, morphology
from viewer.tools.interpolate import fill_between_slices


class _Rows:
    """A grid of three narrow columns (a button, then its parameters) under short headings, so
    the panel fits a narrow dock; each `add` is one row."""

    def __init__(self, widget: QtWidgets.QWidget) -> None:
        self.grid = QtWidgets.QGridLayout(widget)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setVerticalSpacing(3)
        self.grid.setHorizontalSpacing(3)
        self.row = 0

    def add(self, *cells: tuple[QtWidgets.QWidget, int]) -> None:
        col = 0
        for widget, span in cells:
            self.grid.addWidget(widget, self.row, col, 1, span)
            col += span
        self.row += 1

    def heading(self, text: str) -> None:
        self.add((QtWidgets.QLabel(f"<b>{text}</b>"), 3))

    def finish(self) -> None:
        self.grid.setRowStretch(self.row, 1)


class OperationsPanel(QtWidgets.QWidget):
    short_title = "Operations"  # its tab in the main window's narrow dock column

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        rows = _Rows(self)
        self._islands(rows)
        self._shape(rows)
        self._between(rows)
        self._combine(rows)
        rows.finish()

    def _button(self, text: str, fn, tip: str) -> QtWidgets.QPushButton:
        """A button that runs `fn(doc, segment_id)` on the active segment as one undo step;
        tooltips carry the full description."""
        b = QtWidgets.QPushButton(text)
        b.setToolTip(f"{tip} (active segment; undoable)")
        b.clicked.connect(lambda _=False: self.run(fn))
        return b

    def _islands(self, rows: _Rows) -> None:
        rows.heading("Islands")
        keep = self._button("Keep largest", islands.keep_largest, "Keep only the largest island")
        split = self._button(
            "Split islands", islands.split_islands, "Split: one segment per island"
        )
        rows.add((keep, 1), (split, 2))
        self.min_voxels = _voxel_count_spin(100)
        remove = self._button(
            "Remove",
            lambda d, s: islands.remove_small(d, s, self.min_voxels.value()),
            "Remove islands smaller than the given number of voxels",
        )
        rows.add((remove, 1), (self.min_voxels, 2))

    def _shape(self, rows: _Rows) -> None:
        rows.heading("Shape")
        self.smooth_method = _narrow_combo(["median", "opening", "closing"], "Smoothing method", 5)
        self.smooth_mm = _mm_spin(3.0, "Smoothing kernel size")
        smooth = self._button(
            "Smooth",
            lambda d, s: morphology.smooth(
                d, s, self.smooth_method.currentText(), self.smooth_mm.value(), self._opts()
            ),
            "Smooth with the chosen method and kernel size",
        )
        rows.add((smooth, 1), (self.smooth_method, 1), (self.smooth_mm, 1))
        self.margin_mm = _mm_spin(2.0, "Margin to grow or shrink by")
        grow = self._button(
            "Grow",
            lambda d, s: morphology.margin(d, s, self.margin_mm.value(), self._opts()),
            "Grow the segment by the margin",
        )
        shrink = self._button(
            "Shrink",
            lambda d, s: morphology.margin(d, s, -self.margin_mm.value(), self._opts()),
            "Shrink the segment by the margin",
        )
        rows.add((grow, 1), (shrink, 1), (self.margin_mm, 1))
        fill = self._button(
            "Fill holes",
            lambda d, s: morphology.fill_holes(d, s, self._opts()),
            "Fill holes inside the segment",
        )
        rows.add((fill, 1))

    def _between(self, rows: _Rows) -> None:
        rows.heading("Fill between slices")
        self.axis = QtWidgets.QComboBox()  # a view: its array axis depends on the image's order
        self.axis.addItems(list(VIEWS))
        self.axis.setToolTip("Orientation of the drawn slices whose gaps are filled")
        between = self._button(
            "Fill between",
            lambda d, s: fill_between_slices(
                d, s, array_axis_of_view(d.geometry, self.axis.currentText()), self._opts()
            ),
            "Interpolate the segment between the drawn slices",
        )
        rows.add((between, 1), (self.axis, 2))

    def _combine(self, rows: _Rows) -> None:
        rows.heading("Combine segments")
        self.op = QtWidgets.QComboBox()
        self.op.addItems(list(logical.OPS))
        self.op.setToolTip("Operation of the active segment with the other one")
        self.other = _narrow_combo([], "The other segment", 6)
        apply = self._button(
            "Apply", self._logical, "Combine the active segment with the other one"
        )
        rows.add((self.op, 1), (self.other, 2))
        rows.add((apply, 1))

    def _opts(self):
        return self.controller.state.paint_options()

    def _logical(self, doc, sid):
        other = self.other.currentData()
        if other is None:
            return None
        return logical.segment_logical(doc, sid, int(other), self.op.currentText())

    def on_segments(self, doc) -> None:
        self.other.clear()
        for s in doc.segments if doc is not None else []:
            self.other.addItem(s.name, s.id)

    def run(self, fn) -> None:
        c = self.controller
        sid = c.state.active_segment_id
        if c.document is None or sid is None:
            return
        QtWidgets.QApplication.setOverrideCursor(QtGui.QCursor(QtCore.Qt.WaitCursor))
        try:
            try:
                command = fn(c.document, sid)
            except RadLabelError as e:  # refused (thousands of islands): say why, change nothing
                c.window.statusBar().showMessage(e.message, 15_000)
                return
            c.execute(command)
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()


def _mm_spin(value: float, tip: str) -> QtWidgets.QDoubleSpinBox:
    sb = QtWidgets.QDoubleSpinBox()
    sb.setToolTip(tip)
    sb.setRange(0.1, 100.0)
    sb.setDecimals(1)
    sb.setSuffix(" mm")
    sb.setValue(value)
    # spin boxes refuse by default to be narrower than their widest value; a dock is narrow
    sb.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
    return sb


def _voxel_count_spin(value: int) -> QtWidgets.QSpinBox:
    sb = QtWidgets.QSpinBox()
    sb.setRange(1, 10_000_000)
    sb.setValue(value)
    sb.setPrefix("< ")
    sb.setSuffix(" voxels")
    sb.setToolTip("Islands smaller than this many voxels are removed")
    sb.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
    return sb


def _narrow_combo(items: list[str], tip: str, min_chars: int) -> QtWidgets.QComboBox:
    """A combo box that may be narrower than its longest entry (the dock is narrow)."""
    box = QtWidgets.QComboBox()
    box.addItems(items)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLength)
    box.setMinimumContentsLength(min_chars)
    return box
