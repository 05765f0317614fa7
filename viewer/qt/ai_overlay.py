"""Draws the AI tool's state in the slice views: the preview (semi-transparent fill with a solid
edge, in the active segment's colour, above the accepted labels) and the click markers (green
for positive, red for negative clicks), through the views' `set_overlay_items`/`set_markers`."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore
from scipy import ndimage

from viewer.model.view_state import ViewChange
from viewer.tools.ai_tool import AITool

POSITIVE_COLOUR = (40, 220, 40)
NEGATIVE_COLOUR = (235, 50, 50)
FILL_ALPHA = 90  # accepted labels are drawn at the overlay opacity without an edge
EDGE_ALPHA = 255
PREVIEW_Z = 15  # above the label overlay (10), below the crosshair (20) and markers (30)


def preview_rgba(mask_2d: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """RGBA image of a 2D preview slice: a light fill and an opaque one-pixel edge."""
    rgba = np.zeros(mask_2d.shape + (4,), dtype=np.uint8)
    if not mask_2d.any():
        return rgba
    edge = mask_2d & ~ndimage.binary_erosion(mask_2d, border_value=0)
    rgba[mask_2d, :3] = colour
    rgba[mask_2d, 3] = FILL_ALPHA
    rgba[edge, 3] = EDGE_ALPHA
    return rgba


class AIOverlay:
    """Keeps every slice view's AI layer in step with the tool; call `refresh` after changes."""

    def __init__(self, slice_views: dict, tool: AITool) -> None:
        self.slice_views = slice_views
        self.tool = tool
        self.visible = True
        self._items: dict[str, pg.ImageItem] = {}
        self._marked: set[str] = set()  # views that show AI markers now

    def refresh(self, markers: bool = True) -> None:
        """Redraw the preview slices (and the markers, unless only the slice changed: the views
        place their markers on slice changes themselves)."""
        for sv in self.slice_views.values():
            show = self.visible and sv.frame is not None and sv.document is self.tool.document
            if markers:
                self._render_markers(sv, show)
            self._render_preview(sv, show)

    def _render_markers(self, sv, show: bool) -> None:
        tool = self.tool
        if not (show and tool.clicks):
            if sv.view in self._marked:
                sv.clear_markers("ai_positive")
                sv.clear_markers("ai_negative")
                self._marked.discard(sv.view)
            return
        sv.set_markers("ai_positive", tool.points_world(True), POSITIVE_COLOUR)
        sv.set_markers("ai_negative", tool.points_world(False), NEGATIVE_COLOUR)
        self._marked.add(sv.view)

    def _render_preview(self, sv, show: bool) -> None:
        tool = self.tool
        item = self._items.get(sv.view)
        if not show or not tool.has_preview():
            if item is not None:
                item.setVisible(False)
            return
        rad = sv.state.radiological
        stack = sv.frame.view_stack(tool.preview, sv.view, rad)
        if not 0 <= sv.slice_index < stack.shape[0]:
            return
        sl = np.ascontiguousarray(stack[sv.slice_index])
        if item is None:
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(PREVIEW_Z)
            self._items[sv.view] = item
            sv.set_overlay_items("ai_preview", [item])
        item.setImage(preview_rgba(sl, tool.preview_colour()), autoLevels=False, levels=None)
        rs, cs = sv.frame.pixel_spacing(sv.view, rad)
        nr, nc = sl.shape
        item.setRect(QtCore.QRectF(-0.5 * cs, -0.5 * rs, nc * cs, nr * rs))
        item.setVisible(bool(sl.any()))

    def on_view_state(self, what: ViewChange) -> None:
        """Follow slice changes and display flips (connect after the views' own handlers)."""
        if what == ViewChange.CURSOR and self.tool.has_preview():
            self.refresh(markers=False)
        elif what == ViewChange.DISPLAY:
            self.refresh()
