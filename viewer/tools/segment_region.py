"""Helpers for whole-segment operations: find a segment's padded box and name its edits."""

from __future__ import annotations

import numpy as np

from segmentation_core.masks import BBox, box_slices, mask_bbox


def segment_box(doc, segment_id: int, pad_zyx=(0, 0, 0)) -> tuple[BBox, np.ndarray] | None:
    """(bbox, mask of the segment inside it), the box padded by `pad_zyx` voxels and clipped."""
    arr = doc.labels.array
    bbox = mask_bbox(arr == segment_id)
    if bbox is None:
        return None
    shape = arr.shape
    lo = [max(0, bbox[k] - int(pad_zyx[k])) for k in range(3)]
    hi = [min(shape[k], bbox[k + 3] + int(pad_zyx[k])) for k in range(3)]
    box = (*lo, *hi)
    return box, arr[box_slices(box)] == segment_id  # type: ignore[return-value]


def segment_name(doc, segment_id: int) -> str:
    seg = doc.segments.get(segment_id)
    return seg.name if seg else f"segment {segment_id}"


def pad_for_mm(margin_mm: float, spacing_zyx) -> tuple[int, int, int]:
    return tuple(int(np.ceil(abs(margin_mm) / s)) + 1 for s in spacing_zyx)  # type: ignore[return-value]
