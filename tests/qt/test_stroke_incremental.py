"""A stroke does only the work of its own box (issue 13, defect 4): the statistics table follows
the changed voxels exactly without a pass over the volume, and the 3D view re-contours only the
segment that changed, off the UI thread. Real mouse drags and key presses in the window."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PyQt5 import QtCore
from qt_helpers import phantom_document
from test_editing_gui import drag, viewport_pos

from viewer.model.statistics import segment_statistics
from viewer.qt.panels import install_editing

SHAPE = (40, 120, 160)  # 768k voxels: a stroke's box is a small part of it


def _document():
    doc = phantom_document(shape=SHAPE, spacing=(1.0, 1.0, 1.0))
    lab = doc.labels.array.copy()
    lab[10:30, 70:100, 100:140] = 2  # a second segment, well away from the first
    doc.replace_labels(lab)
    rng = np.random.default_rng(1)  # varied intensities: mean/std/min/max all mean something
    doc.volume.array[:] += rng.integers(-50, 50, size=SHAPE, dtype=np.int16)
    return doc


@pytest.fixture
def painted(window, qtbot, monkeypatch):
    """The window with editing, the two-segment document, statistics shown; full passes spied."""
    import viewer.qt.panels.segments_panel as panel_module

    ctl = install_editing(window, autosave=False)
    doc = _document()
    window.set_document(doc)
    panel = ctl.segments_panel
    qtbot.waitUntil(lambda: bool(panel.stats) and panel.stats[1].voxels > 0, timeout=5000)
    full_passes: list[int] = []
    real = panel_module.segment_statistics
    monkeypatch.setattr(
        panel_module, "segment_statistics", lambda d: full_passes.append(1) or real(d)
    )
    return ctl, doc, full_passes


def _table_voxels(panel) -> dict[int, int]:
    out = {}
    for row in range(panel.table.rowCount()):
        text = panel.table.item(row, 4).text()
        out[panel.segment_id_at(row)] = int(text) if text else -1
    return out


def _assert_stats_exact(panel, doc) -> None:
    expected = {r.segment_id: r for r in segment_statistics(doc)}
    assert set(panel.stats) == set(expected)
    for sid, want in expected.items():
        got = panel.stats[sid]
        assert got.voxels == want.voxels
        assert got.volume_ml == pytest.approx(want.volume_ml, rel=1e-12)
        for name in ("mean", "std", "min", "max"):
            a, b = getattr(got, name), getattr(want, name)
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), name
    assert _table_voxels(panel) == {sid: r.voxels for sid, r in expected.items()}


def _stroke_box_voxels(history) -> int:
    """Voxels in the boxes of the last undo entry's dabs (what an incremental update reads)."""
    top = history.last_done()
    atoms = getattr(top, "atoms", [top])
    return sum(int(np.prod(np.subtract(a.bbox[3:], a.bbox[:3]))) for a in atoms)


def test_brush_and_eraser_strokes_update_statistics_exactly_from_their_boxes(painted, qtbot):
    ctl, doc, full_passes = painted
    panel = ctl.segments_panel
    tracker = getattr(panel, "tracker", None)
    ax = qtbot_window(ctl).slice_views["axial"]
    z = ax.slice_index
    ctl.set_active_segment(1)
    ctl.select_tool("brush")
    ctl.tools_panel.options_for("brush").size.setValue(8.0)
    before_read = tracker.voxels_read if tracker is not None else 0
    n1 = int(np.count_nonzero(doc.labels.array == 1))
    drag(qtbot, ax, [viewport_pos(ax, (z, 25, x), doc) for x in (60, 70, 80, 90)])
    grown = int(np.count_nonzero(doc.labels.array == 1))
    assert grown > n1 + 100  # the stroke painted
    # the table shows the exact new count at the next turn of the event loop
    qtbot.waitUntil(lambda: _table_voxels(panel)[1] == grown, timeout=1000)
    assert full_passes == []  # no pass over the whole volume
    _assert_stats_exact(panel, doc)
    read = tracker.voxels_read - before_read
    box = _stroke_box_voxels(ctl.history)
    assert 0 < read <= 2 * box  # each dab's box read before and after its write, nothing else
    assert read < doc.labels.array.size // 20
    assert full_passes == []

    # the eraser takes part of the stroke back
    ctl.select_tool("eraser")
    drag(qtbot, ax, [viewport_pos(ax, (z, 25, x), doc) for x in (70, 74)])
    shrunk = int(np.count_nonzero(doc.labels.array == 1))
    assert shrunk < grown
    qtbot.waitUntil(lambda: _table_voxels(panel)[1] == shrunk, timeout=1000)
    _assert_stats_exact(panel, doc)

    # undo and redo by keys: exact again, still without a full pass
    window = qtbot_window(ctl)
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    qtbot.waitUntil(lambda: _table_voxels(panel)[1] == grown, timeout=1000)
    _assert_stats_exact(panel, doc)
    qtbot.keyClick(window, QtCore.Qt.Key_Y, QtCore.Qt.ControlModifier)
    qtbot.waitUntil(lambda: _table_voxels(panel)[1] == shrunk, timeout=1000)
    _assert_stats_exact(panel, doc)
    assert full_passes == []


