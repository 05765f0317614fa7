"""One 2D slice view (axial, coronal or sagittal): image, label overlay, crosshair, letters,
markers, and the mouse/keyboard interaction (crosshair, scroll, zoom, pan, window/level, tools).

Scene coordinates are millimetres on the view's display grid: pixel (row, col) has its centre at
(x, y) = (col * col_spacing, row * row_spacing), so the locked aspect is the physical one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.display_frame import AXIS_OF_VIEW, PLANE_COLOURS, DisplayFrame
from viewer.model.view_state import ViewChange, ViewState, WindowLevel
from viewer.qt.slice_canvas import SliceCanvas, SliceViewBox
from viewer.qt.slice_render import GreyLUT, OverlayLUT
from viewer.tools.base import Tool, ViewEvent

# Colour of each view's plane (as in 3D Slicer): its crosshair line in the other views.
_LINES = {"axial": ("coronal", "sagittal"), "coronal": ("axial", "sagittal")}
_LINES["sagittal"] = ("axial", "coronal")  # (horizontal line's plane, vertical line's plane)


class SliceView(QtWidgets.QWidget):
    """A linked slice view. Use `set_document`; it follows and edits the shared `ViewState`."""

    sigHover = QtCore.pyqtSignal(object)  # dict from `hover_info`, or None when off the image
    sigMaximise = QtCore.pyqtSignal(str)  # view name (double-click)
    sigCommand = QtCore.pyqtSignal(object)  # a command returned by the active tool

    def __init__(self, view: str, state: ViewState, parent=None) -> None:
        super().__init__(parent)
        self.view = view
        self.state = state
        self.document = None
        self.frame: DisplayFrame | None = None
        self.slice_index = 0
        self.tool: Tool | None = None
        self._grey_lut: GreyLUT | None = None
        self._overlay_lut = OverlayLUT()
        self._stack: np.ndarray | None = None
        self._spacing = (1.0, 1.0)
        self._rect = QtCore.QRectF()
        self._drag_mode: str | None = None
        self._drag_window: WindowLevel | None = None
        self._markers: dict[str, tuple[np.ndarray, pg.ScatterPlotItem]] = {}
        self._items: dict[str, list[QtWidgets.QGraphicsItem]] = {}

        self.canvas = SliceCanvas(self)
        self.canvas.key_handler = self._key
        self.canvas.accent = QtGui.QColor(*PLANE_COLOURS[view])
        self.viewbox = SliceViewBox(self)
        self.canvas.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item.setZValue(10)
        self.viewbox.addItem(self.image_item)
        self.viewbox.addItem(self.overlay_item)
        h_plane, v_plane = _LINES[view]
        self.h_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(PLANE_COLOURS[h_plane]))
        self.v_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(PLANE_COLOURS[v_plane]))
        for line in (self.h_line, self.v_line):
            line.setZValue(20)
            self.viewbox.addItem(line, ignoreBounds=True)
        self.canvas.scene().sigMouseMoved.connect(self._hover)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)
        state.changed.connect(self._on_state)

    def release(self) -> None:
        """Tear the scene down now, while every item is alive (the window is closing). Left to
        Python's garbage collector, pyqtgraph items can be destroyed after their ViewBox, and
        Qt then calls into half-deleted items, which can crash the process."""
        self.state.changed.disconnect(self._on_state)
        if self.document is not None:
            self.document.labels_changed.disconnect(self._on_labels_changed)
            self.document.segments_changed.disconnect(self._on_segments_changed)
        if not self.canvas.closed:
            self._markers.clear()
            self._items.clear()
            self.canvas.close()  # pyqtgraph: clears the scene and detaches the viewport

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:  # noqa: N802 (a view shown on its own)
        super().closeEvent(ev)
        self.release()

    # --- document ---------------------------------------------------------------------------------
    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.labels_changed.disconnect(self._on_labels_changed)
            self.document.segments_changed.disconnect(self._on_segments_changed)
        self.document = document
        self.frame = None
        self._stack = None
        if document is not None:
            self.frame = DisplayFrame.from_geometry(document.geometry)
            self._grey_lut = (
                None if document.volume.is_rgb else GreyLUT(document.volume.array.dtype)
            )
            document.labels_changed.connect(self._on_labels_changed)
            document.segments_changed.connect(self._on_segments_changed)
            self._overlay_lut.update(document.segments)
        self._rebuild()

    def _rebuild(self) -> None:
        """Recompute the layout-dependent parts (after a new document or a convention change)."""
        if self.frame is None:
            self.image_item.clear()
            self.overlay_item.clear()
            self.canvas.letters = {}
            return
        rad = self.state.radiological
        self._stack = self.frame.view_stack(self.document.volume.array, self.view, rad)
        self._spacing = self.frame.pixel_spacing(self.view, rad)
        nr, nc = self._stack.shape[1:3]
        rs, cs = self._spacing
        self._rect = QtCore.QRectF(-0.5 * cs, -0.5 * rs, nc * cs, nr * rs)
        self.canvas.letters = self.frame.edge_letters(self.view, rad)
        self.slice_index = self._slice_from_cursor()
        self.render_image()
        self.render_overlay()
        self._place_crosshair()
        self.reset_zoom()

    def reset_zoom(self) -> None:
        if self._stack is None:
            return
        nr, nc = self._stack.shape[1:3]
        rs, cs = self._spacing
        self.viewbox.setRange(
            xRange=(-0.5 * cs, (nc - 0.5) * cs), yRange=(-0.5 * rs, (nr - 0.5) * rs), padding=0.02
        )

    # --- coordinates ----------------------------------------------------------------------------
    def view_coords(self, world_xyz) -> np.ndarray:
        """(slice, row, col), continuous, of a world point in this view."""
        return self.frame.world_to_view(world_xyz, self.view, self.state.radiological)

    def scene_to_world(self, x: float, y: float, slice_index: float | None = None) -> np.ndarray:
        s = self.slice_index if slice_index is None else slice_index
        src = np.array([s, y / self._spacing[0], x / self._spacing[1]])
        return self.frame.view_to_world(src, self.view, self.state.radiological)

    def world_to_scene(self, world_xyz) -> tuple[float, float, float]:
        """(x, y) scene position of a world point and its distance in slices from the shown one."""
        s, r, c = self.view_coords(world_xyz)
        return float(c * self._spacing[1]), float(r * self._spacing[0]), float(s - self.slice_index)

    def _slice_from_cursor(self) -> int:
        n = self.frame.slice_count(self.view)
        return int(np.clip(np.rint(self.view_coords(self.state.cursor_world)[0]), 0, n - 1))

    # --- rendering ------------------------------------------------------------------------------
    def render_image(self) -> None:
        img = self._stack[self.slice_index]
        if self._grey_lut is not None:
            self._grey_lut.set_window(self.state.window, self.state.invert)
            img = self._grey_lut.apply(img)
        elif img.dtype != np.uint8:
            img = (img.astype(np.float32) * (255.0 / max(float(img.max()), 1.0))).astype(np.uint8)
        self.image_item.setImage(img, autoLevels=False, levels=(0, 255))
        self.image_item.setRect(self._rect)  # after setImage: the rect scales by image size
        n = self.frame.slice_count(self.view)
        self.canvas.caption = f"{self.view.capitalize()}  {self.slice_index + 1}/{n}"
        self._update_markers()

    def render_overlay(self) -> None:
        if self.document is None or not self.state.overlay_visible:
            self.overlay_item.setVisible(False)
            return
        labels = self.frame.view_stack(
            self.document.labels.array, self.view, self.state.radiological
        )
        rgba = self._overlay_lut.apply(labels[self.slice_index], self.state.outline)
        if rgba is None:
            self.overlay_item.setVisible(False)
            return
        self.overlay_item.setImage(rgba, autoLevels=False, levels=None)
        self.overlay_item.setRect(self._rect)
        self.overlay_item.setOpacity(1.0 if self.state.outline else self.state.overlay_opacity)
        self.overlay_item.setVisible(True)

    def _place_crosshair(self) -> None:
        _s, r, c = self.view_coords(self.state.cursor_world)
        self.h_line.setPos(r * self._spacing[0])
        self.v_line.setPos(c * self._spacing[1])

    def _on_state(self, what: ViewChange) -> None:
        if self.frame is None:
            return
        if what == ViewChange.CURSOR:
            s = self._slice_from_cursor()
            if s != self.slice_index:
                self.slice_index = s
                self.render_image()
                self.render_overlay()
            self._place_crosshair()
        elif what == ViewChange.WINDOW:
            self.render_image()
        elif what == ViewChange.DISPLAY:
            smooth = self.state.interpolate
            self.canvas.setRenderHint(QtGui.QPainter.SmoothPixmapTransform, smooth)
            if self.canvas.letters != self.frame.edge_letters(self.view, self.state.radiological):
                self._rebuild()
            else:
                self.render_image()
                self.canvas.viewport().update()
        elif what == ViewChange.OVERLAY:
            self.render_overlay()

    def _on_labels_changed(self, bbox=None) -> None:
        if bbox is not None and self.frame is not None:
            lo = self.frame.index_to_display(np.array(bbox[:3], dtype=float))
            hi = self.frame.index_to_display(np.array(bbox[3:], dtype=float) - 1)
            k = AXIS_OF_VIEW[self.view]
            if not min(lo[k], hi[k]) - 0.5 <= self.slice_index <= max(lo[k], hi[k]) + 0.5:
                return  # the change is not on the shown slice
        self._overlay_lut.update(self.document.segments, 0)
        self.render_overlay()

    def _on_segments_changed(self) -> None:
        self._overlay_lut.update(self.document.segments)
        self.render_overlay()

    # --- markers and extra items (extension hooks) -------------------------------------------------
    def set_markers(self, name: str, points_world, colour=(255, 255, 0), size: float = 10) -> None:
        """Show world points (N, 3) as dots on the slices they lie on (within half a slice)."""
        pts = np.asarray(points_world, dtype=float).reshape(-1, 3)
        if name in self._markers:
            self.viewbox.removeItem(self._markers[name][1])
        item = pg.ScatterPlotItem(size=size, brush=pg.mkBrush(*colour), pen=pg.mkPen("k"))
        item.setZValue(30)
        self.viewbox.addItem(item, ignoreBounds=True)
        self._markers[name] = (pts, item)
        self._update_markers()

    def clear_markers(self, name: str) -> None:
        if name in self._markers:
            self.viewbox.removeItem(self._markers.pop(name)[1])

    def _update_markers(self) -> None:
        for pts, item in self._markers.values():
            if self.frame is None or len(pts) == 0:
                item.setData([], [])
                continue
            v = self.view_coords(pts).reshape(-1, 3)
            on = np.abs(v[:, 0] - self.slice_index) < 0.5
            item.setData(v[on, 2] * self._spacing[1], v[on, 1] * self._spacing[0])

    def overlay_items(self, name: str) -> list:
        """The items shown as `name` (see set_overlay_items); empty when there are none."""
        return list(self._items.get(name, []))

    def set_overlay_items(self, name: str, items: list) -> None:
        """Replace the QGraphicsItems called `name` (in scene mm coordinates; see world_to_scene)."""
        for it in self._items.pop(name, []):
            self.viewbox.removeItem(it)
        for it in items:
            self.viewbox.addItem(it, ignoreBounds=True)
        self._items[name] = list(items)

    # --- interaction ----------------------------------------------------------------------------------
    def set_tool(self, tool: Tool | None) -> None:
        self.tool = tool

    def _event_at(self, scene_pos, button) -> ViewEvent:
        p = self.viewbox.mapSceneToView(scene_pos)
        src = np.array([self.slice_index, p.y() / self._spacing[0], p.x() / self._spacing[1]])
        idx = self.frame.view_to_index(src, self.view, self.state.radiological)
        names = {QtCore.Qt.LeftButton: "left", QtCore.Qt.RightButton: "right"}
        return ViewEvent(
            index_zyx=tuple(float(v) for v in idx),
            # the array axis this view cuts: not the display axis for sagittal/coronal stacks
            axis=self.frame.array_axis(self.view),
            button=names.get(button, "middle"),
            modifiers=_modifiers(QtWidgets.QApplication.keyboardModifiers()),
            view=self.view,
        )

    def _call_tool(self, method: str, event: ViewEvent) -> None:
        command = getattr(self.tool, method)(event)
        if command is not None:
            self.sigCommand.emit(command)

    def _move_cursor_to(self, scene_pos) -> None:
        p = self.viewbox.mapSceneToView(scene_pos)
        self.state.set_cursor(self.scene_to_world(p.x(), p.y()))

    def drag(self, ev) -> None:
        if self.frame is None:
            return
        button = ev.button()
        if ev.isStart():
            shift = bool(ev.modifiers() & QtCore.Qt.ShiftModifier)
            if (
                button == QtCore.Qt.LeftButton
                and self.tool is not None
                and self.tool.captures_left_drag
            ):
                self._drag_mode = "tool"
            elif button == QtCore.Qt.MiddleButton or (button == QtCore.Qt.LeftButton and shift):
                self._drag_mode = "pan"
            elif button == QtCore.Qt.RightButton:
                self._drag_mode = "window"
                self._drag_window = self.state.window
            else:
                self._drag_mode = "cursor"
            if self._drag_mode == "tool":
                self._call_tool("on_press", self._event_at(ev.buttonDownScenePos(), button))
        mode = self._drag_mode
        if mode == "tool":
            self._call_tool("on_move", self._event_at(ev.scenePos(), button))
            if ev.isFinish():
                self._call_tool("on_release", self._event_at(ev.scenePos(), button))
        elif mode == "cursor":
            self._move_cursor_to(ev.scenePos())
        elif mode == "pan":
            delta = self.viewbox.mapSceneToView(ev.scenePos()) - self.viewbox.mapSceneToView(
                ev.lastScenePos()
            )
            self.viewbox.translateBy(x=-delta.x(), y=-delta.y())
        elif mode == "window":
            d = ev.screenPos() - ev.buttonDownScreenPos()
            self.state.set_window(window_drag(self._drag_window, d.x(), d.y()))
        if ev.isFinish():
            self._drag_mode = None

    def click(self, ev) -> None:
        if self.frame is None:
            return
        if ev.double():
            self.sigMaximise.emit(self.view)
            return
        if self.tool is not None and ev.button() in (QtCore.Qt.LeftButton, QtCore.Qt.RightButton):
            event = self._event_at(ev.scenePos(), ev.button())
            self._call_tool("on_press", event)
            self._call_tool("on_release", event)
            if self.tool.captures_left_drag:
                return
        if ev.button() == QtCore.Qt.LeftButton:
            self._move_cursor_to(ev.scenePos())
        self.canvas.setFocus()

    def wheel(self, ev) -> None:
        if self.frame is None:
            return
        steps = ev.delta() / 120.0
        if ev.modifiers() & QtCore.Qt.ControlModifier:
            centre = self.viewbox.mapSceneToView(ev.scenePos())
            f = 0.85**steps
            self.viewbox.scaleBy((f, f), center=centre)
        else:
            self.scroll(int(np.sign(steps)) * max(1, int(abs(steps))))

    def scroll(self, step: int) -> None:
        """Move the crosshair `step` slices along this view's normal (clamped to the volume)."""
        if self.frame is None:
            return
        n = self.frame.slice_count(self.view)
        s, r, c = self.view_coords(self.state.cursor_world)
        target = float(np.clip(np.rint(s) + step, 0, n - 1))
        world = self.frame.view_to_world(
            np.array([target, r, c]), self.view, self.state.radiological
        )
        self.state.set_cursor(world)

    def _key(self, ev: QtGui.QKeyEvent) -> bool:
        step = {
            QtCore.Qt.Key_PageUp: 1,
            QtCore.Qt.Key_Up: 1,
            QtCore.Qt.Key_Right: 1,
            QtCore.Qt.Key_PageDown: -1,
            QtCore.Qt.Key_Down: -1,
            QtCore.Qt.Key_Left: -1,
        }.get(ev.key())
        if step is None:
            return False
        self.scroll(step)
        return True

    # --- status ---------------------------------------------------------------------------------
    def _hover(self, scene_pos) -> None:
        if self.frame is None:
            return
        p = self.viewbox.mapSceneToView(scene_pos)
        self.sigHover.emit(self.hover_info(p.x(), p.y()))

    def hover_info(self, x: float, y: float) -> dict | None:
        """Voxel index, world position and value under scene point (x, y), or None off-image."""
        world = self.scene_to_world(x, y)
        idx = self.frame.geometry.world_to_index(world)
        if not self.frame.geometry.contains_index(idx):
            return None
        voxel = tuple(int(v) for v in np.rint(idx))
        value = self.document.volume.array[voxel]
        label = int(self.document.labels.array[voxel])
        return {"voxel": voxel, "world": world, "value": value, "label": label}


def window_drag(start: WindowLevel, dx: float, dy: float) -> WindowLevel:
    """Window after a right-drag of (dx, dy) screen pixels: right widens, down raises the level."""
    scale = max(start.width, 1.0) / 256.0
    return WindowLevel(max(start.width + dx * scale * 2.0, 1e-3), start.level + dy * scale)


def _modifiers(mods) -> frozenset[str]:
    out = set()
    if mods & QtCore.Qt.ShiftModifier:
        out.add("shift")
    if mods & QtCore.Qt.ControlModifier:
        out.add("ctrl")
    if mods & QtCore.Qt.AltModifier:
        out.add("alt")
    return frozenset(out)
