"""Slice views on rendered pixels: orientation, window/level and presets, invert, overlay."""

from __future__ import annotations

import numpy as np
from qt_helpers import grab_rgb, phantom_document

from viewer.model.view_state import CT_PRESETS, WindowLevel


def _image_pixels(window, view="axial"):
    sv = window.slice_views[view]
    window.set_layout("single", view)
    sv.reset_zoom()
    return sv, grab_rgb(sv.canvas)


def _scene_to_pixel(sv, x, y):
    p = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(__import__("pyqtgraph").Point(x, y)))
    return int(p.y()), int(p.x())


def _pixel_of_voxel(sv, index_zyx):
    world = sv.frame.geometry.index_to_world(index_zyx)
    x, y, _ = sv.world_to_scene(world)
    return _scene_to_pixel(sv, x, y)


def test_bright_block_appears_patient_right_anterior(window, phantom):
    window.set_document(phantom)
    window.state.set_overlay(overlay_visible=False)
    sv, img = _image_pixels(window)
    # The +1000 block is at low x (patient right) and low y (anterior): top-left on screen.
    r, c = _pixel_of_voxel(sv, (10, 11, 12))
    assert img[r, c].mean() > 240
    h, w = img.shape[:2]
    assert r < h / 2 and c < w / 2
    assert sv.canvas.letters["left"] == "R" and sv.canvas.letters["top"] == "A"
    # Neurological convention mirrors it.
    window.state.set_display(radiological=False)
    sv, img = _image_pixels(window)
    r2, c2 = _pixel_of_voxel(sv, (10, 11, 12))
    assert img[r2, c2].mean() > 240 and c2 > w / 2
    assert sv.canvas.letters["left"] == "L"


def test_anisotropic_spacing_gives_physical_aspect(window, phantom):
    window.set_document(phantom)  # 1 x 1 x 2 mm: coronal 50 x 20 voxels is 50 mm x 40 mm
    sv, img = _image_pixels(window, "coronal")
    r0, c0 = _pixel_of_voxel(sv, (0, 20, 0))
    r1, c1 = _pixel_of_voxel(sv, (19, 20, 49))
    assert abs(abs(r1 - r0) / abs(c1 - c0) - (19 * 2.0) / 49) < 0.05


def test_window_level_presets_and_invert_change_pixels(window, phantom):
    window.set_document(phantom)
    window.state.set_overlay(overlay_visible=False)
    sv, _ = _image_pixels(window)
    body = _pixel_of_voxel(sv, (10, 30, 25))  # 0 HU soft tissue
    window.apply_preset("Abdomen")
    assert window.state.window == WindowLevel(*CT_PRESETS["Abdomen"])
    grey_abdomen = grab_rgb(sv.canvas)[body].mean()
    assert abs(grey_abdomen - 150 / 400 * 255) < 2  # 0 HU in W400/L50 (range -150..250)
    window.apply_preset("Lung")
    grey_lung = grab_rgb(sv.canvas)[body].mean()
    assert grey_lung > grey_abdomen + 40  # 0 HU is bright in a lung window
    window.state.set_display(invert=True)
    assert abs(grab_rgb(sv.canvas)[body].mean() - (255 - grey_lung)) < 3
    window.state.set_display(invert=False)
    window.apply_preset("Auto")
    assert window.state.window != WindowLevel(*CT_PRESETS["Lung"])


def test_right_drag_changes_window(window, phantom, qtbot):
    from viewer.qt.slice_view import window_drag

    start = WindowLevel(400, 40)
    wider = window_drag(start, 100, 0)
    assert wider.width > start.width and wider.level == start.level
    assert window_drag(start, 0, 50).level > start.level


def test_overlay_colour_opacity_hidden_and_outline(window, phantom):
    window.set_document(phantom)
    seg = phantom.segments.get(1)
    window.state.set_overlay(overlay_opacity=1.0)
    sv, img = _image_pixels(window)
    inside = _pixel_of_voxel(sv, (10, 25, 37))
    assert tuple(img[inside]) == seg.colour
    window.state.set_overlay(overlay_opacity=0.0)
    grey = grab_rgb(sv.canvas)[inside].astype(int)  # the 0 HU body under the label, alone
    assert grey[0] == grey[1] == grey[2]
    window.state.set_overlay(overlay_opacity=0.5)
    half = grab_rgb(sv.canvas)[inside].astype(int)
    assert np.all(np.abs(half - (np.array(seg.colour) + grey) / 2) < 6)
    window.state.set_overlay(outline=True)
    img = grab_rgb(sv.canvas)
    assert tuple(img[inside]) != seg.colour  # interior no longer filled
    edge = _pixel_of_voxel(sv, (10, 25, 32))
    assert tuple(img[edge]) == seg.colour
    window.state.set_overlay(outline=False)
    seg.visible = False
    phantom.notify_segments_changed()
    assert tuple(grab_rgb(sv.canvas)[inside]) != seg.colour


def test_labels_changed_redraws_the_overlay(window, phantom):
    window.set_document(phantom)
    window.state.set_overlay(overlay_opacity=1.0)
    sv, _ = _image_pixels(window)
    target = _pixel_of_voxel(sv, (10, 30, 10))
    phantom.labels.array[10, 28:33, 8:13] = 1
    phantom.notify_labels_changed((10, 28, 8, 11, 33, 13))
    assert tuple(grab_rgb(sv.canvas)[target]) == phantom.segments.get(1).colour


def test_interpolation_blends_neighbouring_voxels(window):
    doc = phantom_document()
    window.set_document(doc)
    window.state.set_overlay(overlay_visible=False)
    window.apply_preset("Bone")
    sv, _ = _image_pixels(window)
    sv.viewbox.setRange(xRange=(5, 20), yRange=(5, 20), padding=0)  # zoom on the block's edge
    window.state.set_display(interpolate=False)
    sharp = grab_rgb(sv.canvas)[..., 0]
    window.state.set_display(interpolate=True)
    smooth = grab_rgb(sv.canvas)[..., 0]
    levels = lambda img: len(np.unique(img[img.shape[0] // 4 : 3 * img.shape[0] // 4]))  # noqa: E731
    assert levels(smooth) > levels(sharp) + 5
