"""Measurements in the GUI (ruler, ROIs, angle), driven by mouse and key events through the main
window: exact values on known spacings, undo/redo, the panel, the sidecar saved with the labels."""

from __future__ import annotations

import json
import math

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.model.document import Document
from viewer.model.geometry import Geometry
from viewer.model.measurement_maths import roi_stats
from viewer.model.volume import Volume
from viewer.qt.measure_controller import install_measurements
from viewer.qt.panels import install_editing

SPACING = (0.5, 0.7, 2.0)  # x, y, z mm


def noise_document(spacing=SPACING, direction=None, shape=(12, 40, 50)) -> Document:
    """A CT-like image of seeded noise, so ROI statistics depend on exactly which voxels."""
    rng = np.random.default_rng(7)
    a = rng.integers(-200, 300, size=shape).astype(np.int16)
    g = Geometry(shape, spacing, (10.0, -20.0, 30.0), np.eye(3) if direction is None else direction)
    return Document(Volume(a, g, "CT", name="noise"))


@pytest.fixture
def measuring(window):
    editing = install_editing(window, autosave=False)
    ctl = install_measurements(window, editing)
    return ctl, editing


def open_doc(window, doc):
    window.set_document(doc)
    QtWidgets.QApplication.processEvents()
    return doc


def viewport_pos(sv, index_zyx, doc):
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(index_zyx))
    return sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))


def drag(qtbot, sv, points):
    vp = sv.canvas.viewport()
    qtbot.mousePress(vp, QtCore.Qt.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.wait(20)  # pyqtgraph drops moves closer than 10 ms (its mouseRateLimit)
        # QTest's mouseMove carries no button state: send the move with the left button held
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.MouseMove,
            QtCore.QPointF(p),
            QtCore.Qt.NoButton,
            QtCore.Qt.LeftButton,
            QtCore.Qt.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(vp, ev)
    qtbot.mouseRelease(vp, QtCore.Qt.LeftButton, pos=points[-1])


def click(qtbot, sv, pos):
    qtbot.mouseClick(sv.canvas.viewport(), QtCore.Qt.LeftButton, pos=pos)
    qtbot.wait(QtWidgets.QApplication.doubleClickInterval() + 20)  # not a double-click


def key(qtbot, window, k, mods=QtCore.Qt.NoModifier):
    window.activateWindow()
    qtbot.keyClick(window, k, mods)


def panel_rows(ctl):
    t = ctl.panel.table
    return [tuple(t.item(r, c).text() for c in range(3)) for r in range(t.rowCount())]


def test_ruler_drag_measures_spacing_exactly_and_undoes(window, measuring, qtbot):
    ctl, editing = measuring
    doc = open_doc(window, noise_document())
    key(qtbot, window, QtCore.Qt.Key_M)
    assert window.active_tool is ctl.tools["ruler"]
    ax = window.slice_views["axial"]
    z = ax.slice_index
    # horizontal: 20 voxels along x at 0.5 mm
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, x), doc) for x in (10, 20, 30)])
    (m,) = list(doc.measurements)
    assert (m.kind, m.view, m.name) == ("ruler", "axial", "Ruler 1")
    assert math.dist(*m.points) == pytest.approx(20 * 0.5, abs=1e-9)
    assert panel_rows(ctl) == [("Ruler 1", "10.0 mm", f"Axial {z + 1}")]
    assert editing.history.undo_names() == ["Add Ruler 1"]
    # diagonal: 12 voxels in x, 10 in y
    drag(qtbot, ax, [viewport_pos(ax, (z, 5, 5), doc), viewport_pos(ax, (z, 15, 17), doc)])
    d = math.dist(*list(doc.measurements)[1].points)
    assert d == pytest.approx(math.hypot(12 * 0.5, 10 * 0.7), abs=1e-9)
    # through the slices in the coronal view: 5 slices of 2 mm
    co = window.slice_views["coronal"]
    y = co.slice_index
    drag(qtbot, co, [viewport_pos(co, (2, y, 20), doc), viewport_pos(co, (7, y, 20), doc)])
    m3 = list(doc.measurements)[2]
    assert m3.view == "coronal" and math.dist(*m3.points) == pytest.approx(10.0, abs=1e-9)
    assert panel_rows(ctl)[2][1] == "10.0 mm"
    key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert len(doc.measurements) == 2 and len(panel_rows(ctl)) == 2
    key(qtbot, window, QtCore.Qt.Key_Y, QtCore.Qt.ControlModifier)
    assert len(doc.measurements) == 3 and list(doc.measurements)[2] == m3
    assert editing.has_unsaved_changes()


