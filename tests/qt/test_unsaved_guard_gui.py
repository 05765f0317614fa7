"""Issue 13, defect 1: no path that replaces or closes the document loses unsaved labels.

Every path (Ctrl+O, Ctrl+D and the study browser, drag and drop, recent files, Ctrl+L onto
another grid, recovery restore, close) asks Save / Discard / Cancel once; Cancel keeps
everything, Save saves first (and a failed or cancelled save stops the path), Discard goes on.
An autosave is never overwritten by another study's. Only the file dialogs and the message box
answers are patched; the window is driven by its shortcuts, menus and a real drop event.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PyQt5 import QtCore, QtGui, QtWidgets
from qt_helpers import phantom_document
from test_editing_gui import drag, viewport_pos

from viewer.io import load_label_for, write_volume
from viewer.model.geometry import Geometry
from viewer.qt.panels import install_editing, offer_recovery
from viewer.services.autosave import AutosaveService, find_recoverable
from viewer.services.recovery_store import recovery_root

DICOM = Path(__file__).resolve().parents[1] / "data" / "dicom" / "non_isotropic"
Q = QtWidgets.QMessageBox


@pytest.fixture
def studies(tmp_path):
    """Two images on disk, both named image.nii.gz (as in many datasets), and a label file for
    the first on a coarser grid (opening it resamples)."""
    a = phantom_document(shape=(12, 30, 40)).volume
    b = phantom_document(shape=(10, 24, 32)).volume
    paths = {}
    for name, vol in (("case_a", a), ("case_b", b)):
        (tmp_path / name).mkdir()
        paths[name] = tmp_path / name / "image.nii.gz"
        write_volume(vol, None, paths[name])
    g = a.geometry
    coarse = Geometry((6, 15, 20), (2.0, 2.0, 4.0), g.origin, g.direction)
    lab = np.zeros(coarse.shape_zyx, np.uint16)
    lab[1:4, 2:8, 3:9] = 3
    paths["coarse_label"] = tmp_path / "case_a" / "coarse_label.nii.gz"
    write_volume(lab, coarse, paths["coarse_label"])
    return paths


@pytest.fixture
def app(window, qtbot):
    """The window with editing and autosave (timer far away: the tests save explicitly)."""
    ctl = install_editing(window, autosave_interval_s=3600)
    yield window, ctl
    if ctl.autosave is not None:
        ctl.autosave.stop(clean=True)


class Answers:
    """Stands in for the user at QMessageBox.question: pops the next answer and keeps the texts
    (the tests count them); with no answer left (the window closing at teardown) Discard."""

    def __init__(self, monkeypatch):
        self.queue: list = []
        self.texts: list[str] = []
        monkeypatch.setattr(Q, "question", self)

    def __call__(self, _parent, _title, text, *args, **kwargs):
        self.texts.append(text)
        return self.queue.pop(0) if self.queue else Q.Discard


def activate(qtbot, window) -> None:
    """Make the window the active one again (a closed modal dialog leaves none active), so
    its shortcuts fire."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is window, timeout=5000)


def ctrl_o(qtbot, window, monkeypatch, path) -> None:
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    activate(qtbot, window)
    qtbot.keyClick(window, QtCore.Qt.Key_O, QtCore.Qt.ControlModifier)


def ctrl_d_and_load(qtbot, window, monkeypatch, folder) -> None:
    """Ctrl+D, then the study browser's Load button once the scan has listed the series."""
    from viewer.qt.study_browser import StudyBrowser

    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))

    def click_load():
        dlg = QtWidgets.QApplication.activeModalWidget()
        if isinstance(dlg, StudyBrowser) and dlg.scan is not None and not dlg.busy():
            qtbot.mouseClick(dlg.load_button, QtCore.Qt.LeftButton)
        else:
            QtCore.QTimer.singleShot(20, click_load)

    QtCore.QTimer.singleShot(20, click_load)
    activate(qtbot, window)
    qtbot.keyClick(window, QtCore.Qt.Key_D, QtCore.Qt.ControlModifier)


