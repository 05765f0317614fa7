"""Brush and eraser: paint (or erase) the active segment with a disk or sphere sized in mm.

A stroke (press, moves, release) becomes one undo entry: every dab is a `StrokeCommand` with
the stroke's merge id, which the history folds into the first. Moves are joined by dabs spaced
at most half a radius apart, so fast mouse moves leave no gaps. Only the dab's bounding box is
touched, which keeps a dab in the low milliseconds on any volume size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.commands.label_edit import StrokeCommand
from viewer.commands.mask_apply import MaskMode, edit_from_mask
from viewer.tools.base import Tool, ViewEvent
from viewer.tools.editor_state import EditorState
from viewer.tools.shapes import ball, half_extent, line_centres, stamp_along


@dataclass
class BrushSettings:
    radius_mm: float = 5.0  # "size" in the UI is the diameter: 2 * radius
    sphere: bool = False  # False: 2D disk in the view plane; True: 3D sphere


class BrushTool(Tool):
    """Paint the active segment. With `erase=True` it is the eraser (removes the active segment)."""

    name = "brush"
    erase = False

    def __init__(self, document=None, state: EditorState | None = None, settings=None) -> None:
        super().__init__(document)
        self.state = state if state is not None else EditorState()
        self.settings = settings if settings is not None else BrushSettings()
        self._stroke: object | None = None
        self._last: tuple[float, float, float] | None = None
        self._axis = 0

    # --- geometry ------------------------------------------------------------------------
    def kernel(self, axis: int) -> np.ndarray:
        spacing = self.document.geometry.spacing_zyx
        return ball(self.settings.radius_mm, spacing, None if self.settings.sphere else axis)

    def cursor_radii_vox(self, axis: int) -> tuple[float, float]:
        """Radii (rows, columns) of the cursor outline in the view plane, in voxels."""
        sp = [s for k, s in enumerate(self.document.geometry.spacing_zyx) if k != axis]
        return (self.settings.radius_mm / sp[0], self.settings.radius_mm / sp[1])

    # --- events --------------------------------------------------------------------------
    def _label(self) -> str:
        seg = self.document.segments.get(self.state.active_segment_id or 0)
        name = seg.name if seg else "?"
        return f"Erase {name}" if self.erase else f"Brush on {name}"

    def _dab(self, centres: np.ndarray, axis: int):
        doc = self.document
        if doc is None or self.state.active_segment_id is None:
            return None
        bbox, mask = stamp_along(centres, self.kernel(axis))
        mode = MaskMode.REMOVE if self.erase else MaskMode.ADD
        name = self._label()
        edit = edit_from_mask(
            doc, bbox, mask, self.state.active_segment_id, mode, self.state.paint_options(), name
        )
        if edit is None:
            return None
        return StrokeCommand(name, self._stroke, edit)

    def on_press(self, event: ViewEvent):
        if event.button != "left":
            return None
        self._stroke = object()
        self._last = event.index_zyx
        self._axis = event.axis
        return self._dab(np.array([event.voxel]), event.axis)

    def on_move(self, event: ViewEvent):
        if self._stroke is None or self._last is None:
            return None
        n = half_extent(self.settings.radius_mm, self.document.geometry.spacing_zyx, None)
        step = max(1.0, 0.5 * min(k for k in n if k > 0) if any(n) else 1.0)
        centres = line_centres(self._last, event.index_zyx, step)
        self._last = event.index_zyx
        return self._dab(centres, event.axis)

    def on_release(self, event: ViewEvent):
        cmd = self.on_move(event) if self._stroke is not None else None
        self._stroke = None
        self._last = None
        return cmd

    def deactivate(self) -> None:
        self._stroke = None
        self._last = None


class EraserTool(BrushTool):
    """The brush in erase mode: removes only the active segment, never locked voxels."""

    name = "eraser"
    erase = True
