"""Flood fill: from the clicked voxel, claim the connected region of similar intensity (2D or 3D)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from viewer.commands.mask_apply import MaskMode, edit_from_mask
from viewer.tools.base import Tool, ViewEvent
from viewer.tools.editor_state import EditorState


@dataclass
class FloodFillSettings:
    tolerance: float = 50.0  # |intensity - seed intensity| allowed
    three_d: bool = False  # False: only the clicked slice of the view


def flood_region(
    image: np.ndarray, seed_zyx: tuple[int, int, int], tolerance: float, axis: int | None
) -> tuple[tuple[int, ...], np.ndarray] | None:
    """(bbox, mask) of voxels face-connected to the seed with intensity within tolerance."""
    z, y, x = seed_zyx
    if not all(0 <= v < s for v, s in zip(seed_zyx, image.shape)):
        return None
    if axis is None:
        region = image
        offset = [0, 0, 0]
    else:
        sl = [slice(None)] * 3
        sl[axis] = slice(seed_zyx[axis], seed_zyx[axis] + 1)
        region = image[tuple(sl)]
        offset = [0, 0, 0]
        offset[axis] = seed_zyx[axis]
    seed_val = float(image[z, y, x])
    if not np.isfinite(seed_val):  # no intensity to be near: fill nothing, not everything
        return None
    inside = np.abs(region.astype(np.float32) - seed_val) <= tolerance
    lab, _ = ndimage.label(inside)
    local = [v - o for v, o in zip(seed_zyx, offset)]
    mask = lab == lab[tuple(local)]
    objs = ndimage.find_objects(mask.astype(np.uint8))[0]
    bbox = tuple(o + s.start for o, s in zip(offset, objs)) + tuple(
        o + s.stop for o, s in zip(offset, objs)
    )
    return bbox, mask[objs]


class FloodFillTool(Tool):
    """Click to fill the connected similar-intensity region with the active segment."""

    name = "flood_fill"
    captures_left_drag = False

    def __init__(self, document=None, state: EditorState | None = None, settings=None) -> None:
        super().__init__(document)
        self.state = state if state is not None else EditorState()
        self.settings = settings if settings is not None else FloodFillSettings()

    def on_press(self, event: ViewEvent):
        doc = self.document
        if doc is None or event.button != "left" or self.state.active_segment_id is None:
            return None
        if not doc.volume.is_segmentable:
            return None
        axis = None if self.settings.three_d else event.axis
        found = flood_region(doc.volume.array, event.voxel, self.settings.tolerance, axis)
        if found is None:
            return None
        bbox, mask = found
        seg = doc.segments.get(self.state.active_segment_id)
        name = f"Flood fill {seg.name if seg else ''}".strip()
        return edit_from_mask(
            doc,
            bbox,  # type: ignore[arg-type]
            mask,
            self.state.active_segment_id,
            MaskMode.ADD,
            self.state.paint_options(),
            name,
        )
