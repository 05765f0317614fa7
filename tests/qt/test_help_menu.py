"""Help menu: the keyboard shortcuts list (from the window's real actions, filterable), the user
guide (README's "Using RadLabel"), About (versions, licences) and the model card."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

REPO = Path(__file__).resolve().parents[2]


def _menu_titles(window) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def _trigger_menu_item(qtbot, window, menu_title: str, item_text: str) -> None:
    """Open a menu-bar menu and pick an entry with the keyboard, like a user would."""
    bar = window.menuBar()
    action = next(a for a in bar.actions() if a.text() == menu_title)
    menu = action.menu()
    entry = next(a for a in menu.actions() if a.text() == item_text)
    menu.popup(bar.mapToGlobal(bar.actionGeometry(action).bottomLeft()))
    qtbot.waitUntil(menu.isVisible)
    menu.setActiveAction(entry)
    qtbot.keyClick(menu, QtCore.Qt.Key_Return)


def test_shortcuts_list_has_every_action_and_filters(window, qtbot):
    from viewer.qt.panels import install_editing

    install_editing(window, autosave=False)  # Edit menu, tools: actions added after the window
    assert _menu_titles(window)[-1] == "&Help"  # later menus do not land right of Help
    qtbot.keyClick(window, QtCore.Qt.Key_F1)
    dialog = window.help_menu.dialogs["shortcuts"]
    qtbot.waitExposed(dialog)
    rows = dialog.visible_rows()
    expected = set()
    for a in window.findChildren(QtWidgets.QAction):
        if a.shortcuts():
            expected.add(", ".join(k.toString() for k in a.shortcuts()))
    assert {keys for _, keys in rows} == expected
    names = dict(rows)
    assert names["Open image"] == "Ctrl+O"
    assert names["Undo"] == "Ctrl+Z"
    assert names["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert names["Keyboard shortcuts"] == "F1"
    assert len(rows) >= 15
    qtbot.keyClicks(dialog.filter_box, "redo")
    assert dialog.visible_rows() == [("Redo", "Ctrl+Shift+Z, Ctrl+Y")]
    dialog.filter_box.clear()
    qtbot.keyClicks(dialog.filter_box, "SAVE")
    assert [n for n, _ in dialog.visible_rows()] == ["Save labels", "Save labels as"]
    dialog.filter_box.clear()
    qtbot.keyClicks(dialog.filter_box, "ctrl+l")  # by its keys
    assert dialog.visible_rows() == [("Open label", "Ctrl+L")]
    qtbot.keyClicks(dialog.filter_box, "zzz")
    assert dialog.visible_rows() == []


def test_user_guide_shows_docs_guide_with_its_screenshots(window, qtbot):
    _trigger_menu_item(qtbot, window, "&Help", "&User guide")
    viewer = window.help_menu.dialogs["guide"]
    qtbot.waitExposed(viewer)
    text = viewer.browser.toPlainText()
    assert text.startswith("RadLabel user guide")
    for heading in ("Install", "Open a DICOM folder", "Click to segment and correct",
                    "Save and export", "Keyboard shortcuts"):  # fmt: skip
        assert heading in text.splitlines(), heading
    # the screenshots load from docs/screenshots (relative to the guide)
    doc = viewer.browser.document()
    image = doc.resource(
        QtGui.QTextDocument.ImageResource, QtCore.QUrl("screenshots/guide_welcome.png")
    )
    assert image is not None and QtGui.QImage(image).width() == 1100


def test_about_lists_versions_licences_and_the_model_card(window, qtbot):
    _trigger_menu_item(qtbot, window, "&Help", "&About RadLabel...")
    about = window.help_menu.dialogs["about"]
    qtbot.waitExposed(about)
    rows = {name: (version, licence) for name, version, licence in about.rows()}
    assert rows["Python"] == (platform.python_version(), "PSF-2.0")
    assert rows["NumPy"] == (np.__version__, "BSD-3-Clause")
    assert rows["Qt"] == (QtCore.QT_VERSION_STR, "LGPL-3.0")
    assert rows["PyQt5"] == (QtCore.PYQT_VERSION_STR, "GPL-3.0")
    import pydicom
    import pyqtgraph

    assert rows["pyqtgraph"][0] == pyqtgraph.__version__
    assert rows["pydicom"][0] == pydicom.__version__
    assert set(rows) == {
        "Python",
        "Qt",
        "PyQt5",
        "VTK",
        "pyqtgraph",
        "PaddlePaddle",
        "SimpleITK",
        "pydicom",
        "highdicom",
        "NumPy",
    }
    assert all(v and v != "not installed" for v, _ in rows.values())
    qtbot.mouseClick(about.model_card_button, QtCore.Qt.LeftButton)
    card = window.help_menu.dialogs["model_card"]
    qtbot.waitExposed(card)
    first = (REPO / "resources" / "models" / "MODEL_CARD.md").read_text().splitlines()[0]
    assert card.browser.toPlainText().splitlines()[0] == first.lstrip("# ").replace("`", "")
