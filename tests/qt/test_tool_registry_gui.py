"""A tool is declared, not wired: one `ToolSpec` registered with the editing controller gives a
toolbar entry, a Tools-panel button with its options widget, a window-wide shortcut listed in
Help > Keyboard shortcuts, and the tool receives the slice views' clicks. Driven through the
real main window with real clicks and keys."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt5 import QtCore, QtWidgets

from viewer.commands import Command
from viewer.model.document import Document
from viewer.qt.panels import install_editing
from viewer.qt.tool_registry import TOOLS_PANEL, ToolSpec
from viewer.tools.base import Tool


class _Stamp(Command):
    name = "Stamp"

    def __init__(self, voxel, value):
        self.voxel, self.value = voxel, value

    def do(self, doc):
        self.old = int(doc.labels.array[self.voxel])
        doc.labels.array[self.voxel] = self.value
        doc.notify_labels_changed(None)

    def undo(self, doc):
        doc.labels.array[self.voxel] = self.old
        doc.notify_labels_changed(None)


class StampTool(Tool):
    """Sets the clicked voxel to the active segment."""

    def __init__(self, document, state):
        super().__init__(document)
        self.state = state

    def on_press(self, event):
        return _Stamp(event.voxel, self.state.active_segment_id)


class StampOptions(QtWidgets.QCheckBox):
    def __init__(self, controller):
        super().__init__("Stamp twice")


STAMP = ToolSpec(
    "stamp", "Stamp", "Shift+T", lambda c: StampTool(c.document, c.state), options=StampOptions
)


@pytest.fixture
def stamped(window):
    ctl = install_editing(window, autosave=False)
    from qt_helpers import phantom_document

    doc = phantom_document()
    window.set_document(doc)
    tool = ctl.register_tool(STAMP)  # the whole of adding a tool to a window
    return ctl, doc, tool


def _click_voxel(qtbot, sv, index_zyx, doc):
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(index_zyx))
    pos = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))
    qtbot.mouseClick(sv.canvas.viewport(), QtCore.Qt.LeftButton, pos=pos)


def test_registered_tool_is_in_toolbar_panel_and_shortcuts(window, stamped, qtbot):
    ctl, doc, tool = stamped
    entry = [a for a in window.toolbar.actions() if a.text() == "Stamp"]
    assert len(entry) == 1 and entry[0].toolTip() == "Stamp (Shift+T)"
    button = ctl.tools_panel.tool_buttons["stamp"]
    assert button.isVisibleTo(ctl.tools_panel) and button.text() == "Stamp"
    options = ctl.tools_panel.options_for("stamp")
    assert isinstance(options, StampOptions) and options.isVisibleTo(ctl.tools_panel)
    assert [s.key for s in ctl.registry.in_panel(TOOLS_PANEL)] == [
        "brush",
        "eraser",
        "flood_fill",
        "lasso",
        "stamp",
    ]
    qtbot.keyClick(window, QtCore.Qt.Key_F1)
    rows = window.help_menu.dialogs["shortcuts"].visible_rows()
    assert ("Stamp", "Shift+T") in rows


def test_registered_tool_is_selected_by_its_key_and_button_and_gets_clicks(window, stamped, qtbot):
    ctl, doc, tool = stamped
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_T, QtCore.Qt.ShiftModifier)
    assert window.active_tool is tool
    sid = ctl.state.active_segment_id
    assert ctl.tools_panel.tool_buttons["stamp"].isChecked()
    ax = window.slice_views["axial"]
    z = ax.slice_index
    before = doc.labels.array.copy()
    assert before[z, 12, 20] != sid
    _click_voxel(qtbot, ax, (z, 12, 20), doc)
    assert np.argwhere(doc.labels.array != before).tolist() == [[z, 12, 20]]
    assert doc.labels.array[z, 12, 20] == sid
    assert ctl.history.undo_names()[-1] == "Stamp"
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert np.array_equal(doc.labels.array, before)
    qtbot.keyClick(window, QtCore.Qt.Key_Escape)  # navigation
    assert window.active_tool is None
    assert ctl.tools_panel.tool_buttons[None].isChecked()
    qtbot.mouseClick(ctl.tools_panel.tool_buttons["stamp"], QtCore.Qt.LeftButton)
    assert window.active_tool is tool


def test_painting_tool_on_empty_table_makes_a_first_segment(window, qtbot):
    ctl = install_editing(window, autosave=False)
    from qt_helpers import phantom_document

    doc = Document(phantom_document().volume)  # no labels, no segments
    window.set_document(doc)
    tool = ctl.register_tool(STAMP)
    assert len(doc.segments) == 0
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_T, QtCore.Qt.ShiftModifier)
    assert window.active_tool is tool
    assert len(doc.segments) == 1
    assert ctl.state.active_segment_id == doc.segments.ids()[0]


def test_a_key_can_be_registered_once(stamped):
    ctl, _doc, _tool = stamped
    with pytest.raises(ValueError, match="'stamp' is registered already"):
        ctl.register_tool(STAMP)
