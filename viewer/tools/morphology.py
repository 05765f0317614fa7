"""Whole-segment shape operations: fill holes, smoothing (median/opening/closing), grow/shrink."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from viewer.commands.mask_apply import MaskMode, PaintOptions, edit_from_mask
from viewer.tools.segment_region import pad_for_mm, segment_box, segment_name
from viewer.tools.shapes import ball


def fill_holes(doc, segment_id: int, options: PaintOptions | None = None, axis: int | None = None):
    """Fill cavities of a segment in 3D, or slice by slice across `axis` when given."""
    found = segment_box(doc, segment_id, (1, 1, 1))
    if found is None:
        return None
    bbox, mask = found
    flat = [a for a in range(3) if doc.labels.array.shape[a] == 1]
    if axis is None and flat:  # a 2D image: in 3D every voxel touches the border, nothing fills
        axis = flat[0]
    if axis is None:
        filled = ndimage.binary_fill_holes(mask)
    else:
        filled = mask.copy()
        for i in range(mask.shape[axis]):
            sl = [slice(None)] * 3
            sl[axis] = i
            filled[tuple(sl)] = ndimage.binary_fill_holes(mask[tuple(sl)])
    name = f"Fill holes in {segment_name(doc, segment_id)}"
    return edit_from_mask(doc, bbox, filled, segment_id, MaskMode.ADD, options, name)


def smooth(
    doc,
    segment_id: int,
    method: str = "median",
    kernel_mm: float = 3.0,
    options: PaintOptions | None = None,
):
    """Smooth a segment with a ball of `kernel_mm` diameter: 'median', 'opening' or 'closing'."""
    spacing = doc.geometry.spacing_zyx
    radius = kernel_mm / 2.0
    found = segment_box(doc, segment_id, pad_for_mm(radius, spacing))
    if found is None:
        return None
    bbox, mask = found
    k = ball(radius, spacing)
    # Beyond the image the segment is taken to go on as it is at the edge ('nearest', or a
    # border of 1 for erosion): treating it as background would eat the first and last slices,
    # and the whole segment of a one-slice (2D) image. Inside the image the box is padded with
    # background beyond the kernel's reach, so its own edges change nothing.
    if method == "median":
        # a binary median over a ball = majority vote of the neighbourhood; int32 votes: a
        # kernel of 32,768 voxels or more overflows 16 bits
        votes = ndimage.convolve(mask.astype(np.int32), k.astype(np.int32), mode="nearest")
        out = votes * 2 > int(k.sum())
    elif method == "opening":
        eroded = ndimage.binary_erosion(mask, structure=k, border_value=1)
        out = ndimage.binary_dilation(eroded, structure=k)
    elif method == "closing":
        dilated = ndimage.binary_dilation(mask, structure=k)
        out = ndimage.binary_erosion(dilated, structure=k, border_value=1)
    else:
        raise ValueError(f"unknown smoothing method {method!r}")
    name = f"Smooth ({method}) {segment_name(doc, segment_id)}"
    return edit_from_mask(doc, bbox, out, segment_id, MaskMode.SET, options, name)


def margin(doc, segment_id: int, margin_mm: float, options: PaintOptions | None = None):
    """Grow (positive) or shrink (negative) a segment by `margin_mm`, in true mm distances."""
    if margin_mm == 0:
        return None
    spacing = doc.geometry.spacing_zyx
    found = segment_box(doc, segment_id, pad_for_mm(margin_mm, spacing))
    if found is None:
        return None
    bbox, mask = found
    name = segment_name(doc, segment_id)
    if margin_mm > 0:
        grown = ndimage.distance_transform_edt(~mask, sampling=spacing) <= margin_mm + 1e-6
        return edit_from_mask(
            doc, bbox, grown, segment_id, MaskMode.ADD, options, f"Grow {name} by {margin_mm:g} mm"
        )
    inner = ndimage.distance_transform_edt(mask, sampling=spacing) > -margin_mm + 1e-6
    return edit_from_mask(
        doc, bbox, inner, segment_id, MaskMode.SET, options, f"Shrink {name} by {-margin_mm:g} mm"
    )
