"""The AI tool in an offscreen main window, driven by synthetic mouse clicks and keys on real CT
(classic engine: fast). Checks preview, markers (pixels), accept as one undo entry, reject, and
that the window stays responsive while a prediction runs."""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt5 import QtCore
from scipy import ndimage

from segmentation_core import open_session
from viewer.qt.ai_controller import install_ai
from viewer.qt.ai_overlay import NEGATIVE_COLOUR, POSITIVE_COLOUR
from viewer.qt.panels import install_editing
from viewer.services.ai_service import AIService

LIVER = 5


def viewport_pos(sv, index_zyx, doc) -> QtCore.QPoint:
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(index_zyx))
    return sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))


def pixel(sv, pos: QtCore.QPoint) -> np.ndarray:
    img = sv.canvas.viewport().grab().toImage()
    c = img.pixelColor(pos)
    return np.array([c.red(), c.green(), c.blue()])


def inner_point(mask: np.ndarray, spacing) -> tuple[int, int, int]:
    dist = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    return tuple(int(v) for v in np.unravel_index(np.argmax(dist), mask.shape))  # type: ignore[return-value]


@pytest.fixture
def ct_window(window, real_data, qtbot):
    d = real_data / "seg" / "ct_abdomen_small"
    from viewer.io import load_label_for, load_volume

    truth = load_label_for(load_volume(str(d / "image.nii.gz")), str(d / "label.nii.gz"))
    editing = install_editing(window, autosave=False)
    assert window.open_path(str(d / "image.nii.gz")), window.errors
    yield window, editing, truth.array == LIVER
    window.ai.service.shutdown()


def show_voxel(window, voxel) -> None:
    window.state.set_cursor(window.document.geometry.index_to_world(voxel))


def test_clicks_preview_markers_accept_undo_and_reject(ct_window, qtbot):
    window, editing, liver = ct_window
    ai = install_ai(window, engine="classic")
    doc = window.document
    editing.segments_panel.add_segment("Liver")
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_A)
    assert window.active_tool is ai.tool and ai.panel.use_button.isChecked()

    c = inner_point(liver, doc.geometry.spacing_zyx)
    show_voxel(window, c)
    ax = window.slice_views["axial"]
    assert ax.slice_index == ax.view_coords(doc.geometry.index_to_world(c))[0].round()
    pos = viewport_pos(ax, c, doc)
    off = (c[0], c[1] - 4, c[2] - 6)  # inside the liver, off the marker and the crosshair
    assert liver[off]
    away = viewport_pos(ax, off, doc)
    grey_away = pixel(ax, away)
    before = doc.labels.array.copy()

    qtbot.mouseClick(ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=pos)
    assert len(ai.tool.clicks) == 1 and ai.tool.clicks[0].positive
    assert ai.panel.busy_bar.isVisible(), "busy until the answer reaches the UI thread"
    qtbot.waitUntil(lambda: ai.tool.clicks[0].done and not ai.busy(), timeout=20000)
    assert not ai.panel.busy_bar.isVisible()
    assert ai.tool.has_preview() and ai.tool.preview[off]
    assert np.array_equal(doc.labels.array, before), "the preview is not in the label map"
    assert "click" in ai.panel.status.text() and " s" in ai.panel.status.text()  # latency
    r, g, b = pixel(ax, pos)
    assert g > 150 and r < 120 and b < 120, f"green marker expected at the click, got {r, g, b}"
    tinted = pixel(ax, away)
    assert np.abs(tinted.astype(int) - grey_away).sum() > 20, "preview not drawn"
    colour = editing.document.segments.get(editing.state.active_segment_id).colour
    assert POSITIVE_COLOUR != colour
    # another tool hides the AI layer and keeps the work; back with A
    qtbot.keyClick(window, QtCore.Qt.Key_B)
    assert window.active_tool is editing.tools["brush"] and not ai.panel.use_button.isChecked()
    assert np.abs(pixel(ax, away).astype(int) - grey_away).sum() <= 6
    qtbot.keyClick(window, QtCore.Qt.Key_A)
    assert ai.tool.has_preview() and np.array_equal(pixel(ax, away), tinted)

    # a negative click by right button, on a previewed voxel outside the true liver if any
    wrong = np.argwhere(ai.tool.preview & ~liver)
    wrong = wrong[wrong[:, 0] == c[0]]
    assert len(wrong), "the test needs a previewed voxel outside the liver on this slice"
    neg = tuple(int(v) for v in wrong[len(wrong) // 2])
    npos = viewport_pos(ax, neg, doc)
    qtbot.mouseClick(ax.canvas.viewport(), QtCore.Qt.RightButton, pos=npos)
    qtbot.waitUntil(lambda: len(ai.tool.clicks) == 2 and not ai.busy(), timeout=20000)
    assert not ai.tool.clicks[1].positive and not ai.tool.preview[neg]
    r, g, b = pixel(ax, npos)
    assert r > 150 and g < 120, f"red marker expected, got {r, g, b} ({NEGATIVE_COLOUR})"

    preview = ai.tool.preview.copy()
    sid = editing.state.active_segment_id
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Return)
    assert np.array_equal(doc.labels.array == sid, preview)
    assert window.history.undo_names()[-1] == "AI segmentation on Liver"
    assert not ai.tool.clicks and not ai.tool.has_preview()
    r, g, b = pixel(ax, pos)
    assert not (g > 150 and r < 120 and b < 120), "markers must go after accept"
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert np.array_equal(doc.labels.array, before)

    # Esc rejects work in progress and leaves the labels alone
    qtbot.mouseClick(ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: ai.tool.has_preview() and not ai.busy(), timeout=20000)
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Escape)
    assert not ai.tool.clicks and not ai.tool.has_preview()
    assert window.active_tool is ai.tool, "Esc with AI work pending rejects, it does not navigate"
    assert np.array_equal(doc.labels.array, before)


