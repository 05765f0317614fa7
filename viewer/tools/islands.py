"""Island operations on a segment: keep the largest, remove small ones, split into segments."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segmentation_core.masks import box_slices
from viewer.commands.base import CompositeCommand
from viewer.commands.label_edit import LabelEdit
from viewer.commands.mask_apply import MaskMode, edit_from_mask
from viewer.commands.segment_commands import AddSegment
from viewer.errors import RadLabelError
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


MAX_SPLIT_SEGMENTS = 255  # beyond this it is noise, not structures: remove small islands first


class TooManyIslands(RadLabelError):
    """Splitting would make more new segments than anyone could review."""


def split_islands(doc, segment_id: int, fully_connected: bool = False, min_voxels: int = 1):
    """Move every island but the largest into a new segment of its own (largest first);
    islands under `min_voxels` stay. TooManyIslands past MAX_SPLIT_SEGMENTS new segments."""
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
    if len(order) - 1 > MAX_SPLIT_SEGMENTS:
        raise TooManyIslands(
            f"{segment_name(doc, segment_id)} has {n} islands: splitting would make "
            f"{len(order) - 1} segments (at most {MAX_SPLIT_SEGMENTS}). Remove the small "
            "islands first."
        )
    used = set(doc.segments.ids())
    free = (i for i in range(1, 65536) if i not in used)
    adds = []
    new_id = np.zeros(n + 1, dtype=doc.labels.array.dtype)  # component -> its new value
    for k, comp in enumerate(order[1:], start=2):
        sid = next(free, None)
        if sid is None:
            raise TooManyIslands("no free label values are left for new segments")
        adds.append(AddSegment(f"{seg.name} {k}", segment_id=sid))
        new_id[comp] = sid
    # one pass over the box whatever the number of islands (a pass per island was minutes)
    moved = new_id[lab]
    new_box = doc.labels.array[box_slices(bbox)].copy()
    np.copyto(new_box, moved, where=moved != 0)
    name = f"Split islands of {segment_name(doc, segment_id)}"
    edit = LabelEdit.from_box(name, doc.labels.array, bbox, new_box)
    if edit is None:
        return None
    return CompositeCommand(name, [*adds, edit])
