"""The pyqtgraph pieces under a slice view: a view box that routes mouse input, and a canvas
that paints the orientation letters, the slice caption and the window/level readout on top of
the image.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui


class SliceViewBox(pg.ViewBox):
    """A ViewBox with aspect locked to mm, y pointing down, and mouse input handed to `handler`.

    The handler implements `drag(ev)`, `click(ev)` and `wheel(ev)` (pyqtgraph scene events).
    """

    def __init__(self, handler) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        self._handler = handler
        self.setMouseEnabled(False, False)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        ev.accept()
        self._handler.drag(ev)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        ev.accept()
        self._handler.click(ev)

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.accept()
        self._handler.wheel(ev)


class SliceCanvas(pg.GraphicsView):
    """GraphicsView that draws edge letters and a caption in screen space over the scene."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="k")
        self.letters: dict[str, str] = {}
        self._caption = ""
        self.window_text = ""  # bottom-left corner: the window/level ("W 400 L 50 HU")
        self.accent = QtGui.QColor(200, 200, 200)
        self.key_handler = None  # callable(QKeyEvent) -> bool (True when handled)
        self.setFocusPolicy(QtCore.Qt.StrongFocus)

    @property
    def caption(self) -> str:
        """The text in the top-left corner ("Axial  99/256")."""
        return self._caption

    @caption.setter
    def caption(self, text: str) -> None:
        if text != self._caption:
            self._caption = text
            # The scene repaints only what changed in it (the image's rectangle); the caption
            # is painted over the viewport's corner, often outside the image, and stayed stale.
            self.viewport().update()

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802
        if self.key_handler is not None and self.key_handler(ev):
            ev.accept()
            return
        super().keyPressEvent(ev)

    def drawForeground(self, painter: QtGui.QPainter, rect) -> None:  # noqa: N802
        super().drawForeground(painter, rect)
        painter.save()
        painter.resetTransform()
        w, h = self.viewport().width(), self.viewport().height()
        font = QtGui.QFont()
        font.setBold(True)
        font.setPointSize(11)
        painter.setFont(font)
        painter.setPen(QtGui.QColor(255, 220, 80))
        m = 4
        big = QtCore.QRectF(m, m, w - 2 * m, h - 2 * m)
        align = {
            "left": QtCore.Qt.AlignLeft | QtCore.Qt.AlignVCenter,
            "right": QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter,
            "top": QtCore.Qt.AlignTop | QtCore.Qt.AlignHCenter,
            "bottom": QtCore.Qt.AlignBottom | QtCore.Qt.AlignHCenter,
        }
        for edge, letter in self.letters.items():
            painter.drawText(big, int(align[edge]), letter)
        if self.caption:
            font.setBold(False)
            font.setPointSize(9)
            painter.setFont(font)
            painter.setPen(self.accent)
            painter.drawText(big, int(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft), self.caption)
        if self.window_text:
            font.setBold(False)
            font.setPointSize(9)
            painter.setFont(font)
            painter.setPen(QtGui.QColor(220, 220, 220))
            painter.drawText(
                big, int(QtCore.Qt.AlignBottom | QtCore.Qt.AlignLeft), self.window_text
            )
        painter.restore()
