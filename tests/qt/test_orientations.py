"""Real data: the 48 stored orientations of one MR show the same anatomy the same way up, with
the right letters; labels on a flipped grid (DICOM CT) and on anisotropic MR land exactly on
the anatomy (checked against the label file's own world positions, from rendered pixels)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5 import QtCore
from qt_helpers import grab_rgb

from viewer.model.document import Document
from viewer.model.view_state import ViewState, auto_window

EXPECTED_LETTERS = {
    "axial": {"left": "R", "right": "L", "top": "A", "bottom": "P"},
    "coronal": {"left": "R", "right": "L", "top": "S", "bottom": "I"},
    "sagittal": {"left": "A", "right": "P", "top": "S", "bottom": "I"},
}


def _views(qtbot, size=160):
    from viewer.qt.slice_view import SliceView

    state = ViewState()
    views = {}
    for name in EXPECTED_LETTERS:
        sv = SliceView(name, state)
        qtbot.addWidget(sv)
        sv.setFixedSize(size, size)
        sv.show()
        views[name] = sv
    return state, views


def _show(state, views, doc, cursor=None):
    g = doc.geometry
    state.cursor_world = (
        g.index_to_world((np.asarray(g.shape_zyx) - 1) / 2.0) if cursor is None else cursor
    )
    state.window = auto_window(doc.volume.array)
    for sv in views.values():
        sv.set_document(doc)


def test_all_48_orientations_render_alike(real_data, qapp_configured, qtbot):
    from viewer.io import load_volume

    files = sorted((real_data / "volumes" / "orientations_48").glob("*.nii*"))
    assert len(files) == 48
    state, views = _views(qtbot)
    state.overlay_visible = False
    reference = None
    worst = {}
    for f in files:
        doc = Document(load_volume(f))
        _show(state, views, doc)
        shots = {}
        for name, sv in views.items():
            assert sv.canvas.letters == EXPECTED_LETTERS[name], (f.name, name)
            shots[name] = grab_rgb(sv.canvas)[..., 0].astype(float).ravel()
        if reference is None:
            reference = shots
            continue
        for name in views:
            r = np.corrcoef(reference[name], shots[name])[0, 1]
            worst[name] = min(worst.get(name, 1.0), r)
            assert r > 0.95, (f.name, name, r)
    # A mirrored picture must fail the same measure, or the check proves nothing.
    mirrored = reference["axial"].reshape(160, 160)[:, ::-1].ravel()
    assert np.corrcoef(reference["axial"], mirrored)[0, 1] < 0.95


def _overlay_matches_label_file(views, doc, label_path, seg_id):
    """Every pixel drawn in the segment's colour maps (screen -> world -> label file's own
    grid, read independently with SimpleITK) to a voxel of that segment."""
    import SimpleITK as sitk

    ref = sitk.ReadImage(str(label_path))
    ref_arr = sitk.GetArrayFromImage(ref)
    colour = np.array(doc.segments.get(seg_id).colour)
    checked = 0
    for sv in views.values():
        img = grab_rgb(sv.canvas)
        rows, cols = np.nonzero(np.all(img == colour, axis=-1))
        assert len(rows) > 20, sv.view
        hits = 0
        to_scene = sv.canvas.viewportTransform().inverted()[0]
        offset = sv.canvas.viewport().pos()
        for r, c in zip(rows, cols, strict=True):
            # The screen pixel's centre, in viewport then scene coordinates.
            centre = QtCore.QPointF(c + 0.5 - offset.x(), r + 0.5 - offset.y())
            p = sv.viewbox.mapSceneToView(to_scene.map(centre))
            world = sv.scene_to_world(p.x(), p.y())
            idx = ref.TransformPhysicalPointToIndex(tuple(float(v) for v in world))
            i = tuple(int(v) for v in idx[::-1])
            inside = all(0 <= a < n for a, n in zip(i, ref_arr.shape, strict=True))
            hits += bool(inside and ref_arr[i] == seg_id)
        # Screen pixels at a segment's edge may round onto the neighbouring voxel.
        assert hits / len(rows) > 0.99, (sv.view, hits / len(rows))
        checked += len(rows)
    return checked


@pytest.mark.parametrize(
    "case, image, label, seg_id",
    [
        ("ct_abdomen_dicom", "dicom", "label.nii.gz", 5),  # liver; label stored y-flipped
        ("mr_brain_tumour", "image.nrrd", "label.nrrd", 1),  # 6.5 mm slices
    ],
)
def test_overlay_lies_on_the_label_world_positions(
    real_data, qapp_configured, qtbot, case, image, label, seg_id
):
    from viewer.io import load_label_for, load_volume

    folder = real_data / "seg" / case
    volume = load_volume(folder / image)
    doc = Document(volume, load_label_for(volume, folder / label))
    # Put the crosshair at the segment's centre so all three views cut through it.
    centre = np.argwhere(doc.labels.array == seg_id).mean(axis=0)
    state, views = _views(qtbot, size=300)
    state.overlay_opacity = 1.0
    _show(state, views, doc, cursor=doc.geometry.index_to_world(centre))
    for sv in views.values():
        sv.viewbox.setRange(
            xRange=sv.viewbox.viewRange()[0], yRange=sv.viewbox.viewRange()[1], padding=0
        )
        sv.v_line.hide()
        sv.h_line.hide()
    assert _overlay_matches_label_file(views, doc, folder / label, seg_id) > 500
    # A one-voxel shift of the overlay must be caught by the same check.
    doc.labels.array[:] = np.roll(doc.labels.array, 6, axis=1)
    doc.notify_labels_changed(None)
    with pytest.raises(AssertionError):
        _overlay_matches_label_file(views, doc, folder / label, seg_id)
