"""Flood fill (2D/3D with tolerance) and polygon/lasso fill."""

from __future__ import annotations

import numpy as np

from viewer.commands import History
from viewer.model import Geometry, Volume
from viewer.model.document import Document
from viewer.tools.base import ViewEvent
from viewer.tools.editor_state import EditorState
from viewer.tools.flood_fill import FloodFillSettings, FloodFillTool
from viewer.tools.lasso import LassoTool, polygon_mask


def test_flood_fill_2d_and_3d_on_ct(ct):
    h = History(ct)
    seg = ct.segments.add("Liver fill")
    state = EditorState(active_segment_id=seg.id, overwrite_others=True)
    img = ct.volume.array.astype(float)
    liver = ct.labels.array == 5
    z, y, x = 20, 45, 76  # deep inside the liver
    assert liver[z, y, x]
    tool = FloodFillTool(ct, state, FloodFillSettings(tolerance=40, three_d=False))
    before = ct.labels.array.copy()
    h.push(tool.on_press(ViewEvent((z, y, x), 0)))
    filled = ct.labels.array == seg.id
    assert np.flatnonzero(filled.any(axis=(1, 2))).tolist() == [z]
    assert (filled[z] & liver[z]).sum() >= 0.9 * liver[z].sum()  # the organ is claimed
    assert np.all(np.abs(img[filled] - img[z, y, x]) <= 40)
    assert h.undo_names() == ["Flood fill Liver fill"]
    h.undo()
    assert np.array_equal(ct.labels.array, before)
    tool.settings.three_d = True
    h.push(tool.on_press(ViewEvent((z, y, x), 0)))
    filled3 = ct.labels.array == seg.id
    assert len(np.flatnonzero(filled3.any(axis=(1, 2)))) > 5
    assert (filled3 & liver).sum() >= 0.9 * liver.sum()
    assert np.all(np.abs(img[filled3] - img[z, y, x]) <= 40)


def test_flood_fill_respects_locks_and_seed_outside_does_nothing():
    geo = Geometry((1, 10, 10))
    doc = Document(Volume(np.zeros((1, 10, 10), np.float32), geo))
    doc.labels.array[0, :, 5:] = 2
    doc.segments.ensure([2])
    doc.segments.get(2).locked = True
    doc.segments.add("A", segment_id=1)
    tool = FloodFillTool(doc, EditorState(active_segment_id=1), FloodFillSettings(1.0))
    cmd = tool.on_press(ViewEvent((0, 5, 5), 0))
    cmd.do(doc)
    assert (doc.labels.array[0, :, 5:] == 2).all() and (doc.labels.array[0, :, :5] == 1).all()
    assert tool.on_press(ViewEvent((0, 50, 5), 0)) is None


def test_polygon_mask_square_and_triangle():
    (r0, c0), m = polygon_mask(np.array([[2, 2], [2, 8], [8, 8], [8, 2]]))
    assert (r0, c0) == (2, 2) and m.shape == (7, 7) and m.all()
    (_, _), tri = polygon_mask(np.array([[0, 0], [0, 20], [20, 0]]))
    assert 200 < tri.sum() < 260  # about half of 21x21 plus the outline
    assert tri[0, 0] and not tri[20, 20]


def test_lasso_drag_fills_slice_in_sagittal_view():
    geo = Geometry((30, 30, 30))
    doc = Document(Volume(np.zeros((30, 30, 30), np.float32), geo))
    doc.segments.add("A")
    h = History(doc)
    tool = LassoTool(doc, EditorState(active_segment_id=1))
    # sagittal (axis 2) at x = 7: outline drawn in (z, y)
    pts = [(5, 5, 7), (5, 20, 7), (20, 20, 7), (20, 5, 7.2)]
    assert tool.on_press(ViewEvent(pts[0], 2)) is None
    for p in pts[1:-1]:
        assert tool.on_move(ViewEvent(p, 2)) is None
    h.push(tool.on_release(ViewEvent(pts[-1], 2)))
    m = doc.labels.array == 1
    assert np.flatnonzero(m.any(axis=(0, 1))).tolist() == [7]
    assert m[5:21, 5:21, 7].all() and m.sum() == 16 * 16
    assert h.undo_names() == ["Lasso fill A"]


def test_flood_fill_started_on_a_nan_voxel_fills_nothing():
    from viewer.tools.flood_fill import flood_region

    image = np.zeros((3, 8, 8), np.float32)
    image[1, 4, 4] = np.nan  # outside the scanner's field of view, say
    assert flood_region(image, (1, 4, 4), 100.0, 0) is None
    assert flood_region(image, (1, 4, 4), 100.0, None) is None
    bbox, mask = flood_region(image, (1, 0, 0), 100.0, 0)
    assert mask.sum() == 63  # a finite seed still fills its region, the NaN voxel left out
