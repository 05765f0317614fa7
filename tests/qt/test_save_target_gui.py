"""Issue 13, friction: the save dialog starts in the image's folder with `<image stem>_labels`
(the last used folder and suffix when that is all there is), the recovery prompt names the
image's full path, and recovered labels keep the file they were saved to before the crash.
Only the file dialogs and message box answers are patched."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets
from qt_helpers import phantom_document
from test_unsaved_guard_gui import DICOM, Answers, activate, ctrl_d_and_load, ctrl_o, paint

from viewer.io import load_label_for, write_volume
from viewer.model.volume import Volume
from viewer.qt.panels import install_editing, offer_recovery
from viewer.qt.save_target import image_stem

Q = QtWidgets.QMessageBox


class SaveDialog:
    """Stands in for QFileDialog.getSaveFileName: keeps the proposed path, answers `reply`."""

    def __init__(self, monkeypatch, reply: str = ""):
        self.proposed: list[str] = []
        self.reply = reply
        monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", self)

    def __call__(self, _parent, _caption, directory="", *args, **kwargs):
        self.proposed.append(directory)
        return (self.reply, "")


def ctrl_s(qtbot, window) -> None:
    activate(qtbot, window)
    qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)


@pytest.fixture
def app(window):
    return window, install_editing(window, autosave=False)


@pytest.mark.parametrize(
    "name, proposed",
    [
        ("image.nii.gz", "image_labels.nii.gz"),
        ("t1.nii", "t1_labels.nii.gz"),
        ("brain.nrrd", "brain_labels.nii.gz"),
        ("scan.v2.mha", "scan.v2_labels.nii.gz"),
    ],
)
def test_save_dialog_starts_beside_the_image_with_its_stem(
    app, qtbot, monkeypatch, tmp_path, name, proposed
):
    window, _ = app
    image = tmp_path / "case_007" / name
    image.parent.mkdir()
    write_volume(phantom_document(shape=(6, 10, 12)).volume, None, image)
    ctrl_o(qtbot, window, monkeypatch, image)
    dialog = SaveDialog(monkeypatch)
    ctrl_s(qtbot, window)
    assert dialog.proposed == [str(tmp_path / "case_007" / proposed)]


def test_save_dialog_for_a_dicom_series_starts_beside_its_folder(app, qtbot, monkeypatch):
    window, _ = app
    ctrl_d_and_load(qtbot, window, monkeypatch, DICOM)
    assert window.document.volume.source_path == str(DICOM)
    dialog = SaveDialog(monkeypatch)
    ctrl_s(qtbot, window)
    # no series description in these files: the series folder's name
    assert dialog.proposed == [str(DICOM.parent / "non_isotropic_labels.nii.gz")]


def test_dicom_series_description_names_the_labels():
    vol = phantom_document(shape=(4, 6, 8)).volume
    dicom = Volume(
        vol.array,
        vol.geometry,
        "MR",
        "/data/study/series_6",
        "#6 REST1 w SMS PF7-8",
        {"format": "DICOM", "SeriesDescription": "#6 REST1 w SMS PF7-8"},
    )
    assert image_stem(dicom) == "6_REST1_w_SMS_PF7-8"
    dicom.metadata["SeriesDescription"] = ""
    assert image_stem(dicom) == "series_6"


def test_last_folder_and_suffix_are_remembered(app, qtbot, monkeypatch, tmp_path):
    window, _ = app
    window.set_document(phantom_document())  # made in memory: no folder of its own
    out = tmp_path / "labels"
    out.mkdir()
    dialog = SaveDialog(monkeypatch, str(out / "first.seg.nrrd"))
    ctrl_s(qtbot, window)
    assert dialog.proposed == [os.path.join(os.path.expanduser("~"), "phantom_labels.nii.gz")]
    assert (out / "first.seg.nrrd").is_file()
    image = tmp_path / "case" / "image.nii.gz"
    image.parent.mkdir()
    write_volume(phantom_document(shape=(6, 10, 12)).volume, None, image)
    ctrl_o(qtbot, window, monkeypatch, image)
    dialog = SaveDialog(monkeypatch)
    ctrl_s(qtbot, window)
    assert dialog.proposed == [str(tmp_path / "case" / "image_labels.seg.nrrd")]
    window.set_document(phantom_document())
    dialog = SaveDialog(monkeypatch)
    ctrl_s(qtbot, window)
    assert dialog.proposed == [str(out / "phantom_labels.seg.nrrd")]


def test_recovery_prompt_names_the_full_path(window, monkeypatch, tmp_path):
    from test_unsaved_guard_gui import _crashed_entry_for

    image = tmp_path / "case_007" / "image.nii.gz"
    image.parent.mkdir()
    write_volume(phantom_document(shape=(6, 10, 12)).volume, None, image)
    labels = np.zeros((6, 10, 12), np.uint16)
    labels[1:3, 2:4, 3:5] = 1
    _crashed_entry_for(image, labels)
    answers = Answers(monkeypatch)
    answers.queue.append(Q.No)
    assert not offer_recovery(window)
    (text,) = answers.texts
    assert f"{image}: labels autosaved" in text


def restart(qtbot):
    """A second main window, as the next start of the program after a crash."""
    from viewer.qt.main_window import MainWindow

    restarted = MainWindow()
    qtbot.addWidget(restarted)
    restarted.show()
    qtbot.waitExposed(restarted)
    install_editing(restarted, autosave=False)
    return restarted


def test_recovered_labels_save_where_they_were_saved_before_the_crash(
    window, qtbot, monkeypatch, tmp_path
):
    ctl = install_editing(window, autosave_interval_s=3600)
    image = tmp_path / "case_007" / "image.nii.gz"
    image.parent.mkdir()
    write_volume(phantom_document(shape=(12, 30, 40)).volume, None, image)
    ctrl_o(qtbot, window, monkeypatch, image)
    paint(qtbot, window, ctl)
    target = tmp_path / "case_007" / "lesion.nii.gz"
    SaveDialog(monkeypatch, str(target))
    ctrl_s(qtbot, window)
    assert target.is_file()
    first = window.document.labels.array.copy()
    expected = paint(qtbot, window, ctl, row=22)  # an edit after the save, then a crash
    assert not np.array_equal(expected, first)
    assert ctl.autosave.save_now()
    ctl.autosave.stop(clean=False)
    ctl.autosave = None

    restarted = restart(qtbot)
    answers = Answers(monkeypatch)
    answers.queue.append(Q.Yes)
    assert offer_recovery(restarted)
    assert restarted.document.volume.source_path == str(image)
    dialog = SaveDialog(monkeypatch, str(tmp_path / "elsewhere.nii.gz"))
    ctrl_s(qtbot, restarted)
    assert dialog.proposed == []  # no dialog: the file the labels had before the crash
    saved = load_label_for(restarted.document.volume, str(target)).array
    assert np.array_equal(saved, expected)
    assert not restarted.editing.has_unsaved_changes()


def test_recovery_reopens_a_dicom_series_by_its_uid(window, qtbot, monkeypatch):
    from viewer.qt.study_browser import StudyBrowser

    ctl = install_editing(window, autosave_interval_s=3600)
    ctrl_d_and_load(qtbot, window, monkeypatch, DICOM)
    uid = window.document.volume.metadata["SeriesInstanceUID"]
    expected = paint(qtbot, window, ctl)
    assert ctl.autosave.save_now()
    ctl.autosave.stop(clean=False)  # a crash
    ctl.autosave = None

    restarted = restart(qtbot)
    browsers = []

    def close_browser():  # the study browser should not be needed: record and close it
        dlg = QtWidgets.QApplication.activeModalWidget()
        if isinstance(dlg, StudyBrowser):
            browsers.append(dlg)
            dlg.reject()

    timer = QtCore.QTimer()
    timer.timeout.connect(close_browser)
    timer.start(100)
    answers = Answers(monkeypatch)
    answers.queue.append(Q.Yes)
    try:
        assert offer_recovery(restarted)
    finally:
        timer.stop()
    assert browsers == []
    assert restarted.document.volume.metadata["SeriesInstanceUID"] == uid
    assert np.array_equal(restarted.document.labels.array, expected)