def drop(window, path) -> None:
    """Drag `path` over the window and drop it (the events a file manager's drag sends)."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = QtCore.QPoint(window.width() // 2, window.height() // 2)
    copy, no_button, no_mod = QtCore.Qt.CopyAction, QtCore.Qt.NoButton, QtCore.Qt.NoModifier
    enter = QtGui.QDragEnterEvent(pos, copy, mime, no_button, no_mod)
    QtWidgets.QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QtWidgets.QApplication.sendEvent(
        window, QtGui.QDropEvent(QtCore.QPointF(pos), copy, mime, no_button, no_mod)
    )


def recent(window, path) -> None:
    action = next(a for a in window.recent_menu.actions() if a.text() == str(path))
    action.trigger()


def paint(qtbot, window, ctl, row: int = 12) -> np.ndarray:
    """A brush stroke along `row` of the axial view (real mouse events); returns the labels."""
    ctl.select_tool("brush")
    ctl.tools_panel.options_for("brush").size.setValue(4.0)
    doc = window.document
    ax = window.slice_views["axial"]
    z = ax.slice_index
    drag(qtbot, ax, [viewport_pos(ax, (z, row, x), doc) for x in (10, 14, 18)])
    ctl.select_tool(None)
    assert ctl.has_unsaved_changes()
    return doc.labels.array.copy()


def autosave_folders() -> dict[str, dict]:
    """The recovery area's session folders and their meta, read from disk."""
    root = recovery_root()
    out = {}
    for meta in sorted(root.glob("session-*/meta.json")) if root.is_dir() else []:
        out[meta.parent.name] = json.loads(meta.read_text())
    return out


def _crashed_entry_for(path, labels) -> None:
    """An autosave of `path` left by a crashed session, holding `labels`."""
    from viewer.io import load_volume
    from viewer.model.document import Document

    doc = Document(load_volume(str(path)))
    doc.replace_labels(labels)
    crashed = AutosaveService(doc)
    crashed.save_now()
    crashed.stop(clean=False)


PATHS = ["ctrl_o", "ctrl_d", "drop", "recent", "label_file", "recovery", "close"]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_asks_and_cancel_keeps_discard_goes_on(app, studies, qtbot, monkeypatch, path):
    window, ctl = app
    if path == "recent":
        ctrl_o(qtbot, window, monkeypatch, studies["case_b"])  # now in the recent list
    ctrl_o(qtbot, window, monkeypatch, studies["case_a"])
    doc_a = window.document
    assert doc_a.volume.source_path == str(studies["case_a"])
    painted = paint(qtbot, window, ctl)
    if path == "recovery":
        other = np.zeros_like(painted)
        other[2:5, 3:6, 4:7] = 1
        _crashed_entry_for(studies["case_a"], other)
    answers = Answers(monkeypatch)

    def attempt():
        if path == "ctrl_o":
            ctrl_o(qtbot, window, monkeypatch, studies["case_b"])
        elif path == "ctrl_d":
            ctrl_d_and_load(qtbot, window, monkeypatch, DICOM)
        elif path == "drop":
            drop(window, studies["case_b"])
        elif path == "recent":
            recent(window, studies["case_b"])
        elif path == "label_file":
            ctrl_l = studies["coarse_label"]
            monkeypatch.setattr(
                QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(ctrl_l), "")
            )
            activate(qtbot, window)
            qtbot.keyClick(window, QtCore.Qt.Key_L, QtCore.Qt.ControlModifier)
        elif path == "recovery":
            answers.queue.insert(0, Q.Yes)  # "Recover these labels?" comes first
            offer_recovery(window)
        elif path == "close":
            window.close()

    answers.queue.append(Q.Cancel)
    attempt()
    assert answers.queue == []
    assert len(answers.texts) == (2 if path == "recovery" else 1)
    assert "unsaved" in answers.texts[-1]
    assert window.document is doc_a and window.isVisible()
    assert np.array_equal(doc_a.labels.array, painted)
    assert ctl.has_unsaved_changes()
    assert window.errors == []

    answers.queue.append(Q.Discard)
    attempt()
    assert answers.queue == []
    if path == "close":
        assert not window.isVisible()
    elif path == "label_file":
        expected = load_label_for(doc_a.volume, str(studies["coarse_label"])).array
        assert window.document is doc_a
        assert np.array_equal(doc_a.labels.array, expected)
    elif path == "recovery":
        assert window.document.volume.source_path == str(studies["case_a"])
        assert np.array_equal(window.document.labels.array, other)
    else:
        assert window.document is not doc_a
        expected_source = str(DICOM) if path == "ctrl_d" else str(studies["case_b"])
        assert window.document.volume.source_path == expected_source
        assert not ctl.has_unsaved_changes()
    assert window.errors == []


