"""Logical operations on a segment with another mask (union, subtract, intersect).

In a single label map two segments never overlap, so with another *segment* as the operand
union moves its voxels into the target (unless it is locked), subtract changes nothing and
intersect empties the target. The operations are most useful with other masks, e.g. an
intensity range or a mask imported from a file, which `logical_op` takes directly.
"""

from __future__ import annotations

import numpy as np

from segmentation_core.masks import mask_bbox
from viewer.commands.mask_apply import MaskMode, PaintOptions, edit_from_mask
from viewer.tools.segment_region import segment_name

OPS = ("union", "subtract", "intersect")


def logical_op(doc, segment_id: int, mask: np.ndarray, op: str, label: str = "mask"):
    """Apply `op` between segment `segment_id` and a full-size boolean `mask`."""
    if op not in OPS:
        raise ValueError(f"unknown logical operation {op!r}; use one of {OPS}")
    arr = doc.labels.array
    if mask.shape != arr.shape:
        raise ValueError(f"mask shape {mask.shape} differs from labels {arr.shape}")
    seg_mask = arr == segment_id
    name = f"{op.capitalize()} {segment_name(doc, segment_id)} with {label}"
    opts = PaintOptions(overwrite_others=True)
    if op == "union":
        bbox = mask_bbox(mask)
        if bbox is None:
            return None
        m = mask[bbox[0] : bbox[3], bbox[1] : bbox[4], bbox[2] : bbox[5]]
        return edit_from_mask(doc, bbox, m, segment_id, MaskMode.ADD, opts, name)
    bbox = mask_bbox(seg_mask)
    if bbox is None:
        return None
    sl = (slice(bbox[0], bbox[3]), slice(bbox[1], bbox[4]), slice(bbox[2], bbox[5]))
    remove = mask[sl] if op == "subtract" else ~mask[sl]
    return edit_from_mask(doc, bbox, remove, segment_id, MaskMode.REMOVE, opts, name)


def segment_logical(doc, segment_id: int, other_id: int, op: str):
    """`logical_op` with another segment as the operand."""
    return logical_op(
        doc, segment_id, doc.labels.array == other_id, op, segment_name(doc, other_id)
    )