def test_ruler_on_oblique_grid_uses_world_geometry(window, measuring, qtbot):
    ctl, _ = measuring
    t = math.radians(25)
    rot = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
    doc = open_doc(window, noise_document(direction=rot))
    ctl.select_tool("ruler")
    ax = window.slice_views["axial"]
    z = ax.slice_index
    a, b = (z, 10, 8), (z, 22, 38)
    drag(qtbot, ax, [viewport_pos(ax, a, doc), viewport_pos(ax, b, doc)])
    (m,) = list(doc.measurements)
    expected = math.hypot(30 * 0.5, 12 * 0.7)
    assert math.dist(*m.points) == pytest.approx(expected, abs=1e-9)
    assert np.allclose(m.points[0], doc.geometry.index_to_world(a))
    assert np.allclose(m.points[1], doc.geometry.index_to_world(b))


@pytest.mark.parametrize("kind,keys", [("rectangle", "Shift+C"), ("ellipse", "C")])
def test_roi_mean_std_area_match_numpy(window, measuring, qtbot, kind, keys):
    ctl, _ = measuring
    doc = open_doc(window, noise_document())
    window.activateWindow()
    qtbot.keyClick(
        window,
        QtCore.Qt.Key_C,
        QtCore.Qt.ShiftModifier if keys == "Shift+C" else QtCore.Qt.NoModifier,
    )
    assert window.active_tool is ctl.tools[kind]
    ax = window.slice_views["axial"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, 10, 10), doc), viewport_pos(ax, (z, 18, 30), doc)])
    (m,) = list(doc.measurements)
    yy, xx = np.mgrid[0:40, 0:50]
    if kind == "rectangle":
        mask = (yy >= 10) & (yy <= 18) & (xx >= 10) & (xx <= 30)
    else:
        mask = ((yy - 14) / 4.0) ** 2 + ((xx - 20) / 10.0) ** 2 <= 1.0
    values = doc.volume.array[z][mask].astype(np.float64)
    stats = roi_stats(m, doc.volume.array, doc.geometry)
    assert stats.voxels == int(mask.sum())
    if kind == "rectangle":
        assert stats.voxels == 9 * 21
    assert stats.mean == pytest.approx(values.mean(), rel=1e-12)
    assert stats.std == pytest.approx(values.std(), rel=1e-12)
    assert stats.area_mm2 == pytest.approx(mask.sum() * 0.5 * 0.7, rel=1e-12)
    name, value, where = panel_rows(ctl)[0]
    assert value == (
        f"mean {values.mean():.1f} ± {values.std():.1f} HU, "
        f"{mask.sum() * 0.35:.1f} mm² ({mask.sum()} vx)"
    )
    assert where == f"Axial {z + 1}"


def test_angle_three_clicks(window, measuring, qtbot):
    ctl, editing = measuring
    doc = open_doc(window, noise_document())
    key(qtbot, window, QtCore.Qt.Key_N)
    ax = window.slice_views["axial"]
    z = ax.slice_index
    for p in [(z, 10, 30), (z, 10, 10), (z, 30, 10)]:  # a right angle at (10, 10)
        click(qtbot, ax, viewport_pos(ax, p, doc))
    (m,) = list(doc.measurements)
    assert m.kind == "angle" and panel_rows(ctl)[0][1] == "90.0°"
    # 14 voxels of 0.5 mm along x and 10 of 0.7 mm along y: 45 degrees in the patient
    # (35.5 degrees when counted in voxels)
    for p in [(z, 5, 19), (z, 5, 5), (z, 15, 19)]:
        click(qtbot, ax, viewport_pos(ax, p, doc))
    assert panel_rows(ctl)[1][1] == "45.0°"
    assert editing.history.undo_names() == ["Add Angle 1", "Add Angle 2"]


