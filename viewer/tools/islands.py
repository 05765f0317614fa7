"""Island operations on a segment: keep the largest, remove small ones, split into segments."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.masks import box_slices
from viewer.commands.base import CompositeCommand
from viewer.commands.label_edit import LabelEdit
from viewer.commands.mask_apply import MaskMode, edit_from_mask
from viewer.commands.segment_commands import AddSegment
from viewer.tools.segment_region import segment_box, segment_name


def _components(mask: np.ndarray, fully_connected: bool):
    structure = ndimage.generate_binary_structure(3, 3 if fully_connected else 1)
    lab, n = ndimage.label(mask, structure=structure)
    sizes = np.bincount(lab.ravel())[1:] if n else np.zeros(0, int)
    return lab, n, sizes


def keep_largest(doc, segment_id: int, fully_connected: bool = False):
    found = segment_box(doc, segment_id)
    if found is None:
        return None
    bbox, mask = found
    lab, n, sizes = _components(mask, fully_connected)
    if n <= 1:
        return None
    keep = lab == int(np.argmax(sizes)) + 1
    name = f"Keep largest island of {segment_name(doc, segment_id)}"
    return edit_from_mask(doc, bbox, keep, segment_id, MaskMode.SET, name=name)


def remove_small(doc, segment_id: int, min_voxels: int, fully_connected: bool = False):
    """Remove islands with fewer than `min_voxels` voxels."""
    found = segment_box(doc, segment_id)
    if found is None:
        return None
    bbox, mask = found
    lab, n, sizes = _components(mask, fully_connected)
    small = np.flatnonzero(sizes < min_voxels) + 1
    if small.size == 0:
        return None
    keep = mask & ~np.isin(lab, small)
    name = f"Remove islands < {min_voxels} voxels in {segment_name(doc, segment_id)}"
    return edit_from_mask(doc, bbox, keep, segment_id, MaskMode.SET, name=name)


def split_islands(doc, segment_id: int, fully_connected: bool = False, min_voxels: int = 1):
    """Move every island but the largest into a new segment of its own (largest first)."""
    seg = doc.segments.get(segment_id)
    if seg is None or seg.locked:
        return None
    found = segment_box(doc, segment_id)
    if found is None:
        return None
    bbox, mask = found
    lab, n, sizes = _components(mask, fully_connected)
    if n <= 1:
        return None
    order = [int(i) + 1 for i in np.argsort(-sizes, kind="stable") if sizes[i] >= min_voxels]
    new_box = doc.labels.array[box_slices(bbox)].copy()
    adds = []
    used = set(doc.segments.ids())
    next_id = 1
    for k, comp in enumerate(order[1:], start=2):
        while next_id in used:
            next_id += 1
        used.add(next_id)
        adds.append(AddSegment(f"{seg.name} {k}", segment_id=next_id))
        new_box[lab == comp] = next_id
    name = f"Split islands of {segment_name(doc, segment_id)}"
    edit = LabelEdit.from_box(name, doc.labels.array, bbox, new_box)
    if edit is None:
        return None
    return CompositeCommand(name, [*adds, edit])
