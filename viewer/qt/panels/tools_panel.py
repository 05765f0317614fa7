"""The tools panel: tool buttons with shortcuts, brush size and 2D/3D, the overwrite option,
flood-fill tolerance, and threshold-limited painting with an intensity histogram."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from viewer.qt.panels.layout import show_panel

# (tool key, button text, shortcut); key None is navigation (no tool)
TOOL_BUTTONS = [
    (None, "Navigate", "Esc"),
    ("brush", "Brush", "B"),
    ("eraser", "Eraser", "E"),
    ("flood_fill", "Flood fill", "F"),
    ("lasso", "Lasso", "P"),
]


class ToolsPanel(QtWidgets.QWidget):
    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        grid = QtWidgets.QGridLayout()  # three per row: fits a narrow dock
        grid.setSpacing(2)
        self.group = QtWidgets.QButtonGroup(self)
        self.group.setExclusive(True)
        self.tool_buttons: dict[str | None, QtWidgets.QToolButton] = {}
        for i, (key, text, shortcut) in enumerate(TOOL_BUTTONS):
            b = QtWidgets.QToolButton()
            b.setText(text)
            b.setCheckable(True)
            b.setToolTip(f"{text} ({shortcut})")
            b.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Fixed)
            b.clicked.connect(lambda _=False, k=key: controller.select_tool(k))
            self.group.addButton(b)
            grid.addWidget(b, i // 3, i % 3)
            self.tool_buttons[key] = b
            # window-wide shortcut, so it works whichever view has focus
            act = QtWidgets.QAction(text, controller.window)
            act.setShortcut(shortcut)
            act.setShortcutContext(QtCore.Qt.WindowShortcut)
            act.triggered.connect(lambda _=False, k=key: controller.select_tool(k))
            controller.window.addAction(act)
        self.tool_buttons[None].setChecked(True)
        lay.addLayout(grid)

        form = QtWidgets.QFormLayout()
        form.setRowWrapPolicy(QtWidgets.QFormLayout.WrapLongRows)
        self.size = QtWidgets.QDoubleSpinBox()
        self.size.setRange(0.1, 200.0)
        self.size.setSuffix(" mm")
        self.size.setDecimals(1)
        self.size.setValue(controller.brush_settings.radius_mm * 2)
        self.size.setToolTip("Brush and eraser diameter")
        self.size.valueChanged.connect(self._brush_changed)
        form.addRow("Brush size", self.size)
        self.sphere = QtWidgets.QCheckBox("3D sphere brush")
        self.sphere.setToolTip("On: a sphere through the slices. Off: a disk in the view plane")
        self.sphere.toggled.connect(self._brush_changed)
        form.addRow(self.sphere)
        self.overwrite = QtWidgets.QCheckBox("Overwrite other segments")
        self.overwrite.setChecked(controller.state.overwrite_others)
        self.overwrite.setToolTip("Locked segments are never overwritten")
        self.overwrite.toggled.connect(lambda on: controller.state.set(overwrite_others=on))
        form.addRow(self.overwrite)
        self.tolerance = QtWidgets.QDoubleSpinBox()
        self.tolerance.setRange(0, 1e5)
        self.tolerance.setValue(controller.flood_settings.tolerance)
        self.tolerance.setToolTip("Flood fill: how far from the clicked value a voxel may be")
        self.tolerance.valueChanged.connect(self._flood_changed)
        form.addRow("Fill tolerance", self.tolerance)
        self.flood3d = QtWidgets.QCheckBox("Flood fill in 3D")
        self.flood3d.setToolTip("On: fill through the slices. Off: only the clicked slice")
        self.flood3d.toggled.connect(self._flood_changed)
        form.addRow(self.flood3d)
        lay.addLayout(form)

        self.threshold_box = QtWidgets.QGroupBox("Paint only in range")
        self.threshold_box.setToolTip(
            "Brush and fill change only voxels whose intensity is within this range"
        )
        self.threshold_box.setCheckable(True)
        self.threshold_box.setChecked(False)
        self.threshold_box.toggled.connect(self._threshold_changed)
        tl = QtWidgets.QVBoxLayout(self.threshold_box)
        rng = QtWidgets.QHBoxLayout()
        self.lo = QtWidgets.QDoubleSpinBox()
        self.hi = QtWidgets.QDoubleSpinBox()
        for sb in (self.lo, self.hi):
            sb.setRange(-1e6, 1e6)
            # narrower than the widest value (+-1e6) allowed: the panel sits in a narrow dock
            sb.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
            sb.setDecimals(1)
            sb.valueChanged.connect(self._spins_changed)
            rng.addWidget(sb)
        tl.addLayout(rng)
        self.histogram = pg.PlotWidget()
        self.histogram.setMaximumHeight(120)
        self.histogram.setMinimumSize(120, 60)  # pyqtgraph's own minimum is wider than a dock
        self.histogram.hideAxis("left")
        self.hist_curve = self.histogram.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=(120, 120, 200, 120)
        )
        self.region = pg.LinearRegionItem([0, 1])
        self.region.sigRegionChanged.connect(self._region_changed)
        self.histogram.addItem(self.region)
        tl.addWidget(self.histogram)
        lay.addWidget(self.threshold_box)
        lay.addStretch(1)
        self._syncing = False

    # --- document --------------------------------------------------------------------------
    def on_document(self, doc) -> None:
        if doc is None or not doc.volume.is_segmentable:
            self.threshold_box.setEnabled(False)
            return
        self.threshold_box.setEnabled(True)
        arr = doc.volume.array
        sample = arr[:: max(1, arr.shape[0] // 32), ::2, ::2]
        lo, hi = float(sample.min()), float(sample.max())
        if hi <= lo:
            hi = lo + 1
        counts, edges = np.histogram(sample, bins=128, range=(lo, hi))
        self.hist_curve.setData(edges, np.log1p(counts))
        self._syncing = True
        self.lo.setValue(float(np.percentile(sample, 60)))
        self.hi.setValue(hi)
        self.region.setRegion((self.lo.value(), self.hi.value()))
        self._syncing = False
        self._threshold_changed()

    # --- settings ------------------------------------------------------------------------------
    def _brush_changed(self, *_):
        self.controller.brush_settings.radius_mm = self.size.value() / 2.0
        self.controller.brush_settings.sphere = self.sphere.isChecked()

    def _flood_changed(self, *_):
        self.controller.flood_settings.tolerance = self.tolerance.value()
        self.controller.flood_settings.three_d = self.flood3d.isChecked()

    def _spins_changed(self, *_):
        if self._syncing:
            return
        self._syncing = True
        self.region.setRegion((self.lo.value(), self.hi.value()))
        self._syncing = False
        self._threshold_changed()

    def _region_changed(self, *_):
        if self._syncing:
            return
        lo, hi = self.region.getRegion()
        self._syncing = True
        self.lo.setValue(lo)
        self.hi.setValue(hi)
        self._syncing = False
        self._threshold_changed()

    def _threshold_changed(self, *_):
        rng = None
        if self.threshold_box.isChecked() and self.threshold_box.isEnabled():
            lo, hi = sorted((self.lo.value(), self.hi.value()))
            rng = (lo, hi)
        self.controller.state.set(threshold=rng)

    def show_tool(self, key: str | None) -> None:
        b = self.tool_buttons.get(key)
        if b is not None:
            b.setChecked(True)
            if key is not None:
                show_panel(self)  # a painting tool: its settings come to the front
