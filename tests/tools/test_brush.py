"""Brush, eraser and threshold painting on real CT, driven by plain ViewEvents."""

from __future__ import annotations

import numpy as np
from mask_reference import in_plane, within_mm

from viewer.commands import History
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document
from viewer.tools.base import ViewEvent
from viewer.tools.brush import BrushSettings, BrushTool, EraserTool
from viewer.tools.editor_state import EditorState
from viewer.tools.shapes import ball


def stroke(history, tool, points, axis=0):
    history.push(tool.on_press(ViewEvent(points[0], axis)))
    for p in points[1:-1]:
        history.push(tool.on_move(ViewEvent(p, axis)))
    history.push(tool.on_release(ViewEvent(points[-1], axis)))


def test_kernel_honours_anisotropic_spacing():
    k = ball(5.0, (2.5, 1.0, 0.5))
    assert k.shape == (5, 11, 21)
    disk = ball(5.0, (2.5, 1.0, 0.5), axis=0)
    assert disk.shape == (1, 11, 21)
    # the extent along each axis is 10 mm wide
    assert disk[0, 5].sum() == 21 and disk[0, :, 10].sum() == 11


def test_brush_stroke_on_ct_is_one_undo_step_and_bit_identical(ct):
    h = History(ct)
    seg = ct.segments.add("Lesion")
    state = EditorState(active_segment_id=seg.id, overwrite_others=False)
    tool = BrushTool(ct, state, BrushSettings(radius_mm=6.0))
    before = ct.labels.array.copy()
    path = [(15, 20, 20), (15, 20, 40), (15, 50, 40), (15, 50, 90)]  # axis-aligned legs
    stroke(h, tool, path)
    assert h.undo_names() == ["Brush on Lesion"]
    painted = ct.labels.array == seg.id
    # exactly the 6 mm band around the path in slice 15, less the organs already there
    expected = in_plane(within_mm(ct.geometry, path, 6.0), 15) & (before == 0)
    assert expected.sum() > 200  # the test would be empty if the path ran inside organs only
    np.testing.assert_array_equal(painted, expected)
    # without overwrite, existing organs were left alone
    assert np.array_equal(ct.labels.array[before != 0], before[before != 0])
    h.undo()
    assert np.array_equal(ct.labels.array, before)
    h.redo()
    assert (ct.labels.array == seg.id).sum() == painted.sum()


def test_threshold_limited_painting_on_ct(ct):
    h = History(ct)
    seg = ct.segments.add("Bone-ish")
    state = EditorState(active_segment_id=seg.id, threshold=(200.0, 3000.0))
    tool = BrushTool(ct, state, BrushSettings(radius_mm=30.0, sphere=True))
    before = ct.labels.array.copy()
    stroke(h, tool, [(15, 50, 60), (15, 50, 61)])
    painted = ct.labels.array == seg.id
    img = ct.volume.array
    spheres = within_mm(ct.geometry, [(15, 50, 60), (15, 50, 61)], 30.0)
    # overwrite is on by default: every voxel of the two spheres inside the range is painted
    expected = spheres & (img >= 200) & (img <= 3000)
    assert expected.sum() > 20 and (before[expected] != 0).any()  # bone over existing labels
    np.testing.assert_array_equal(painted, expected)
    np.testing.assert_array_equal(ct.labels.array[~expected], before[~expected])
    # and every bright voxel inside the first sphere was painted unless it was locked/other
    k = ball(30.0, ct.geometry.spacing_zyx)
    assert k.shape[0] > 1  # a true sphere across slices


def test_locked_organ_survives_brush_and_eraser(ct):
    h = History(ct)
    liver = ct.segments.get(5)
    liver.locked = True
    before_liver = ct.labels.array == 5
    seg = ct.segments.add("Other")
    state = EditorState(active_segment_id=seg.id, overwrite_others=True)
    brush = BrushTool(ct, state, BrushSettings(radius_mm=40.0, sphere=True))
    z, y, x = np.argwhere(before_liver)[len(np.argwhere(before_liver)) // 2]
    stroke(h, brush, [(z, y, x), (z, y + 3, x + 3)])
    assert np.array_equal(ct.labels.array == 5, before_liver)
    # two 40 mm spheres (press and release dab), everything in them but the locked liver
    spheres = within_mm(ct.geometry, [(z, y, x), (z, y + 3, x + 3)], 40.0)
    np.testing.assert_array_equal(ct.labels.array == seg.id, spheres & ~before_liver)
    # erasing the locked liver does nothing
    state.active_segment_id = 5
    stroke(h, EraserTool(ct, state, BrushSettings(radius_mm=40.0)), [(z, y, x), (z, y, x)])
    assert np.array_equal(ct.labels.array == 5, before_liver)


def test_eraser_removes_only_active_segment():
    geo = Geometry((3, 20, 20), spacing=(1, 1, 1))
    labels = np.zeros((3, 20, 20), np.uint16)
    labels[1, :, :10] = 1
    labels[1, :, 10:] = 2
    doc = Document(Volume(np.zeros((3, 20, 20), np.float32), geo), LabelMap(geo, labels))
    h = History(doc)
    tool = EraserTool(doc, EditorState(active_segment_id=1), BrushSettings(radius_mm=30))
    stroke(h, tool, [(1, 10, 10), (1, 10, 10)])
    assert not (doc.labels.array == 1).any()
    assert (doc.labels.array == 2).sum() == 200
    assert h.undo_names() == ["Erase Segment 1"]


def test_fast_move_leaves_no_gaps_and_2d_disk_stays_in_view_plane():
    geo = Geometry((10, 100, 100), spacing=(0.5, 2.0, 3.0))  # x 0.5, y 2, z 3 mm
    doc = Document(Volume(np.zeros((10, 100, 100), np.float32), geo))
    doc.segments.add("A")
    h = History(doc)
    tool = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(radius_mm=4.0))
    # a coronal view (axis 1): the disk spans z and x, one voxel thick in y
    stroke(h, tool, [(2, 50, 5), (8, 50, 95)], axis=1)
    painted = doc.labels.array == 1
    assert np.flatnonzero(painted.any(axis=(0, 2))).tolist() == [50]
    assert painted[:, 50, 5:96].any(axis=0).all()  # continuous along the whole move
    # radius 4 mm: 1 voxel each side in z (3 mm), 8 voxels each side in x (0.5 mm)
    press_only = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(radius_mm=4.0))
    h.undo()
    h.push(press_only.on_press(ViewEvent((5, 20, 50), 1)))
    p = doc.labels.array == 1
    assert p[:, 20, 50].sum() == 3 and p[5, 20, :].sum() == 17