def test_measurement_shown_only_on_its_slice_and_view(window, measuring, qtbot):
    ctl, _ = measuring
    doc = open_doc(window, noise_document())
    ctl.select_tool("ruler")
    ax, co = window.slice_views["axial"], window.slice_views["coronal"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, 10), doc), viewport_pos(ax, (z, 12, 30), doc)])

    def drawn(sv):
        return [type(i).__name__ for i in sv.overlay_items("measurements")]

    assert drawn(ax) == ["QGraphicsLineItem", "ScatterPlotItem", "TextItem"]
    assert drawn(co) == []  # coronal view: not its orientation
    label = ax.overlay_items("measurements")[2]
    assert label.textItem.toPlainText() == "Ruler 1: 10.0 mm"
    ax.canvas.setFocus()
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Up)
    assert ax.slice_index == z + 1 and drawn(ax) == []
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Down)
    assert drawn(ax) == ["QGraphicsLineItem", "ScatterPlotItem", "TextItem"]


def test_move_end_select_remove_and_undo(window, measuring, qtbot):
    ctl, editing = measuring
    doc = open_doc(window, noise_document())
    ctl.select_tool("ruler")
    ax = window.slice_views["axial"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, 10), doc), viewport_pos(ax, (z, 12, 30), doc)])
    # drag the far end 10 voxels further: a move, not a new ruler
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, 30), doc), viewport_pos(ax, (z, 12, 40), doc)])
    (m,) = list(doc.measurements)
    assert math.dist(*m.points) == pytest.approx(15.0, abs=1e-9)
    assert editing.history.undo_names() == ["Add Ruler 1", "Move Ruler 1"]
    table = ctl.panel.table
    qtbot.mouseClick(
        table.viewport(), QtCore.Qt.LeftButton, pos=table.visualItemRect(table.item(0, 0)).center()
    )
    assert ctl.selected_id == m.id
    table.setFocus()
    qtbot.keyClick(table, QtCore.Qt.Key_Delete)
    assert len(doc.measurements) == 0 and table.rowCount() == 0
    assert editing.history.undo_names()[-1] == "Remove Ruler 1"
    key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert list(doc.measurements) == [m]
    key(qtbot, window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert math.dist(*list(doc.measurements)[0].points) == pytest.approx(10.0, abs=1e-9)
    # the Remove button removes the selected row
    table.selectRow(0)
    qtbot.mouseClick(ctl.panel.remove_button, QtCore.Qt.LeftButton)
    assert len(doc.measurements) == 0


def test_sidecar_round_trip_with_labels(window, measuring, qtbot, tmp_path):
    ctl, editing = measuring
    doc = open_doc(window, noise_document())
    ctl.select_tool("ruler")
    ax = window.slice_views["axial"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, 10), doc), viewport_pos(ax, (z, 12, 30), doc)])
    ctl.select_tool("rectangle")
    drag(qtbot, ax, [viewport_pos(ax, (z, 10, 10), doc), viewport_pos(ax, (z, 18, 30), doc)])
    saved = list(doc.measurements)
    label_path = tmp_path / "case_labels.nii.gz"
    assert editing.save_labels(str(label_path))
    sidecar = tmp_path / "case_labels.nii.gz.measurements.json"
    data = json.loads(sidecar.read_text())
    assert data["format"] == "radlabel-measurements" and data["coordinates"] == "LPS mm"
    assert [d["kind"] for d in data["measurements"]] == ["ruler", "rectangle"]
    assert data["measurements"][0]["value"] == "10.0 mm"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # a fresh copy of the study, then the labels: the measurements come back
    open_doc(window, noise_document())
    assert len(window.document.measurements) == 0
    assert window.open_label(str(label_path))
    assert list(window.document.measurements) == saved
    assert [r[0] for r in panel_rows(ctl)] == ["Ruler 1", "Rectangle ROI 2"]
    assert not editing.has_unsaved_changes()
    # removing them all and saving leaves an empty sidecar, not the old one
    for mid in window.document.measurements.ids():
        ctl.remove(mid)
    assert editing.save_labels(str(label_path))
    assert json.loads(sidecar.read_text())["measurements"] == []
    assert window.errors == []


