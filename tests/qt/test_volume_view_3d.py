"""3D view pixels read from its own render window (off-screen EGL): surfaces, presets, cameras."""

from __future__ import annotations

import numpy as np
from qt_helpers import phantom_document

from viewer.qt.vtk_scene import BACKGROUND


def _has_colour(img, rgb, tol=40):
    d = np.abs(img.astype(int) - np.array(rgb)).sum(axis=-1)
    return int((d < tol).sum())


def test_label_surface_colour_and_background(window):
    doc = phantom_document()
    window.set_document(doc)
    v = window.view_3d
    v.set_preset("Off")
    v.scene.set_planes(window.state.cursor_world, visible=False)  # only the surface is coloured
    img = v.grab_pixels()
    assert img.std() > 5  # not a flat/garbage picture
    bg = np.array(BACKGROUND) * 255
    assert np.abs(img[2, 2].astype(int) - bg).max() <= 2  # corner is background
    lit = _has_colour(img, doc.segments.get(1).colour, tol=120)
    assert lit > 200  # the lit surface of segment 1 (shaded variants of its colour)
    assert img.reshape(-1, 3).max(axis=0)[:2].min() > 60  # surfaces are not black
    doc.segments.get(1).visible = False
    v.scene.update_surfaces()
    assert _has_colour(v.grab_pixels(), doc.segments.get(1).colour, tol=120) < lit / 10


def test_volume_preset_and_camera_change_the_picture(window):
    window.set_document(phantom_document())
    v = window.view_3d
    v.set_preset("Off")
    off = v.grab_pixels()
    v.set_preset("CT Bone")
    bone = v.grab_pixels()
    assert np.abs(bone.astype(int) - off).mean() > 1  # the +1000 HU block is rendered
    v.camera_preset("superior")
    top = v.grab_pixels()
    assert np.abs(top.astype(int) - bone).mean() > 1
    v.reset_camera()
    assert np.abs(v.grab_pixels().astype(int) - bone).mean() < 1


def test_slice_planes_follow_the_crosshair(window):
    doc = phantom_document()
    window.set_document(doc)
    v = window.view_3d
    actor, points = v.scene.plane_actors["axial"]
    z0 = points.GetPoint(0)[2]
    window.slice_views["axial"].scroll(3)
    assert abs(points.GetPoint(0)[2] - (z0 + 3 * doc.geometry.spacing[2])) < 1e-6


# --- label surfaces: level of detail, geometry, closed and opaque -----------------------------


def _ball(shape, centre_zyx, radius_mm, spacing_xyz) -> np.ndarray:
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    sx, sy, sz = spacing_xyz
    cz, cy, cx = centre_zyx
    return ((x - cx) * sx) ** 2 + ((y - cy) * sy) ** 2 + ((z - cz) * sz) ** 2 <= radius_mm**2


def _points(poly) -> np.ndarray:
    from vtkmodules.util.numpy_support import vtk_to_numpy

    return vtk_to_numpy(poly.GetPoints().GetData())


def _rough_brain_and_lesion(spacing=(0.45, 0.45, 1.5), shape=(40, 180, 180)):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(3)
    noise = gaussian_filter(rng.standard_normal(shape).astype(np.float32), 1.0)
    big = _ball(shape, (20, 90, 90), 35.0, spacing) & (noise > -0.15)  # rough, like a threshold
    labels = big.astype(np.uint16)
    lesion = _ball(shape, (20, 40, 140), 2.5, spacing)  # 5 mm across
    labels[lesion] = 2
    return labels, lesion


