"""An engine registered in a few lines (tests/dummy_engine.py) appears in the AI panel's
engine list of the real window; picking it with the keyboard opens it through `open_session`,
and a click in the axial view previews exactly what its session answered."""

from __future__ import annotations

import numpy as np
from dummy_engine import CubeEngine
from PyQt5 import QtCore
from test_ai_tool_gui import show_voxel, viewport_pos

from segmentation_core.engines import register, unregister
from viewer.qt.ai_controller import install_ai
from viewer.qt.panels import install_editing


def test_a_registered_engine_is_in_the_engine_box_and_answers_clicks(window, phantom, qtbot):
    register(CubeEngine())
    try:
        install_editing(window, autosave=False)
        window.set_document(phantom)
        ai = install_ai(window, engine="classic")
        box = ai.panel.engine_box
        items = [(box.itemText(i), box.itemData(i)) for i in range(box.count())]
        assert items == [
            ("Paddle model", "paddle"),
            ("Classic (no learning)", "classic"),
            ("Cube (test)", "cube"),
        ]
        box.setFocus()
        qtbot.keyClick(box, QtCore.Qt.Key_Down)  # from Classic to the next one: Cube
        assert ai.service.requested_engine == "cube"
        ready = "Cube (test) ready: click on a structure."
        qtbot.waitUntil(lambda: ai.panel.status.text() == ready, timeout=20000)
        assert ai.service.engine == "cube"

        window.activateWindow()
        qtbot.keyClick(window, QtCore.Qt.Key_A)
        doc = window.document
        c = tuple(s // 2 for s in doc.labels.array.shape)
        show_voxel(window, c)
        ax = window.slice_views["axial"]
        qtbot.mouseClick(ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, c, doc))
        qtbot.waitUntil(lambda: ai.tool.has_preview() and not ai.busy(), timeout=20000)
        want = np.zeros(doc.labels.array.shape, bool)
        want[c[0] - 1 : c[0] + 2, c[1] - 1 : c[1] + 2, c[2] - 1 : c[2] + 2] = True
        assert np.array_equal(ai.tool.preview, want)
    finally:
        ai.service.shutdown()
        unregister("cube")