def test_sidecar_points_survive_a_grid_change(window, measuring, qtbot, tmp_path):
    ctl, editing = measuring
    doc = open_doc(window, noise_document())
    ctl.select_tool("ruler")
    ax = window.slice_views["axial"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, 12, 10), doc), viewport_pos(ax, (z, 12, 30), doc)])
    world = list(doc.measurements)[0].points
    label_path = tmp_path / "labels.nii.gz"
    assert editing.save_labels(str(label_path))
    # the same patient space sampled at 1 mm: labels are resampled, measurements keep their mm
    other = noise_document(spacing=(1.0, 1.4, 2.0), shape=(12, 20, 25))
    open_doc(window, other)
    assert window.open_label(str(label_path))
    (m,) = list(window.document.measurements)
    assert m.points == world and panel_rows(ctl)[0][1] == "10.0 mm"


HOSTILE = {
    "not json": (b"{not json", "not a valid JSON measurements file"),
    "wrong format": (b'{"format": "x"}', "not a RadLabel measurements file"),
    "bad kind": (
        b'{"format": "radlabel-measurements", "version": 1, "measurements": '
        b'[{"kind": "laser", "view": "axial", "points": []}]}',
        "measurement 1: unknown kind 'laser'",
    ),
    "nan point": (
        b'{"format": "radlabel-measurements", "version": 1, "measurements": '
        b'[{"kind": "ruler", "view": "axial", "points": [[0, 0, NaN], [1, 2, 3]]}]}',
        "measurement 1: a ruler needs 2 points of 3 finite numbers (mm)",
    ),
    "deep nesting": (b"[" * 100000 + b"]" * 100000, "not a valid JSON measurements file"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_sidecar_is_one_clear_line(window, measuring, qtbot, tmp_path, case):
    _ctl, editing = measuring
    open_doc(window, noise_document())
    label_path = tmp_path / "labels.nii.gz"
    assert editing.save_labels(str(label_path))
    sidecar = tmp_path / "labels.nii.gz.measurements.json"
    content, reason = HOSTILE[case]
    sidecar.write_bytes(content)
    assert window.open_label(str(label_path))  # the labels still open
    assert len(window.errors) == 1
    (line,) = window.errors[0].splitlines()
    assert line.startswith(f"{sidecar}: {reason}")
    assert len(window.document.measurements) == 0


def test_angle_drag_first_arm_then_click_and_right_click_starts_over(window, measuring, qtbot):
    ctl, _ = measuring
    doc = open_doc(window, noise_document(spacing=(1.0, 1.0, 2.0)))
    ctl.select_tool("angle")
    ax = window.slice_views["axial"]
    z = ax.slice_index
    click(qtbot, ax, viewport_pos(ax, (z, 10, 10), doc))
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.RightButton, pos=viewport_pos(ax, (z, 20, 20), doc)
    )
    assert ctl.tools["angle"].preview is None  # the placed point was dropped
    drag(qtbot, ax, [viewport_pos(ax, (z, 20, 30), doc), viewport_pos(ax, (z, 20, 10), doc)])
    assert len(doc.measurements) == 0 and ctl.tools["angle"].preview is not None
    click(qtbot, ax, viewport_pos(ax, (z, 0, 30), doc))  # 20 right, 20 up from the vertex
    (m,) = list(doc.measurements)
    assert np.allclose(m.points[1], doc.geometry.index_to_world((z, 20, 10)))
    assert panel_rows(ctl) == [("Angle 1", "45.0°", f"Axial {z + 1}")]
