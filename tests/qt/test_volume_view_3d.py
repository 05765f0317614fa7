"""3D view pixels read from its own render window (off-screen EGL): surfaces, presets, cameras."""

from __future__ import annotations

import numpy as np
from conftest import phantom_document

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