def qtbot_window(ctl):
    return ctl.window


def test_a_stroke_recontours_only_its_segment_off_the_ui_thread(painted, qtbot, monkeypatch):
    import threading

    import viewer.qt.label_surfaces as surfaces

    ctl, doc, _ = painted
    window = ctl.window
    view = window.view_3d
    assert view.scene.surface_actor is not None
    contoured: list[tuple[tuple[slice, ...], str]] = []  # (crop, thread name)
    real = surfaces.segment_surface

    def spy(mask, crop, steps, spacing):
        contoured.append((crop, threading.current_thread().name))
        return real(mask, crop, steps, spacing)

    monkeypatch.setattr(surfaces, "segment_surface", spy)
    ax = window.slice_views["axial"]
    z = 20
    window.slice_views["axial"].scroll(z - ax.slice_index)
    assert ax.slice_index == z
    ctl.set_active_segment(2)
    ctl.select_tool("brush")
    ctl.tools_panel.options_for("brush").size.setValue(6.0)
    fine_before = view.scene.surface_actor.GetMapper().GetInput()
    cells_before = fine_before.GetNumberOfCells()
    cache = getattr(view.scene, "surface_cache", None)
    measured_before = cache.voxels_measured if cache is not None else 0
    # paint segment 2 leftwards, beyond its block (x 100..139) down to x = 80
    drag(qtbot, ax, [viewport_pos(ax, (z, 85, x), doc) for x in (104, 96, 88, 80)])
    assert doc.labels.array[z, 85, 80] == 2
    qtbot.waitUntil(lambda: view.scene.surface_actor.GetMapper().GetInput() is not fine_before)
    updater = getattr(view, "surfaces", None)
    qtbot.waitUntil(lambda: updater is None or not updater.busy(), timeout=10000)
    assert contoured, "the surfaces were not rebuilt"
    for crop, thread in contoured:  # only segment 2's box (x from 70 on), on the worker
        assert crop[2].start >= 70, crop
        assert thread != threading.main_thread().name
    measured = cache.voxels_measured - measured_before
    seg2_box = (30 - 10) * (100 - 70) * (140 - 70)  # generous: its block grown by the stroke
    assert 0 < measured <= seg2_box
    fine = view.scene.surface_actor.GetMapper().GetInput()
    assert fine is not fine_before and fine.GetNumberOfCells() != cells_before
    # segment 2's surface now reaches the painted voxels: x index 80 (-2 for the brush radius);
    # points are in index*spacing mm, the colours tell the segments apart
    from vtkmodules.util.numpy_support import vtk_to_numpy

    pts = vtk_to_numpy(fine.GetPoints().GetData())
    rgb = vtk_to_numpy(fine.GetPointData().GetScalars())
    seg2 = np.all(rgb == np.array(doc.segments.get(2).colour), axis=1)
    assert seg2.any() and not seg2.all()
    assert 75.0 < pts[seg2, 0].min() < 80.0
