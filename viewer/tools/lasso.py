"""Polygon / lasso fill: the outline drawn on one slice is filled with the active segment."""

from __future__ import annotations

import numpy as np

from viewer.commands.mask_apply import MaskMode, edit_from_mask
from viewer.tools.base import Tool, ViewEvent
from viewer.tools.editor_state import EditorState


def plane_axes(axis: int) -> tuple[int, int]:
    """The two array axes (rows, columns) shown in a view slicing through `axis`."""
    return tuple(a for a in range(3) if a != axis)  # type: ignore[return-value]


def polygon_mask(points: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    """Rasterise a closed polygon given as (N, 2) continuous (row, col) points.

    Returns the (row0, col0) origin and a mask of the pixels whose centre is inside (even-odd
    rule) or that the outline passes through, so thin lassos still paint something.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    lo = np.floor(pts.min(axis=0)).astype(int)
    hi = np.ceil(pts.max(axis=0)).astype(int) + 1
    rows = np.arange(lo[0], hi[0])[:, None].astype(float)
    cols = np.arange(lo[1], hi[1])[None, :].astype(float)
    inside = np.zeros((hi[0] - lo[0], hi[1] - lo[1]), dtype=bool)
    nxt = np.roll(pts, -1, axis=0)
    for (r0, c0), (r1, c1) in zip(pts, nxt):
        if r0 == r1:
            continue
        crosses = (rows >= min(r0, r1)) & (rows < max(r0, r1))
        c_at = c0 + (rows - r0) * (c1 - c0) / (r1 - r0)
        inside ^= crosses & (cols < c_at)
    # the outline itself
    for (r0, c0), (r1, c1) in zip(pts, nxt):
        n = int(np.ceil(max(abs(r1 - r0), abs(c1 - c0)) * 2)) + 1
        t = np.linspace(0, 1, n)
        rr = np.rint(r0 + (r1 - r0) * t).astype(int) - lo[0]
        cc = np.rint(c0 + (c1 - c0) * t).astype(int) - lo[1]
        inside[rr, cc] = True
    return (int(lo[0]), int(lo[1])), inside


class LassoTool(Tool):
    """Press, drag an outline, release: the enclosed area of that slice joins the segment.

    `fill_polygon(points, axis, slice_index)` does the same for a polygon given by vertices.
    """

    name = "lasso"

    def __init__(self, document=None, state: EditorState | None = None) -> None:
        super().__init__(document)
        self.state = state if state is not None else EditorState()
        self.points: list[tuple[float, float]] = []
        self._axis = 0
        self._slice = 0

    def on_press(self, event: ViewEvent):
        if event.button != "left":
            return None
        self._axis = event.axis
        self._slice = event.voxel[event.axis]
        r, c = plane_axes(event.axis)
        self.points = [(event.index_zyx[r], event.index_zyx[c])]
        return None

    def on_move(self, event: ViewEvent):
        if self.points:
            r, c = plane_axes(self._axis)
            self.points.append((event.index_zyx[r], event.index_zyx[c]))
        return None

    def on_release(self, event: ViewEvent):
        if not self.points:
            return None
        self.on_move(event)
        pts, self.points = self.points, []
        return self.fill_polygon(np.array(pts), self._axis, self._slice)

    def deactivate(self) -> None:
        self.points = []

    def fill_polygon(self, points: np.ndarray, axis: int, slice_index: int):
        doc = self.document
        if doc is None or self.state.active_segment_id is None or len(points) < 3:
            return None
        (r0, c0), mask2d = polygon_mask(points)
        r, c = plane_axes(axis)
        lo = [0, 0, 0]
        lo[axis], lo[r], lo[c] = slice_index, r0, c0
        mask = np.expand_dims(mask2d, axis)
        bbox = (*lo, *(lo[k] + mask.shape[k] for k in range(3)))
        seg = doc.segments.get(self.state.active_segment_id)
        return edit_from_mask(
            doc,
            bbox,
            mask,
            self.state.active_segment_id,
            MaskMode.ADD,
            self.state.paint_options(),
            f"Lasso fill {seg.name if seg else ''}".strip(),
        )
