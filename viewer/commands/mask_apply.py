"""The one place that turns "this mask for that segment" into a label edit, honouring the rules.

Rules every tool inherits by going through `edit_from_mask`:
- a locked segment is never overwritten or erased (not even when it is the active one);
- with `overwrite_others=False`, painting only claims background voxels;
- erasing (`MaskMode.REMOVE`) only removes the active segment, never other segments;
- an optional intensity range limits painting to voxels whose image value lies in it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from segmentation_core.masks import BBox, box_slices
from viewer.commands.label_edit import LabelEdit

if TYPE_CHECKING:
    from viewer.model.document import Document


class MaskMode(enum.Enum):
    ADD = "add"  # mask voxels become the segment
    REMOVE = "remove"  # mask voxels of the segment become background
    SET = "set"  # inside the box the segment becomes exactly the mask


@dataclass
class PaintOptions:
    overwrite_others: bool = True
    intensity_range: tuple[float, float] | None = None


def _locked_lut(doc: Document) -> np.ndarray | None:
    locked = doc.segments.locked_ids()
    if not locked:
        return None
    lut = np.zeros(65536, dtype=bool)
    lut[locked] = True
    return lut


def clip_bbox(bbox: BBox, shape: tuple[int, ...]) -> tuple[BBox, tuple[slice, slice, slice]]:
    """Clip a box to the array; also returns the slices that cut a mask of the unclipped box."""
    lo = [max(0, b) for b in bbox[:3]]
    hi = [min(s, b) for s, b in zip(shape, bbox[3:])]
    cut = tuple(slice(lo[k] - bbox[k], hi[k] - bbox[k]) for k in range(3))
    return (lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]), cut  # type: ignore[return-value]


def edit_from_mask(
    doc: Document,
    bbox: BBox,
    mask: np.ndarray,
    segment_id: int,
    mode: MaskMode = MaskMode.ADD,
    options: PaintOptions | None = None,
    name: str = "Edit",
) -> LabelEdit | None:
    """The label edit that applies `mask` (shaped like `bbox`) to `segment_id`, or None.

    The box may stick out of the image; it is clipped. Nothing is written: push the returned
    command to the history (or call `do`).
    """
    options = options or PaintOptions()
    if mask.shape != tuple(b - a for a, b in zip(bbox[:3], bbox[3:])):
        raise ValueError(f"mask shape {mask.shape} does not match box {bbox}")
    seg = doc.segments.get(segment_id)
    if seg is None or seg.locked:
        return None
    arr = doc.labels.array
    bbox, cut = clip_bbox(bbox, arr.shape)
    if any(b <= a for a, b in zip(bbox[:3], bbox[3:])):
        return None
    mask = mask[cut]
    sl = box_slices(bbox)
    cur = arr[sl]
    sid = cur.dtype.type(segment_id)
    new = cur.copy()
    if mode is MaskMode.REMOVE:
        new[mask & (cur == sid)] = 0
        return LabelEdit.from_box(name, arr, bbox, new)

    if mode is MaskMode.SET:
        new[(cur == sid) & ~mask] = 0
    paint = mask
    if options.intensity_range is not None and doc.volume.is_segmentable:
        lo, hi = options.intensity_range
        img = doc.volume.array[sl]
        paint = paint & (img >= lo) & (img <= hi)
    if not options.overwrite_others:
        paint = paint & ((cur == 0) | (cur == sid))
    else:
        lut = _locked_lut(doc)
        if lut is not None:
            paint = paint & ~lut[cur]
    new[paint] = sid
    return LabelEdit.from_box(name, arr, bbox, new)
