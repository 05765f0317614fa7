"""Segment operations panel: islands, fill holes, smoothing, margins, fill between slices and
logical operations on the active segment, each one undoable command."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.tools import islands, logical, morphology
from viewer.tools.interpolate import fill_between_slices


class OperationsPanel(QtWidgets.QWidget):
    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        form = QtWidgets.QFormLayout(self)

        def button(text, fn):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _=False: self.run(fn))
            return b

        form.addRow(button("Fill holes", lambda d, s: morphology.fill_holes(d, s, self._opts())))
        form.addRow(button("Keep largest island", islands.keep_largest))
        self.min_voxels = QtWidgets.QSpinBox()
        self.min_voxels.setRange(1, 10_000_000)
        self.min_voxels.setValue(100)
        form.addRow(
            button(
                "Remove islands smaller than",
                lambda d, s: islands.remove_small(d, s, self.min_voxels.value()),
            ),
            self.min_voxels,
        )
        form.addRow(button("Split islands into segments", islands.split_islands))
        self.smooth_method = QtWidgets.QComboBox()
        self.smooth_method.addItems(["median", "opening", "closing"])
        self.smooth_mm = _mm_spin(3.0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.smooth_method)
        row.addWidget(self.smooth_mm)
        form.addRow(
            button(
                "Smooth",
                lambda d, s: morphology.smooth(
                    d, s, self.smooth_method.currentText(), self.smooth_mm.value(), self._opts()
                ),
            ),
            row,
        )
        self.margin_mm = _mm_spin(2.0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(
            button(
                "Grow", lambda d, s: morphology.margin(d, s, self.margin_mm.value(), self._opts())
            )
        )
        row.addWidget(
            button(
                "Shrink",
                lambda d, s: morphology.margin(d, s, -self.margin_mm.value(), self._opts()),
            )
        )
        row.addWidget(self.margin_mm)
        form.addRow("Margin", row)
        self.axis = QtWidgets.QComboBox()
        self.axis.addItems(["slices along z (axial)", "along y (coronal)", "along x (sagittal)"])
        form.addRow(
            button(
                "Fill between slices",
                lambda d, s: fill_between_slices(d, s, self.axis.currentIndex(), self._opts()),
            ),
            self.axis,
        )
        self.op = QtWidgets.QComboBox()
        self.op.addItems(list(logical.OPS))
        self.other = QtWidgets.QComboBox()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.op)
        row.addWidget(QtWidgets.QLabel("with"))
        row.addWidget(self.other)
        form.addRow(button("Logical", self._logical), row)

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


def _mm_spin(value: float) -> QtWidgets.QDoubleSpinBox:
    sb = QtWidgets.QDoubleSpinBox()
    sb.setRange(0.1, 100.0)
    sb.setDecimals(1)
    sb.setSuffix(" mm")
    sb.setValue(value)
    return sb