def test_surfaces_fit_the_triangle_budget_and_keep_a_5mm_lesion():
    from viewer.qt.label_surfaces import SurfaceBuilder

    spacing = (0.45, 0.45, 1.5)
    labels, lesion = _rough_brain_and_lesion(spacing)
    b = SurfaceBuilder(labels, spacing, {1: (200, 80, 80), 2: (80, 80, 220)})
    full = b.mesh(10**9).GetNumberOfCells()
    budget = 6000
    coarse = b.mesh(budget).GetNumberOfCells()
    assert full > 10 * budget  # the full-detail surface is far over budget...
    assert 0.5 * budget < coarse <= 1.1 * budget + 1000  # ...the LOD fits (lesion included)
    plans = {p.value: p for p in b.plans(budget)}
    assert plans[1].steps != (1, 1, 1) and plans[2].steps == (1, 1, 1)
    pts = _points(b.surface(plans[2]))
    centre = np.array([140, 40, 20]) * spacing  # x, y, z in index*spacing space
    r = np.linalg.norm(pts - centre, axis=1)
    assert abs(np.median(r) - 2.5) < 0.5 and r.max() < 3.3  # still a 5 mm ball
    assert np.abs(pts.mean(axis=0) - centre).max() < 0.3


def test_coarse_surfaces_stay_where_the_voxels_are_closed_with_outward_normals():
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkFiltersCore import vtkFeatureEdges

    from viewer.qt.label_surfaces import measure_segments, segment_surface

    spacing = (0.8, 0.8, 2.0)
    shape = (30, 70, 60)
    centre_zyx = (14.0, 33.0, 29.0)
    ball = _ball(shape, centre_zyx, 18.0, spacing)
    ball[:, 5:15, 5:15] = True  # a column cut by the top and bottom of the image
    labels = ball.astype(np.uint16)
    (plan,) = measure_segments(labels, spacing, [1])
    for steps in ((1, 1, 1), (1, 3, 3), (2, 4, 5)):
        poly = segment_surface(labels[plan.crop] == 1, plan.crop, steps, spacing)
        pts = _points(poly)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        # The column spans index z 0..29: its capped surface lies within half a block of that.
        assert -0.5 * spacing[2] * steps[0] - 0.6 <= lo[2] <= spacing[2]
        assert (shape[0] - 1) * spacing[2] - spacing[2] <= hi[2]
        cx = np.array(centre_zyx[::-1]) * spacing
        near_ball = np.linalg.norm(pts - cx, axis=1)
        assert np.percentile(np.abs(near_ball[near_ball > 10] - 18.0), 50) < 0.6 + 0.3 * steps[2]
        edges = vtkFeatureEdges()
        edges.SetInputData(poly)
        edges.BoundaryEdgesOn()
        edges.FeatureEdgesOff()
        edges.ManifoldEdgesOff()
        edges.NonManifoldEdgesOff()
        edges.Update()
        assert edges.GetOutput().GetNumberOfCells() == 0  # closed, even at the image border
        normals = vtk_to_numpy(poly.GetPointData().GetNormals())
        off_column = (pts[:, 0] > 13.5) | (pts[:, 1] > 13.5)  # the column is x, y < 12 mm
        ball_pts = (np.linalg.norm(pts - cx, axis=1) > 12) & off_column
        outward = (normals[ball_pts] * (pts[ball_pts] - cx)).sum(axis=1) > 0
        assert outward.mean() > 0.95


def _two_segments_front_and_back():
    doc = phantom_document()
    lab = doc.labels.array.copy()
    lab[3:17, 31:38, 26:48] = 2  # behind segment 1 (higher y = posterior) and larger
    doc.replace_labels(lab)
    doc.segments.get(1).colour = (220, 40, 40)
    doc.segments.get(2).colour = (40, 80, 220)
    return doc


