"""The PACS search panel in the study browser and File > Export DICOM SEG to PACS, driven with
real clicks and key presses through the main window, against the real Orthanc."""

from __future__ import annotations

import numpy as np
import pytest
from pacs_data import DICOM, MR_SERIES
from pacs_orthanc import PASSWORD, USER
from PyQt5 import QtCore

from viewer.io import load_volume
from viewer.io.pacs import save_connections
from viewer.io.pacs.credentials import keyring_set


@pytest.fixture
def window(qapp, qtbot, monkeypatch):
    from viewer.qt import pacs_auth
    from viewer.qt.app import configure_pyqtgraph
    from viewer.qt.main_window import MainWindow
    from viewer.qt.pacs_actions import install_pacs

    configure_pyqtgraph()
    pacs_auth._SESSION.clear()
    errors: list[str] = []
    monkeypatch.setattr(
        "PyQt5.QtWidgets.QMessageBox.critical", lambda *a, **k: errors.append(a[2]) or 0
    )
    w = MainWindow(with_3d=False)
    w.errors = errors
    install_pacs(w)
    qtbot.addWidget(w)
    w.resize(900, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def server(connection):
    save_connections([connection])
    return connection


def _local_document():
    """A study opened from a local file: what must stay open when the PACS fails."""
    from viewer.model.document import Document

    return Document(load_volume(DICOM / "MR_small.dcm"))


def _open_panel(window, qtbot):
    window.pacs.open_action.trigger()
    browser = window.pacs.browser
    qtbot.waitExposed(browser)
    assert browser.tabs.currentWidget() is browser.pacs_panel
    return browser, browser.pacs_panel


def _click(qtbot, widget):
    qtbot.mouseClick(widget, QtCore.Qt.LeftButton)


def _search(qtbot, panel, patient_id):
    qtbot.keyClicks(panel.patient_id, patient_id)
    _click(qtbot, panel.search_button)
    qtbot.waitUntil(
        lambda: not panel.busy() and panel.message.text() != "Searching...", timeout=20_000
    )


def _click_series(qtbot, panel, series_uid):
    item = panel.item_for(series_uid)
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    assert panel.selected_series().series_uid == series_uid


def test_search_select_and_load_opens_the_series(window, server, qtbot, memory_keyring):
    keyring_set(server.url, USER, PASSWORD)
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "dicom2nifti")
    assert panel.message.text() == "1 study, 1 series found"
    patient = panel.tree.topLevelItem(0)
    assert patient.text(0) == "dicom2nifti  [dicom2nifti]"
    series_item = patient.child(0).child(0)
    assert (series_item.text(0), series_item.text(1), series_item.text(2)) == (
        "#201 (no description)", "MR", "4"
    )  # fmt: skip
    qtbot.waitUntil(lambda: not series_item.icon(0).isNull(), timeout=10_000)  # server-rendered
    _click_series(qtbot, panel, MR_SERIES)
    _click(qtbot, panel.load_button)
    qtbot.waitUntil(lambda: window.document is not None, timeout=30_000)
    disk = load_volume(DICOM / "non_isotropic")
    assert window.document.geometry.same_grid(disk.geometry)
    np.testing.assert_array_equal(window.document.volume.array, disk.array)
    assert window.document.volume.metadata["pacs"]["series_uid"] == MR_SERIES
    assert not browser.isVisible() and window.errors == []


def test_wrong_password_says_so_and_keeps_the_open_study(window, server, qtbot, memory_keyring):
    keyring_set(server.url, USER, "wrong")
    doc = _local_document()
    window.set_document(doc)
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "dicom2nifti")
    message = (
        f"{server.url}: search: the server refused the user name, password or token (HTTP 401)"
    )
    assert window.errors == [message] and panel.message.text() == message
    assert panel.tree.topLevelItemCount() == 0
    assert window.document is doc and browser.isVisible()


def test_series_deleted_after_the_search_keeps_the_open_study(
    window, server, qtbot, memory_keyring, orthanc, client
):
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(DICOM / "MR_small.dcm")
    ds.PatientID, ds.PatientName = "gui-deleted", "Gui^Deleted"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    client.store_datasets([ds])
    keyring_set(server.url, USER, PASSWORD)
    doc = _local_document()
    window.set_document(doc)
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "gui-deleted")
    orthanc.delete_series(ds.SeriesInstanceUID)
    _click_series(qtbot, panel, ds.SeriesInstanceUID)
    _click(qtbot, panel.load_button)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=20_000)
    assert window.errors == [
        f"{server.url}: retrieve: the series is no longer on the server (deleted since the "
        "search?); search again"
    ]
    assert window.document is doc and browser.isVisible()


