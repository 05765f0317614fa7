"""Draws the document's measurements in the slice views: each on the slice it lies on, in the
view it was drawn in, with its value beside it; the selected one thicker and in another colour;
the one being drawn or moved (the tool's preview) dashed, with its live value.

Items are scene-space (mm) QGraphicsItems given to `SliceView.set_overlay_items`; a view's items
are rebuilt only when what it shows changed (its slice, the convention, the measurements)."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.display_frame import DisplayFrame, view_axes
from viewer.model.measurement_maths import measurement_slice, measurement_value, value_text

COLOUR = QtGui.QColor(255, 190, 40)
SELECTED = QtGui.QColor(60, 220, 255)
ITEMS = "measurements"


class MeasurementOverlay:
    def __init__(self, window, controller) -> None:
        self.window = window
        self.controller = controller
        self._shown: dict[str, object] = {}  # view -> key of what is drawn there
        self._version = 0

    def invalidate(self) -> None:
        """The measurements, the selection or a preview changed: redraw every view."""
        self._version += 1
        self.refresh()

    def refresh(self) -> None:
        doc = self.window.document
        frame = None  # built only when some view has something new to draw
        for name, sv in self.window.slice_views.items():
            if sv.canvas.closed:
                continue
            key = (self._version, id(doc), sv.slice_index, sv.state.radiological)
            if self._shown.get(name) == key:
                continue
            self._shown[name] = key
            if doc is not None and frame is None:
                frame = DisplayFrame.from_geometry(doc.geometry)
            sv.set_overlay_items(ITEMS, self._items(sv, frame) if frame is not None else [])

    def _items(self, sv, frame: DisplayFrame) -> list:
        doc = self.window.document
        preview = self.controller.preview()
        out = []
        for m in doc.measurements:
            if preview is not None and preview.id == m.id:
                continue  # being moved: the preview stands for it
            out += self._draw(sv, frame, m, m.id == self.controller.selected_id, False)
        if preview is not None:
            out += self._draw(sv, frame, preview, True, True)
        return out

    def _draw(self, sv, frame: DisplayFrame, m, selected: bool, dashed: bool) -> list:
        if m.view != sv.view or abs(measurement_slice(m, frame) - sv.slice_index) >= 0.5:
            return []
        doc = self.window.document
        pts = [sv.world_to_scene(p)[:2] for p in m.points]
        colour = SELECTED if selected else COLOUR
        pen = QtGui.QPen(colour, 3 if selected else 2)
        pen.setCosmetic(True)  # a width in screen pixels at every zoom
        if dashed:
            pen.setStyle(QtCore.Qt.DashLine)
        items: list = []
        if m.kind in ("ruler", "angle"):
            for a, b in zip(pts[:-1], pts[1:], strict=True):
                items.append(QtWidgets.QGraphicsLineItem(a[0], a[1], b[0], b[1]))
            anchor = pts[1] if m.kind == "angle" else pts[-1]
        else:
            (x0, y0), (x1, y1) = pts
            rect = QtCore.QRectF(QtCore.QPointF(x0, y0), QtCore.QPointF(x1, y1)).normalized()
            cls = QtWidgets.QGraphicsRectItem
            items.append((QtWidgets.QGraphicsEllipseItem if m.kind == "ellipse" else cls)(rect))
            anchor = (rect.left(), rect.bottom())
        for it in items:
            it.setPen(pen)
            it.setZValue(40)
        # the end, corner and vertex points: where the tools grab them
        handles = pg.ScatterPlotItem(
            x=[p[0] for p in pts], y=[p[1] for p in pts], size=6, pen=pg.mkPen(colour),
            brush=pg.mkBrush(0, 0, 0, 0),
        )  # fmt: skip
        handles.setZValue(41)
        value = measurement_value(m, doc.volume.array, doc.geometry)
        unit = "HU" if self.window.modality() == "CT" else ""
        # the value sits on the side of the point facing the image's centre, so it stays in view
        va = view_axes(sv.view, sv.state.radiological)
        centre_x = (frame.shape[va.col] - 1) / 2.0 * frame.pixel_spacing(sv.view)[1]
        side = (1, 0) if anchor[0] > centre_x else (0, 0)
        text = f"{m.name}: {value_text(m, value, unit)}"
        if m.kind in ("ellipse", "rectangle"):
            text = text.replace(": ", "\n", 1).replace(", ", "\n")  # narrow: one value a line
        label = pg.TextItem(text, color=colour, anchor=side)
        label.setPos(*anchor)
        label.setZValue(42)
        return [*items, handles, label]
