"""Segment operations panel: islands, fill holes, smoothing, margins, fill between slices and
logical operations on the active segment, each one undoable command."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.tools import islands, logical, morphology
from viewer.tools.interpolate import fill_between_slices


class OperationsPanel(QtWidgets.QWidget):
    short_title = "Operations"  # its tab in the main window's narrow dock column

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        # a grid of three narrow columns (a button, then its parameters) under short headings,
        # so the panel fits a narrow dock; tooltips carry the full description
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setVerticalSpacing(3)
        grid.setHorizontalSpacing(3)
        rows = [0]

        def add(*cells: tuple[QtWidgets.QWidget, int]) -> None:
            col = 0
            for widget, span in cells:
                grid.addWidget(widget, rows[0], col, 1, span)
                col += span
            rows[0] += 1

        def heading(text: str) -> None:
            add((QtWidgets.QLabel(f"<b>{text}</b>"), 3))

        def button(text, fn, tip):
            b = QtWidgets.QPushButton(text)
            b.setToolTip(f"{tip} (active segment; undoable)")
            b.clicked.connect(lambda _=False: self.run(fn))
            return b

        heading("Islands")
        add(
            (button("Keep largest", islands.keep_largest, "Keep only the largest island"), 1),
            (button("Split islands", islands.split_islands, "Split: one segment per island"), 2),
        )
        self.min_voxels = QtWidgets.QSpinBox()
        self.min_voxels.setRange(1, 10_000_000)
        self.min_voxels.setValue(100)
        self.min_voxels.setPrefix("< ")
        self.min_voxels.setSuffix(" voxels")
        self.min_voxels.setToolTip("Islands smaller than this many voxels are removed")
        self.min_voxels.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
        remove = button(
            "Remove",
            lambda d, s: islands.remove_small(d, s, self.min_voxels.value()),
            "Remove islands smaller than the given number of voxels",
        )
        add((remove, 1), (self.min_voxels, 2))
        heading("Shape")
        self.smooth_method = QtWidgets.QComboBox()
        self.smooth_method.addItems(["median", "opening", "closing"])
        self.smooth_method.setToolTip("Smoothing method")
        self.smooth_method.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLength)
        self.smooth_method.setMinimumContentsLength(5)
        self.smooth_mm = _mm_spin(3.0, "Smoothing kernel size")
        smooth = button(
            "Smooth",
            lambda d, s: morphology.smooth(
                d, s, self.smooth_method.currentText(), self.smooth_mm.value(), self._opts()
            ),
            "Smooth with the chosen method and kernel size",
        )
        add((smooth, 1), (self.smooth_method, 1), (self.smooth_mm, 1))
        self.margin_mm = _mm_spin(2.0, "Margin to grow or shrink by")
        grow = button(
            "Grow",
            lambda d, s: morphology.margin(d, s, self.margin_mm.value(), self._opts()),
            "Grow the segment by the margin",
        )
        shrink = button(
            "Shrink",
            lambda d, s: morphology.margin(d, s, -self.margin_mm.value(), self._opts()),
            "Shrink the segment by the margin",
        )
        add((grow, 1), (shrink, 1), (self.margin_mm, 1))
        fill = button(
            "Fill holes",
            lambda d, s: morphology.fill_holes(d, s, self._opts()),
            "Fill holes inside the segment",
        )
        add((fill, 1))
        heading("Fill between slices")
        self.axis = QtWidgets.QComboBox()  # the index is the array axis (z, y, x)
        self.axis.addItems(["axial", "coronal", "sagittal"])
        self.axis.setToolTip("Orientation of the drawn slices whose gaps are filled")
        between = button(
            "Fill between",
            lambda d, s: fill_between_slices(d, s, self.axis.currentIndex(), self._opts()),
            "Interpolate the segment between the drawn slices",
        )
        add((between, 1), (self.axis, 2))
        heading("Combine segments")
        self.op = QtWidgets.QComboBox()
        self.op.addItems(list(logical.OPS))
        self.op.setToolTip("Operation of the active segment with the other one")
        self.other = QtWidgets.QComboBox()
        self.other.setToolTip("The other segment")
        self.other.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLength)
        self.other.setMinimumContentsLength(6)
        apply = button("Apply", self._logical, "Combine the active segment with the other one")
        add((self.op, 1), (self.other, 2))
        add((apply, 1))
        grid.setRowStretch(rows[0], 1)

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
            c.execute(fn(c.document, sid))
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
