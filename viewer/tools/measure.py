"""Measurement tools (ruler, elliptical/rectangular ROI, angle): mouse input on a slice becomes
an undoable add or move of a `Measurement` in LPS world mm.

- Ruler and ROIs: left drag from one end (corner) to the other.
- Angle: three points, each a click (or drag the first arm, then click the third point); the
  middle point is the vertex. A right click drops the points placed so far.
- Each tool, pressed on an end, corner or vertex of a measurement of its kind on the shown
  slice (within 1.5 voxels), drags that point instead (one undo step, "Move ...").

Points snap to the centre of the voxel under the mouse. `preview` is the measurement being
drawn or moved (None when idle); `changed` is emitted when it changes, so the view can draw it
live.
"""

from __future__ import annotations

import numpy as np

from viewer.commands.measurement_commands import AddMeasurement, MoveMeasurement
from viewer.model.display_frame import VIEWS, DisplayFrame
from viewer.model.events import Event
from viewer.model.measurement_maths import measurement_slice
from viewer.model.measurements import KIND_TITLES, POINT_COUNT, Measurement
from viewer.tools.base import Tool, ViewEvent

MIN_SIZE_VOXELS = 0.5  # a shorter drag is a click, not a measurement
GRAB_VOXELS = 1.5  # how near (in voxels of the view) a press must be to grab a point


class MeasureTool(Tool):
    """One tool per measurement kind ("ruler", "ellipse", "rectangle", "angle")."""

    captures_left_drag = True

    def __init__(self, kind: str, document=None) -> None:
        if kind not in POINT_COUNT:
            raise ValueError(f"unknown measurement kind {kind!r}")
        super().__init__(document)
        self.kind = kind
        self.name = KIND_TITLES[kind]
        self.preview: Measurement | None = None
        self.changed = Event()
        self._placed: list[np.ndarray] = []  # points placed so far, world mm
        self._press_index: np.ndarray | None = None
        self._first_press = False
        self._view = "axial"
        self._grab: tuple[Measurement, int] | None = None  # (original, point index)

    def set_document(self, document) -> None:
        super().set_document(document)
        self._reset()

    def deactivate(self) -> None:
        self._reset()

    # --- events --------------------------------------------------------------------------------
    def on_press(self, event: ViewEvent):
        if self.document is None:
            return None
        if event.button != "left":
            self._reset()  # right click: drop the points placed so far
            return None
        view = event.view or VIEWS[event.axis]
        world = self._world(event)
        if self._placed and view != self._view:
            self._reset()  # an angle is drawn in one view
        self._press_index = np.asarray(event.index_zyx, dtype=float)
        self._first_press = not self._placed
        if not self._placed:
            self._grab = self._find_point(view, world)
            if self._grab is None:
                self._view = view
                self._placed = [world]
        self._update_preview(world)
        return None

    def on_move(self, event: ViewEvent):
        if self.document is None or self._press_index is None:
            return None
        self._update_preview(self._world(event))
        return None

    def on_release(self, event: ViewEvent):
        if self.document is None or self._press_index is None:
            return None
        world = self._world(event)
        moved = np.abs(np.asarray(event.index_zyx) - self._press_index).max() >= MIN_SIZE_VOXELS
        self._press_index = None
        self._update_preview(world)
        if self._grab is not None:
            original, new = self._grab[0], self.preview
            self._reset()
            return MoveMeasurement(original, new) if moved and new is not None else None
        if self.kind != "angle":
            return self._finish() if moved else self._reset()
        if moved or not self._first_press:  # a click after the first, or the first arm dragged
            self._placed.append(world)
        return self._finish() if len(self._placed) == POINT_COUNT["angle"] else None

    # --- helpers -------------------------------------------------------------------------------
    def _world(self, event: ViewEvent) -> np.ndarray:
        # points sit on voxel centres: what a point covers is then the voxel drawn under it, and
        # a drag of N voxels measures exactly N spacings
        return self.document.geometry.index_to_world(np.rint(np.asarray(event.index_zyx)))

    def _finish(self):
        m = self.preview
        self._reset()
        return AddMeasurement(m) if m is not None else None

    def _reset(self) -> None:
        self._placed = []
        self._press_index = None
        self._grab = None
        self._set_preview(None)

    def _set_preview(self, m: Measurement | None) -> None:
        if m is not self.preview:
            self.preview = m
            self.changed.emit()

    def _update_preview(self, moving: np.ndarray) -> None:
        if self._grab is not None:
            original, k = self._grab
            pts = list(original.points)
            pts[k] = tuple(moving)
            self._set_preview(original.with_points(pts))
            return
        if not self._placed:
            return
        n = POINT_COUNT[self.kind]
        pts = (self._placed + [moving] * n)[:n]  # the points not yet placed follow the mouse
        mid = self.document.measurements.next_id()
        self._set_preview(
            Measurement(mid, self.kind, self._view, tuple(map(tuple, pts)), f"{self.name} {mid}")
        )

    def _find_point(self, view: str, world: np.ndarray) -> tuple[Measurement, int] | None:
        """The point of a measurement of this tool's kind on the shown slice nearest to
        `world`, when it is within GRAB_VOXELS voxels."""
        frame = DisplayFrame.from_geometry(self.document.geometry)
        here = frame.world_to_view(world, view)
        best, best_d = None, GRAB_VOXELS
        for m in self.document.measurements:
            if (
                m.kind != self.kind
                or m.view != view
                or abs(measurement_slice(m, frame) - here[0]) >= 0.5
            ):
                continue
            v = frame.world_to_view(m.points_array(), view)
            d = np.hypot(v[:, 1] - here[1], v[:, 2] - here[2])
            k = int(np.argmin(d))
            if d[k] <= best_d:
                best, best_d = (m, k), float(d[k])
        return best
