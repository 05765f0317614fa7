"""View > Go to... (Ctrl+G): typed voxel and world positions move the crosshair and the slices;
positions outside the image or that cannot be read are explained, and nothing moves."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtWidgets
from qt_helpers import phantom_document


def open_goto(window, qtbot):
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key_G, QtCore.Qt.ControlModifier)
    dialog = window.goto_dialog
    assert dialog.isVisible()
    return dialog


def type_and_enter(qtbot, dialog, text):
    dialog.edit.selectAll()
    qtbot.keyClicks(dialog.edit, text)
    qtbot.keyClick(dialog.edit, QtCore.Qt.Key_Return)


def choose_mode(qtbot, dialog, index):
    dialog.mode.setFocus()
    while dialog.mode.currentIndex() != index:
        qtbot.keyClick(dialog.mode, QtCore.Qt.Key_Down)


def slices(window):
    return {name: sv.slice_index for name, sv in window.slice_views.items()}


def test_goto_voxel_moves_crosshair_and_slices(window, qtbot):
    doc = phantom_document()  # shape (z, y, x) = (20, 40, 50), spacing 1 x 1 x 2, LPS identity
    window.set_document(doc)
    dialog = open_goto(window, qtbot)
    assert [dialog.mode.itemText(i) for i in range(3)] == [
        "Voxel index i, j, k",
        "World x, y, z mm (LPS)",
        "World x, y, z mm (RAS)",
    ]
    type_and_enter(qtbot, dialog, "12, 30, 7")
    assert not dialog.isVisible()
    assert np.allclose(window.state.cursor_world, doc.geometry.index_to_world((7, 30, 12)))
    assert window.state.cursor_world.tolist() == [22.0, 10.0, 44.0]  # origin (10, -20, 30)
    ax, co, sa = (window.slice_views[v] for v in ("axial", "coronal", "sagittal"))
    assert slices(window) == {"axial": 7, "coronal": 30, "sagittal": 12}
    assert ax.canvas.caption.endswith("8/20")


def test_goto_world_lps_and_ras(window, qtbot):
    doc = phantom_document()
    window.set_document(doc)
    dialog = open_goto(window, qtbot)
    choose_mode(qtbot, dialog, 1)
    type_and_enter(qtbot, dialog, "25 0 40")
    assert window.state.cursor_world.tolist() == [25.0, 0.0, 40.0]
    assert slices(window) == {"axial": 5, "coronal": 20, "sagittal": 15}
    dialog = open_goto(window, qtbot)
    choose_mode(qtbot, dialog, 2)
    type_and_enter(qtbot, dialog, "-30, 10, 50")  # RAS: x and y change sign
    assert window.state.cursor_world.tolist() == [30.0, -10.0, 50.0]
    assert slices(window) == {"axial": 10, "coronal": 10, "sagittal": 20}


def test_goto_outside_or_unreadable_says_why_and_keeps_the_crosshair(window, qtbot):
    window.set_document(phantom_document())
    before = window.state.cursor_world.copy()
    dialog = open_goto(window, qtbot)
    choose_mode(qtbot, dialog, 0)
    type_and_enter(qtbot, dialog, "12, 40, 7")
    assert dialog.isVisible()
    assert dialog.message.text() == (
        "voxel (12, 40, 7) is outside the image: i 0-49, j 0-39, k 0-19"
    )
    type_and_enter(qtbot, dialog, "1.5, 2, 3")
    assert dialog.message.text() == "voxel indices are whole numbers (got 1.5, 2, 3)"
    type_and_enter(qtbot, dialog, "12, 30")
    assert dialog.message.text() == (
        "type three numbers separated by commas, e.g. 10, 20, 5 (got '12, 30')"
    )
    choose_mode(qtbot, dialog, 1)
    type_and_enter(qtbot, dialog, "0, 0, 0")
    assert dialog.message.text() == (
        "(0, 0, 0) mm LPS is outside the image (x, y, z: 9.5 to 59.5, -20.5 to 19.5, 29.0 to 69.0)"
    )
    assert np.array_equal(window.state.cursor_world, before)
    qtbot.keyClick(dialog.edit, QtCore.Qt.Key_Escape)
    assert not dialog.isVisible()
    assert window.goto_action.shortcut().toString() == "Ctrl+G"
    assert window.goto_action in window.view_menu.actions()
    QtWidgets.QApplication.processEvents()
