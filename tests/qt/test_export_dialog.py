"""File > Export through the main window: each single-study format written from the open study
and read back equal (labels, geometry, names), DICOM SEG only for a DICOM study, an nnU-Net
dataset from a folder of two cases (asking before it writes into an existing one), and errors
as one line. Only the file dialogs' answers are stand-ins."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import write_series
from PyQt5 import QtCore, QtWidgets

from viewer.io import load_volume, open_labels, scan_dicom_folder
from viewer.io.mesh_export import segment_mesh
from viewer.model.statistics import segment_statistics, statistics_csv

DATA = Path(__file__).resolve().parents[1] / "data"
IMAGE = DATA / "prostate_phantom_image.nrrd"
LABEL = DATA / "prostate_phantom_label.nrrd"


def _open_export(qtbot, window):
    qtbot.keyClick(window, QtCore.Qt.Key_E, QtCore.Qt.ControlModifier)
    dialog = window.export_dialog
    qtbot.waitExposed(dialog)
    return dialog


def _click_format(qtbot, dialog, key: str) -> None:
    lst = dialog.format_list
    row = next(i for i in range(lst.count()) if lst.item(i).data(QtCore.Qt.UserRole) == key)
    rect = lst.visualItemRect(lst.item(row))
    qtbot.mouseClick(lst.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    assert dialog.current_format() == key


def _run_export(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy() and dialog.export_button.isEnabled(), timeout=60_000)


def _answer_save(monkeypatch, path: Path) -> list:
    asked = []

    def fake(parent, title, start, filters):
        asked.append((title, start, filters))
        return str(path), filters

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", fake)
    return asked


def _answer_dirs(monkeypatch, *paths: Path) -> None:
    answers = [str(p) for p in paths]
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: answers.pop(0)
    )


@pytest.fixture
def phantom_window(window):
    assert window.open_path(str(IMAGE)) and window.open_label(str(LABEL))
    return window


def _assert_same_grid(geometry, reference) -> None:
    np.testing.assert_allclose(geometry.spacing, reference.spacing, atol=1e-6)
    np.testing.assert_allclose(geometry.origin, reference.origin, atol=1e-5)
    np.testing.assert_allclose(geometry.direction, reference.direction, atol=1e-6)
    assert geometry.shape_zyx == reference.shape_zyx


@pytest.mark.parametrize(
    "fmt,name", [("nifti", "out.nii.gz"), ("nrrd", "out.nrrd"), ("seg-nrrd", "out.seg.nrrd")]
)
def test_label_file_formats_read_back_equal(
    phantom_window, qtbot, monkeypatch, tmp_path, fmt, name
):
    window = phantom_window
    doc = window.document
    doc.segments.get(7).name = "peripheral zone"  # a name the user gave
    out = tmp_path / name
    asked = _answer_save(monkeypatch, out)
    dialog = _open_export(qtbot, window)
    assert not dialog.is_enabled("dicom-seg")  # an NRRD study has no DICOM series to refer to
    _click_format(qtbot, dialog, fmt)
    _run_export(qtbot, dialog)
    assert dialog.error == "" and window.errors == []
    assert asked[0][1].endswith(
        "prostate_phantom_image_labels"
        + {"nifti": ".nii.gz", "nrrd": ".nrrd", "seg-nrrd": ".seg.nrrd"}[fmt]
    )
    assert Path(asked[0][1]).parent == DATA  # proposed beside the image
    back = open_labels(doc.volume, str(out))
    np.testing.assert_array_equal(back.labelmap.array, doc.labels.array)
    _assert_same_grid(back.labelmap.geometry, doc.volume.geometry)
    if fmt == "seg-nrrd":
        assert [(s.id, s.name) for s in back.segments] == [
            (1, "Segment 1"),
            (7, "peripheral zone"),
            (8, "Segment 8"),
            (9, "Segment 9"),
        ]
    assert dialog.message.text() == f"wrote {out}: 4 segments on [82, 67, 13]"


def test_statistics_csv_and_surfaces(phantom_window, qtbot, monkeypatch, tmp_path):
    window = phantom_window
    doc = window.document
    out = tmp_path / "stats.csv"
    _answer_save(monkeypatch, out)
    dialog = _open_export(qtbot, window)
    _click_format(qtbot, dialog, "stats-csv")
    _run_export(qtbot, dialog)
    assert out.read_text() == statistics_csv(segment_statistics(doc))
    assert len(out.read_text().splitlines()) == 5  # header + 4 segments
    # the same name again: the file dialog asked before replacing, so the export replaces it
    doc.segments.get(1).name = "renamed"
    _run_export(qtbot, dialog)
    assert window.errors == [] and out.read_text() == statistics_csv(segment_statistics(doc))
    assert "renamed" in out.read_text()
    doc.segments.get(1).name = "Segment 1"

    meshes = tmp_path / "meshes"
    _answer_dirs(monkeypatch, meshes)
    _click_format(qtbot, dialog, "stl")
    _run_export(qtbot, dialog)
    assert window.errors == []
    files = sorted(p.name for p in meshes.iterdir())
    assert files == ["1_Segment_1.stl", "7_Segment_7.stl", "8_Segment_8.stl", "9_Segment_9.stl"]
    for value in (1, 7, 8, 9):
        verts, faces = segment_mesh(doc.labels, value)
        data = (meshes / f"{value}_Segment_{value}.stl").read_bytes()
        (count,) = struct.unpack("<I", data[80:84])
        assert count == len(faces) and len(data) == 84 + 50 * len(faces)
        first = np.frombuffer(data[84 + 12 : 84 + 48], "<f4").reshape(3, 3)
        np.testing.assert_allclose(first, verts[faces[0]], rtol=1e-6, atol=1e-4)
    # the folder now holds surfaces: exporting again asks first (answered Cancel: untouched)
    asked = []
    monkeypatch.setattr(
        QtWidgets.QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QtWidgets.QMessageBox.Cancel,
    )
    before = {p.name: p.stat().st_mtime_ns for p in meshes.iterdir()}
    _answer_dirs(monkeypatch, meshes)
    qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    assert asked == [
        f"{meshes} already holds 4 of these STL surfaces (1_Segment_1.stl, 7_Segment_7.stl, "
        "8_Segment_8.stl, ...). Replace them?"
    ]
    assert {p.name: p.stat().st_mtime_ns for p in meshes.iterdir()} == before


def test_dicom_seg_from_a_dicom_study(window, qtbot, monkeypatch, tmp_path):
    folder = tmp_path / "dicom"
    write_series(folder, description="T2", number=3, slices=4, rows=16, columns=20)
    (series,) = scan_dicom_folder(folder).all_series()
    assert window.open_path(str(folder), series_uid=series.series_id)
    doc = window.document
    labels = np.zeros(doc.labels.array.shape, np.uint16)
    labels[1:3, 5:12, 4:15] = 1
    labels[2, 8:14, 10:18] = 2
    doc.replace_labels(labels)
    out = tmp_path / "seg.dcm"
    _answer_save(monkeypatch, out)
    dialog = _open_export(qtbot, window)
    assert dialog.is_enabled("dicom-seg")
    _click_format(qtbot, dialog, "dicom-seg")
    _run_export(qtbot, dialog)
    assert dialog.error == "" and window.errors == []
    back = open_labels(load_volume(folder), str(out))
    np.testing.assert_array_equal(back.labelmap.array, labels)
    _assert_same_grid(back.labelmap.geometry, doc.volume.geometry)


def test_errors_are_one_line(phantom_window, qtbot, monkeypatch, tmp_path):
    window = phantom_window
    out = tmp_path / "labels.txt"
    _answer_save(monkeypatch, out)
    dialog = _open_export(qtbot, window)
    _click_format(qtbot, dialog, "nifti")
    _run_export(qtbot, dialog)
    assert window.errors == [f"{out}: --format nifti needs a file name ending in .nii.gz"]
    assert not out.exists()


def _cases_folder(root: Path) -> Path:
    for name in ("case_a", "case_b"):
        d = root / name
        d.mkdir(parents=True)
        shutil.copy(IMAGE, d / "image.nrrd")
        shutil.copy(LABEL, d / "label.nrrd")
    (root / "notes").mkdir()  # not a case: listed as skipped
    return root


def test_nnunet_dataset_from_a_folder_of_two_cases(window, qtbot, monkeypatch, tmp_path):
    cases = _cases_folder(tmp_path / "cases")
    out = tmp_path / "datasets"
    out.mkdir()
    dialog = _open_export(qtbot, window)  # no study open: only datasets can be chosen
    assert not dialog.is_enabled("nifti") and not dialog.include_open.isEnabled()
    _click_format(qtbot, dialog, "nnunet")
    assert dialog.dataset_box.isVisible()
    _answer_dirs(monkeypatch, cases)
    add = next(
        b
        for b in dialog.findChildren(QtWidgets.QPushButton)
        if b.text() == "Add folder of cases..."
    )
    qtbot.mouseClick(add, QtCore.Qt.LeftButton)
    assert dialog.case_list.count() == 2
    assert dialog.message.text() == "skipped notes: needs image.* or dicom/ and label.*"
    qtbot.keyClicks(dialog.dataset_name, "Phantom")
    _answer_dirs(monkeypatch, out)
    _run_export(qtbot, dialog)
    assert dialog.error == "" and window.errors == []
    ds = out / "Dataset001_Phantom"
    assert sorted(str(p.relative_to(ds)) for p in ds.rglob("*")) == [
        "dataset.json",
        "imagesTr",
        "imagesTr/case_000_0000.nii.gz",
        "imagesTr/case_001_0000.nii.gz",
        "imagesTs",
        "labelsTr",
        "labelsTr/case_000.nii.gz",
        "labelsTr/case_001.nii.gz",
        "splits_final.json",
    ]
    meta = json.loads((ds / "dataset.json").read_text())
    assert meta["numTraining"] == 2 and meta["file_ending"] == ".nii.gz"
    assert meta["labels"] == {
        "background": 0,
        "Segment 1": 1,
        "Segment 7": 2,
        "Segment 8": 3,
        "Segment 9": 4,
    }
    image = load_volume(IMAGE)
    ref = open_labels(image, str(LABEL)).labelmap.array
    lut = np.zeros(10, np.uint16)
    lut[[1, 7, 8, 9]] = [1, 2, 3, 4]
    train = load_volume(ds / "labelsTr" / "case_001.nii.gz")
    np.testing.assert_array_equal(train.array, lut[ref])
    _assert_same_grid(train.geometry, image.geometry)

    # exporting again into the same dataset asks first; Cancel leaves it as it was
    asked = []
    monkeypatch.setattr(
        QtWidgets.QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QtWidgets.QMessageBox.Cancel,
    )
    before = {str(p): p.stat().st_mtime_ns for p in ds.rglob("*")}
    _answer_dirs(monkeypatch, out)
    qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    assert asked == [
        f"{ds} exists and is not empty. Replace that dataset? (It is replaced whole, once the "
        "new one is complete.)"
    ]
    assert {str(p): p.stat().st_mtime_ns for p in ds.rglob("*")} == before
    # Yes: the dataset is replaced whole (a stale file from before does not survive)
    (ds / "imagesTr" / "stale_0000.nii.gz").write_bytes(b"old")
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.Yes
    )
    _answer_dirs(monkeypatch, out)
    _run_export(qtbot, dialog)
    assert dialog.error == "" and window.errors == []
    assert sorted(p.name for p in (ds / "imagesTr").iterdir()) == [
        "case_000_0000.nii.gz",
        "case_001_0000.nii.gz",
    ]


def test_cancelled_dataset_export_leaves_no_folder(tmp_path):
    from viewer.services.export import DatasetRequest, ExportCancelled, export_dataset

    cases = _cases_folder(tmp_path / "cases")
    request = DatasetRequest(
        fmt="msd",
        out=str(tmp_path / "out"),
        dataset_id=3,
        name="Phantom",
        pairs=[
            (str(cases / c / "image.nrrd"), str(cases / c / "label.nrrd"))
            for c in ("case_a", "case_b")
        ],
    )
    seen = []

    def cancel_after_reading() -> bool:
        return any(text.startswith("writing") for _, text in seen)

    with pytest.raises(ExportCancelled):
        export_dataset(request, lambda f, text: seen.append((f, text)), cancel_after_reading)
    assert seen[:2] == [(0.0, "reading case 1/2"), (0.25, "reading case 2/2")]
    assert not (tmp_path / "out" / "Task03_Phantom").exists()


def test_cancel_in_the_progress_dialog_stops_a_dataset_export(window, qtbot, monkeypatch, tmp_path):
    import threading

    import viewer.services.export as service

    cases = _cases_folder(tmp_path / "cases")
    out = tmp_path / "datasets"
    gate = threading.Event()
    real_load = service.load_case

    def slow_load(*args, **kwargs):  # holds the first case until the user has cancelled
        gate.wait(30)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(service, "load_case", slow_load)
    dialog = _open_export(qtbot, window)
    _click_format(qtbot, dialog, "msd")
    _answer_dirs(monkeypatch, cases)
    dialog.add_folder_dialog()
    qtbot.keyClicks(dialog.dataset_name, "Phantom")
    _answer_dirs(monkeypatch, out)
    qtbot.mouseClick(dialog.export_button, QtCore.Qt.LeftButton)
    assert dialog.busy()
    qtbot.waitUntil(lambda: dialog.progress is not None and dialog.progress.isVisible())
    cancel = next(
        b for b in dialog.progress.findChildren(QtWidgets.QPushButton) if b.text() == "Cancel"
    )
    qtbot.mouseClick(cancel, QtCore.Qt.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: not dialog.busy() and dialog.export_button.isEnabled(), timeout=60_000)
    assert dialog.error == "cancelled" and dialog.message.text() == "Export cancelled"
    assert window.errors == []  # a cancel is not an error
    assert not out.exists()  # cancelled while reading the cases: nothing was written