def _display_pixel(scene, world, height):
    r = scene.renderer
    r.SetWorldPoint(*world, 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    return int(round(height - 1 - y)), int(round(x))


def test_label_surfaces_are_opaque_and_default_hides_the_volume(window):
    doc = _two_segments_front_and_back()
    window.set_document(doc)
    v = window.view_3d
    assert v.scene.preset == "Off" and v.preset_box.currentText() == "Off"
    v.scene.set_planes(window.state.cursor_world, visible=False)
    v.camera_preset("anterior")
    img = v.grab_pixels()
    front = doc.geometry.index_to_world(np.array([10.0, 20.0, 37.0]))  # seg 1's anterior face
    row, col = _display_pixel(v.scene, front, img.shape[0])
    px = img[row - 1 : row + 2, col - 1 : col + 2].reshape(-1, 3).mean(axis=0)
    # Segment 1 hides segment 2 completely: red, shaded (white highlights add equal green and
    # blue), with nothing of the blue surface behind it (translucency would make blue > green).
    assert px[0] > px[2] + 100 and px[0] > 150
    assert abs(px[2] - px[1]) < 6
    back = doc.geometry.index_to_world(np.array([10.0, 31.0, 28.0]))  # seg 2 beside seg 1
    row, col = _display_pixel(v.scene, back, img.shape[0])
    px = img[row, col].astype(int)
    assert px[2] > px[0] + 80 and px[1] > px[0]  # segment 2's own blue


def test_interactive_quality_draws_coarser_surfaces_and_follows_the_mouse(window):
    from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

    from viewer.qt.volume_view_3d import watch_interaction

    window.set_document(_two_segments_front_and_back())
    scene = window.view_3d.scene
    fine, coarse = scene.surface_actor, scene.surface_actor_coarse
    n_fine = fine.GetMapper().GetInput().GetNumberOfCells()
    n_coarse = coarse.GetMapper().GetInput().GetNumberOfCells()
    assert fine.GetVisibility() and not coarse.GetVisibility()
    style = vtkInteractorStyleTrackballCamera()
    renders = []
    watch_interaction(style, scene, lambda: renders.append(scene.quality))
    style.InvokeEvent("StartInteractionEvent")
    assert scene.quality == "interactive"
    assert coarse.GetVisibility() and not fine.GetVisibility()
    style.InvokeEvent("EndInteractionEvent")
    assert scene.quality == "still" and renders == ["still"]
    assert fine.GetVisibility() and not coarse.GetVisibility()
    assert 0 < n_coarse <= n_fine


def test_labels_loaded_later_turn_the_volume_off_unless_the_user_chose(window, qtbot):
    doc = phantom_document()
    doc.replace_labels(np.zeros_like(doc.labels.array))
    window.set_document(doc)
    v = window.view_3d
    assert v.scene.preset == "CT Bone" and v.scene.surface_actor is None
    lab = np.zeros_like(doc.labels.array)
    lab[5:15, 20:30, 32:42] = 1
    doc.replace_labels(lab)
    qtbot.waitUntil(lambda: v.scene.surface_actor is not None, timeout=3000)
    assert v.scene.preset == "Off" and v.preset_box.currentText() == "Off"
    v.set_preset("CT Bone")  # the user's choice is kept through later edits
    lab[2:4, 2:4, 2:4] = 1
    doc.replace_labels(lab)
    qtbot.wait(600)
    assert v.scene.preset == "CT Bone"


def test_many_small_segments_still_fit_the_budget():
    from viewer.qt.label_surfaces import SurfaceBuilder

    labels = np.zeros((40, 96, 96), dtype=np.uint16)
    for i in range(8):
        for j in range(8):
            labels[10:30, 4 + 11 * i : 13 + 11 * i, 4 + 11 * j : 13 + 11 * j] = 1 + i * 8 + j
    colours = {v: (100, 150, 200) for v in range(1, 65)}
    b = SurfaceBuilder(labels, (1.0, 1.0, 1.0), colours)
    full = b.mesh(10**9).GetNumberOfCells()
    few = b.mesh(full // 4)
    assert few.GetNumberOfCells() <= 1.1 * (full // 4)  # small-structure rule relaxed to fit
    assert len({p.value for p in b.plans(full // 4)}) == 64  # no segment dropped
