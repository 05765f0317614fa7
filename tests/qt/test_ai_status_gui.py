"""AI status and accepting (issue 13, defects 5 and 6), in the offscreen window with the real AI
service (classic engine): the panel says when the engine is ready (after switching, and on the
first use of the tool); accepting shows its voxels in the statistics at once; accepting over
other segments says which lost how many voxels, and one undo restores them all."""

from __future__ import annotations

import threading

import numpy as np
from PyQt5 import QtCore
from test_ai_tool_gui import ct_window, inner_point, show_voxel, viewport_pos  # noqa: F401

from segmentation_core import open_session
from viewer.qt.ai_controller import install_ai
from viewer.qt.panels import install_editing
from viewer.services.ai_service import AIService

READY = "Classic (no learning) ready: click on a structure."


def test_switching_engine_says_starting_then_ready(window, phantom, qtbot):
    install_editing(window, autosave=False)
    window.set_document(phantom)
    ai = install_ai(window, engine="paddle")  # never started: the tool was not used yet
    try:
        box = ai.panel.engine_box
        assert box.currentData() == "paddle"
        box.setFocus()
        qtbot.keyClick(box, QtCore.Qt.Key_Down)  # the user picks the next engine: Classic
        assert ai.service.requested_engine == "classic"
        assert ai.panel.status.text() == "Starting the Classic (no learning)..."
        qtbot.waitUntil(lambda: ai.panel.status.text() == READY, timeout=20000)
        assert ai.service.engine == "classic" and not ai.busy()
    finally:
        ai.service.shutdown()


def test_first_use_of_the_tool_warms_the_engine_and_says_ready(window, phantom, qtbot):
    """The "prepare" answer waits for the engine's worker to be ready to answer (a Paddle
    worker loads its model and runs a first pass then): here a classic session stands in for
    it, with a predictor whose readiness the test holds back."""
    install_editing(window, autosave=False)
    window.set_document(phantom)
    gate = threading.Event()
    waited: list[str] = []

    class Predictor:
        def wait_ready(self) -> None:
            waited.append(threading.current_thread().name)
            gate.wait(30)

    def factory(engine):
        s = open_session(engine="classic")
        s.predictor = Predictor()
        return s

    ai = install_ai(window, service=AIService("classic", session_factory=factory))
    try:
        assert not ai.busy() and waited == []  # nothing starts before the tool is used
        window.activateWindow()
        qtbot.keyClick(window, QtCore.Qt.Key_A)
        assert ai.panel.status.text() == "Starting the Classic (no learning)..."
        qtbot.waitUntil(lambda: waited != [], timeout=20000)
        qtbot.wait(100)
        assert ai.panel.status.text().startswith("Starting"), "not ready before the worker is"
        assert waited[0] != threading.main_thread().name
        gate.set()
        qtbot.waitUntil(lambda: ai.panel.status.text() == READY, timeout=20000)
    finally:
        gate.set()
        ai.service.shutdown()


def test_accept_over_other_segments_names_what_it_took_and_undoes_in_one_step(
    ct_window,  # noqa: F811
    qtbot,
):
    window, editing, liver = ct_window
    ai = install_ai(window, engine="classic")
    doc = window.document
    c = inner_point(liver, doc.geometry.spacing_zyx)
    # two segments inside the liver around the click: the AI result will cover parts of them
    lab = doc.labels.array
    lab[c[0], c[1] - 3 : c[1] + 1, c[2] + 2 : c[2] + 6] = 1
    lab[c[0], c[1] + 2 : c[1] + 4, c[2] - 5 : c[2] - 1] = 2
    doc.replace_labels(lab.copy())
    doc.segments.get(1).name = "Spleen"
    doc.segments.get(2).name = "Kidney"
    editing.segments_panel.refresh()
    editing.segments_panel.add_segment("Liver")
    sid = editing.state.active_segment_id
    assert sid == 3 and editing.state.overwrite_others
    panel = editing.segments_panel
    qtbot.waitUntil(lambda: bool(panel.stats) and panel.stats[1].voxels == 16, timeout=5000)

    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_A)
    show_voxel(window, c)
    ax = window.slice_views["axial"]
    qtbot.mouseClick(ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, c, doc))
    qtbot.waitUntil(lambda: ai.tool.has_preview() and not ai.busy(), timeout=20000)
    before = doc.labels.array.copy()
    preview = ai.tool.preview.copy()
    took1 = int(np.count_nonzero(preview & (before == 1)))
    took2 = int(np.count_nonzero(preview & (before == 2)))
    assert took1 > 0 and took2 > 0, "the test needs a result over both segments"
    added = int(np.count_nonzero(preview & (before != sid)))
    undo_steps = len(window.history.undo_names())

    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Return)
    after = doc.labels.array.copy()
    assert np.array_equal(after == sid, preview)
    assert int(np.count_nonzero(after == 1)) == 16 - took1
    big, small = sorted([(took1, "Spleen"), (took2, "Kidney")], reverse=True)
    expected = (
        f"Accepted {added:,} voxels into 'Liver'; "
        f"took {big[0]:,} from '{big[1]}', {small[0]:,} from '{small[1]}'."
    )
    assert window.statusBar().currentMessage() == expected
    assert ai.panel.status.text() == expected
    # the statistics show the result at the next turn of the event loop, not seconds later
    qtbot.wait(50)
    assert panel.stats[sid].voxels == added
    assert panel.stats[1].voxels == 16 - took1 and panel.stats[2].voxels == 8 - took2
    row = [panel.segment_id_at(r) for r in range(panel.table.rowCount())].index(sid)
    assert panel.table.item(row, 4).text() == str(added)

    # one undo step: both other segments come back exactly
    assert len(window.history.undo_names()) == undo_steps + 1
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert np.array_equal(doc.labels.array, before)
    qtbot.wait(50)
    assert panel.stats[1].voxels == 16 and panel.stats[2].voxels == 8
