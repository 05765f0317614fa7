"""The brush's live cursor outline: a circle of the brush size (mm) following the mouse in the
slice view under it, drawn in the active segment's colour."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.tools.brush import BrushTool

ITEM_NAME = "brush_cursor"


class BrushCursor(QtCore.QObject):
    def __init__(self, controller) -> None:
        super().__init__(controller)
        self.controller = controller
        self.items: dict[str, QtWidgets.QGraphicsEllipseItem] = {}
        for name, sv in controller.window.slice_views.items():
            item = QtWidgets.QGraphicsEllipseItem()
            item.setZValue(30)
            item.setVisible(False)
            sv.set_overlay_items(ITEM_NAME, [item])
            self.items[name] = item
            sv.canvas.scene().sigMouseMoved.connect(lambda pos, n=name: self.update(n, pos))

    def hide(self) -> None:
        for item in self.items.values():
            item.setVisible(False)

    def update(self, view: str, scene_pos) -> None:
        tool = self.controller.window.active_tool
        self.hide()
        if not isinstance(tool, BrushTool) or self.controller.document is None:
            return
        sv = self.controller.window.slice_views[view]
        p = sv.viewbox.mapSceneToView(scene_pos)  # view coordinates are mm
        r = tool.settings.radius_mm
        item = self.items[view]
        item.setRect(QtCore.QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
        seg = self.controller.document.segments.get(self.controller.state.active_segment_id or 0)
        colour = QtGui.QColor(*(seg.colour if seg else (255, 255, 0)))
        pen = QtGui.QPen(colour, 0)  # cosmetic: one pixel wide at any zoom
        pen.setStyle(QtCore.Qt.DashLine if tool.erase else QtCore.Qt.SolidLine)
        item.setPen(pen)
        item.setVisible(True)
