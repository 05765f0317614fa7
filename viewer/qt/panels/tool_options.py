"""The tools panel's option widgets, one small class per control group: brush size and 2D/3D
(brush, eraser), flood-fill tolerance and 2D/3D, the overwrite option and threshold-limited
painting with an intensity histogram (the last two apply to every painting tool). Each writes
straight into the editing controller's settings."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtWidgets

HISTOGRAM_BINS = 128
# the threshold range starts at this percentile of the image: above most of the background
DEFAULT_LOW_PERCENTILE = 60


def _form(widget: QtWidgets.QWidget) -> QtWidgets.QFormLayout:
    form = QtWidgets.QFormLayout(widget)
    form.setContentsMargins(0, 0, 0, 0)
    form.setRowWrapPolicy(QtWidgets.QFormLayout.WrapLongRows)
    return form


class BrushOptions(QtWidgets.QWidget):
    """Brush and eraser diameter (mm) and the 3D sphere switch."""

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.settings = controller.brush_settings
        form = _form(self)
        self.size = QtWidgets.QDoubleSpinBox()
        self.size.setRange(0.1, 200.0)
        self.size.setSuffix(" mm")
        self.size.setDecimals(1)
        self.size.setValue(self.settings.radius_mm * 2)
        self.size.setToolTip("Brush and eraser diameter")
        self.size.valueChanged.connect(self._changed)
        form.addRow("Brush size", self.size)
        self.sphere = QtWidgets.QCheckBox("3D sphere brush")
        self.sphere.setToolTip("On: a sphere through the slices. Off: a disk in the view plane")
        self.sphere.toggled.connect(self._changed)
        form.addRow(self.sphere)

    def _changed(self, *_) -> None:
        self.settings.radius_mm = self.size.value() / 2.0
        self.settings.sphere = self.sphere.isChecked()


class FloodOptions(QtWidgets.QWidget):
    """Flood-fill tolerance and the 3D switch."""

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.settings = controller.flood_settings
        form = _form(self)
        self.tolerance = QtWidgets.QDoubleSpinBox()
        self.tolerance.setRange(0, 1e5)
        self.tolerance.setValue(self.settings.tolerance)
        self.tolerance.setToolTip("Flood fill: how far from the clicked value a voxel may be")
        self.tolerance.valueChanged.connect(self._changed)
        form.addRow("Fill tolerance", self.tolerance)
        self.flood3d = QtWidgets.QCheckBox("Flood fill in 3D")
        self.flood3d.setToolTip("On: fill through the slices. Off: only the clicked slice")
        self.flood3d.toggled.connect(self._changed)
        form.addRow(self.flood3d)

    def _changed(self, *_) -> None:
        self.settings.tolerance = self.tolerance.value()
        self.settings.three_d = self.flood3d.isChecked()


class OverwriteOption(QtWidgets.QCheckBox):
    """Whether painting may overwrite other (unlocked) segments."""

    def __init__(self, state, parent=None) -> None:
        super().__init__("Overwrite other segments", parent)
        self.setChecked(state.overwrite_others)
        self.setToolTip("Locked segments are never overwritten")
        self.toggled.connect(lambda on: state.set(overwrite_others=on))


class ThresholdOptions(QtWidgets.QGroupBox):
    """Paint only where the intensity is within a range: two spin boxes and a histogram with a
    draggable region, kept in step with each other."""

    def __init__(self, state, parent=None) -> None:
        super().__init__("Paint only in range", parent)
        self.state = state
        self.setToolTip("Brush and fill change only voxels whose intensity is within this range")
        self.setCheckable(True)
        self.setChecked(False)
        self.toggled.connect(self._changed)
        lay = QtWidgets.QVBoxLayout(self)
        rng = QtWidgets.QHBoxLayout()
        self.lo = _range_spin(self._spins_changed)
        self.hi = _range_spin(self._spins_changed)
        rng.addWidget(self.lo)
        rng.addWidget(self.hi)
        lay.addLayout(rng)
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
        lay.addWidget(self.histogram)
        self._syncing = False

    def on_document(self, doc) -> None:
        """Histogram of the new image; the range starts above most of the background."""
        if doc is None or not doc.volume.is_segmentable:
            self.setEnabled(False)
            return
        self.setEnabled(True)
        arr = doc.volume.array
        sample = arr[:: max(1, arr.shape[0] // 32), ::2, ::2]
        if sample.dtype.kind == "f":  # NaN or inf voxels (outside a scanner's field of view)
            sample = sample[np.isfinite(sample)]
        if sample.size == 0:
            sample = np.zeros(1, np.float32)
        lo, hi = float(sample.min()), float(sample.max())
        if hi <= lo:
            hi = lo + 1
        counts, edges = np.histogram(sample, bins=HISTOGRAM_BINS, range=(lo, hi))
        self.hist_curve.setData(edges, np.log1p(counts))
        self._syncing = True
        self.lo.setValue(float(np.percentile(sample, DEFAULT_LOW_PERCENTILE)))
        self.hi.setValue(hi)
        self.region.setRegion((self.lo.value(), self.hi.value()))
        self._syncing = False
        self._changed()

    def _spins_changed(self, *_) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.region.setRegion((self.lo.value(), self.hi.value()))
        self._syncing = False
        self._changed()

    def _region_changed(self, *_) -> None:
        if self._syncing:
            return
        lo, hi = self.region.getRegion()
        self._syncing = True
        self.lo.setValue(lo)
        self.hi.setValue(hi)
        self._syncing = False
        self._changed()

    def _changed(self, *_) -> None:
        rng = None
        if self.isChecked() and self.isEnabled():
            rng = tuple(sorted((self.lo.value(), self.hi.value())))
        self.state.set(threshold=rng)


def _range_spin(slot) -> QtWidgets.QDoubleSpinBox:
    sb = QtWidgets.QDoubleSpinBox()
    sb.setRange(-1e6, 1e6)
    # narrower than the widest value (+-1e6) allowed: the panel sits in a narrow dock
    sb.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Fixed)
    sb.setDecimals(1)
    sb.valueChanged.connect(slot)
    return sb