def test_save_answer_saves_before_opening(app, studies, qtbot, monkeypatch, tmp_path):
    window, ctl = app
    ctrl_o(qtbot, window, monkeypatch, studies["case_a"])
    doc_a = window.document
    painted = paint(qtbot, window, ctl)
    answers = Answers(monkeypatch)
    target = tmp_path / "case_a" / "a_labels.nii.gz"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    answers.queue.append(Q.Save)
    ctrl_o(qtbot, window, monkeypatch, studies["case_b"])
    assert window.document.volume.source_path == str(studies["case_b"])
    saved = load_label_for(doc_a.volume, str(target)).array
    assert np.array_equal(saved, painted)


def test_a_cancelled_or_failed_save_does_not_go_on(app, studies, qtbot, monkeypatch, tmp_path):
    window, ctl = app
    ctrl_o(qtbot, window, monkeypatch, studies["case_a"])
    doc_a = window.document
    painted = paint(qtbot, window, ctl)
    answers = Answers(monkeypatch)
    # the dialog cancelled, then a file name no label writer knows (the save fails)
    for chosen in ("", str(tmp_path / "labels.png")):
        monkeypatch.setattr(
            QtWidgets.QFileDialog, "getSaveFileName", lambda *a, c=chosen, **k: (c, "")
        )
        answers.queue.append(Q.Save)
        drop(window, studies["case_b"])
        assert answers.queue == []
        assert window.document is doc_a
        assert np.array_equal(doc_a.labels.array, painted) and ctl.has_unsaved_changes()
    assert len(window.errors) == 1 and str(tmp_path / "labels.png") in window.errors[0]
    assert not (tmp_path / "labels.png").exists()


def test_opening_another_study_never_overwrites_the_first_ones_autosave(
    app, studies, qtbot, monkeypatch
):
    window, ctl = app
    ctrl_o(qtbot, window, monkeypatch, studies["case_a"])
    painted_a = paint(qtbot, window, ctl)
    assert ctl.autosave.save_now()
    ((folder_a, meta_a),) = autosave_folders().items()
    assert meta_a["image_path"] == str(studies["case_a"])
    answers = Answers(monkeypatch)
    answers.queue.append(Q.Cancel)
    ctrl_o(qtbot, window, monkeypatch, studies["case_b"])
    assert autosave_folders() == {folder_a: meta_a}  # cancelled: A's autosave untouched
    answers.queue.append(Q.Discard)
    ctrl_o(qtbot, window, monkeypatch, studies["case_b"])
    assert autosave_folders() == {}  # discarded explicitly: nothing of A is kept
    painted_b = paint(qtbot, window, ctl)
    assert ctl.autosave.save_now()
    ((folder_b, meta_b),) = autosave_folders().items()
    assert folder_b != folder_a and meta_b["image_path"] == str(studies["case_b"])
    ctl.autosave.stop(clean=False)  # a crash now
    ctl.autosave = None
    (entry,) = find_recoverable()
    assert entry.image_path == str(studies["case_b"])
    from viewer.services.autosave import recover

    assert np.array_equal(recover(entry)[0], painted_b)
    assert not np.array_equal(painted_a, np.zeros_like(painted_a))
    assert os.path.basename(entry.folder) == folder_b