def test_export_seg_to_pacs_from_the_file_menu(window, server, qtbot, memory_keyring, client):
    keyring_set(server.url, USER, PASSWORD)
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "1CT1")
    ct = next(s for s in panel.series.values() if s.modality == "CT")
    _click_series(qtbot, panel, ct.series_uid)
    _click(qtbot, panel.load_button)
    qtbot.waitUntil(lambda: window.document is not None, timeout=30_000)
    doc = window.document
    array = np.zeros(doc.geometry.shape_zyx, np.uint16)
    array[0, 40:60, 40:70] = 3
    doc.replace_labels(array)
    before = [
        s.series_uid for st in client.search(patient_id="1CT1", modality="SEG") for s in st.series
    ]
    assert window.pacs.export_action.isEnabled()
    window.pacs.export_action.trigger()
    qtbot.waitUntil(lambda: not window.pacs.store_job.isRunning(), timeout=30_000)
    qtbot.waitUntil(lambda: window.pacs.last_store != "", timeout=5_000)
    assert window.pacs.last_store == f"Stored the DICOM SEG on {server.name} (1 instance)"
    after = [s for st in client.search(patient_id="1CT1", modality="SEG") for s in st.series]
    new = [s for s in after if s.series_uid not in before]
    assert len(new) == 1 and new[0].study_uid == ct.study_uid


def test_export_without_any_server_says_how_to_add_one(window, qtbot):
    window.set_document(_local_document())
    assert window.pacs.export_seg() is False
    assert window.errors == ["No PACS server yet: add one with File > PACS..."]


def test_servers_dialog_keeps_the_password_out_of_the_file(window, qtbot, memory_keyring):
    import os

    from viewer.io.pacs import load_connections
    from viewer.qt import pacs_auth
    from viewer.qt.pacs_connections import PacsConnectionsDialog

    dialog = PacsConnectionsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Main PACS")
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, "https://pacs.example.org/dicom-web")
    dialog.auth.setCurrentIndex(dialog.auth.findData("basic"))
    qtbot.keyClicks(dialog.username, "ann")
    qtbot.keyClicks(dialog.secret, "s3cret-pw")
    _click(qtbot, dialog.remember)
    assert dialog.remember.isChecked()
    _click(qtbot, dialog.apply_button)
    assert window.errors == [] and dialog.status.text() == "Saved Main PACS"
    (conn,) = load_connections()
    assert (conn.name, conn.url, conn.auth, conn.username) == (
        "Main PACS", "https://pacs.example.org/dicom-web", "basic", "ann"
    )  # fmt: skip
    path = os.path.join(os.environ["RADLABEL_DATA_DIR"], "pacs_connections.json")
    assert "s3cret-pw" not in open(path, encoding="utf-8").read()
    assert memory_keyring.store == {("RadLabel PACS " + conn.url, "ann"): "s3cret-pw"}
    # without "remember": the keyring entry goes, the password lives in this session only
    qtbot.keyClicks(dialog.secret, "other-pw")
    _click(qtbot, dialog.remember)
    _click(qtbot, dialog.apply_button)
    assert memory_keyring.store == {}
    assert pacs_auth.credentials_for(window, conn).password == "other-pw"
    assert "other-pw" not in open(path, encoding="utf-8").read()


def test_cancel_during_retrieval_keeps_the_open_study(window, server, qtbot, memory_keyring):
    import time

    from viewer.io.pacs import cache

    keyring_set(server.url, USER, PASSWORD)
    doc = _local_document()
    window.set_document(doc)
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "dicom2nifti")
    real_iter = panel.client.client.iter_series

    def slow_iter(*args, **kwargs):  # a slow network: one instance per 0.3 s
        for ds in real_iter(*args, **kwargs):
            time.sleep(0.3)
            yield ds

    panel.client.client.iter_series = slow_iter
    root = cache.cache_root()
    _click_series(qtbot, panel, MR_SERIES)
    _click(qtbot, panel.load_button)
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=10_000)
    assert panel.cancel_button.isEnabled() and not panel.load_button.isEnabled()
    _click(qtbot, panel.cancel_button)
    # the thread ends first, then its queued result sets the message: wait for both
    qtbot.waitUntil(
        lambda: not panel.busy() and panel.message.text() != "Cancelling...", timeout=10_000
    )
    assert panel.message.text() == f"{server.url}: retrieval cancelled"
    assert window.errors == [] and window.document is doc and browser.isVisible()
    folder = cache.series_dir(root, server.url, *_uids(panel))
    assert not folder.exists() and not list(folder.parent.glob("*.partial-*"))
    assert panel.load_button.isEnabled()


def _uids(panel):
    s = panel.selected_series()
    return s.study_uid, s.series_uid


def test_unsaved_labels_question_before_a_pacs_study_replaces_them(
    window, server, qtbot, memory_keyring, monkeypatch
):
    from PyQt5 import QtWidgets

    from viewer.commands.segment_commands import RenameSegment
    from viewer.qt.panels import install_editing

    ctl = install_editing(window, autosave=False)
    keyring_set(server.url, USER, PASSWORD)
    doc = _local_document()
    doc.segments.add("Lesion", (255, 0, 0), segment_id=1)
    window.set_document(doc)
    ctl.execute(RenameSegment(1, "Changed"))
    assert ctl.has_unsaved_changes()
    asked = []
    monkeypatch.setattr(
        QtWidgets.QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QtWidgets.QMessageBox.Cancel,
    )
    browser, panel = _open_panel(window, qtbot)
    _search(qtbot, panel, "dicom2nifti")
    _click_series(qtbot, panel, MR_SERIES)
    _click(qtbot, panel.load_button)
    qtbot.waitUntil(lambda: bool(asked), timeout=30_000)
    assert asked == ["The labels have unsaved changes. Save them before opening MR?"]
    assert window.document is doc  # Cancel: the open study and its labels stay