def test_window_stays_responsive_and_extra_clicks_are_refused_while_busy(ct_window, qtbot):
    window, editing, liver = ct_window
    gate = threading.Event()

    def slow_factory(engine):
        s = open_session(engine="classic")
        click = s.add_click

        def slow(zyx, positive=True):
            gate.wait(30)
            return click(zyx, positive)

        s.add_click = slow
        return s

    service = AIService("classic", session_factory=slow_factory, max_pending=1)
    ai = install_ai(window, service=service)
    editing.segments_panel.add_segment("Liver")
    ai.activate(True)
    assert service.wait(30)  # engine and image prepared on activation
    doc = window.document
    c = inner_point(liver, doc.geometry.spacing_zyx)
    show_voxel(window, c)
    ax = window.slice_views["axial"]
    vp = ax.canvas.viewport()
    try:
        qtbot.mouseClick(vp, QtCore.Qt.LeftButton, pos=viewport_pos(ax, c, doc))
        qtbot.wait(200)  # the event loop runs while the engine is held at the gate
        assert ai.busy() and ai.panel.busy_bar.isVisible()
        second = viewport_pos(ax, (c[0], c[1] + 8, c[2]), doc)  # far enough: not a double-click
        qtbot.mouseClick(vp, QtCore.Qt.RightButton, pos=second)
        assert len(ai.tool.clicks) == 1 and "ignored" in ai.panel.status.text()
        assert not ai.accept() and not ai.panel.accept_button.isEnabled()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not ai.busy(), timeout=20000)
    assert ai.tool.has_preview() and ai.panel.accept_button.isEnabled()
    preview, before = ai.tool.preview.copy(), doc.labels.array.copy()
    assert preview[c] and editing.state.overwrite_others  # the click's own voxel is in it
    assert ai.accept()
    # the accepted segment is exactly the preview (overwrite on, nothing locked); the rest stays
    np.testing.assert_array_equal(doc.labels.array == editing.state.active_segment_id, preview)
    np.testing.assert_array_equal(doc.labels.array[~preview], before[~preview])


def test_missing_model_falls_back_to_classic_and_says_so(
    window, qtbot, monkeypatch, tmp_path, test_data
):
    from viewer.io import load_volume
    from viewer.model.document import Document

    monkeypatch.setenv("RADLABEL_MODEL_DIR", str(tmp_path / "no-model"))
    install_editing(window, autosave=False)
    ai = install_ai(window, engine="paddle")
    try:
        window.set_document(Document(load_volume(str(test_data / "prostate_phantom_image.nrrd"))))
        assert not ai.busy(), "no engine is started before the tool is used"
        ai.activate(True)
        qtbot.waitUntil(lambda: "unavailable" in ai.panel.status.text(), timeout=20000)
        assert ai.service.engine == "classic"
        assert "unavailable" in ai.panel.status.text() and "classic" in ai.panel.status.text()
        assert ai.panel.engine_box.currentData() == "classic"
        ai.set_engine("paddle")  # asking again retries the model, and says so again
        qtbot.waitUntil(lambda: not ai.busy() and "unavailable" in ai.panel.status.text())
        assert ai.service.engine == "classic"
    finally:
        ai.service.shutdown()


def test_panels_neither_outgrow_the_window_nor_resize_the_views(window, phantom, qtbot):
    """With every panel docked the window keeps the size it was given, and a panel that grows
    (the AI busy bar, a long message) leaves the slice views alone: images do not jump under
    the mouse at each click."""
    install_editing(window, autosave=False)
    ai = install_ai(window, engine="classic")
    window.set_document(phantom)
    qtbot.wait(50)  # layout requests are posted events
    assert window.width() <= 900 and window.height() <= 800, window.size()
    views = {name: sv.size() for name, sv in window.slice_views.items()}
    ai.panel.busy_bar.setVisible(True)
    ai.panel.status.setText("a message long enough to wrap over several lines " * 6)
    qtbot.wait(50)
    assert {name: sv.size() for name, sv in window.slice_views.items()} == views
    ai.panel.busy_bar.setVisible(False)
    ai.panel.status.setText("")
    qtbot.wait(50)
    assert {name: sv.size() for name, sv in window.slice_views.items()} == views
