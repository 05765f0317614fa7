"""Opening label files in the GUI (File > Open label) and in `screenshot --label`: every format,
names and colours into the segment table, one undoable "Open labels" step, Ctrl+S round trip."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PyQt5 import QtWidgets
from qt_helpers import phantom_document

from viewer.commands.segment_commands import RenameSegment
from viewer.io import load_volume, open_labels, write_volume
from viewer.io.labels.load_save import save_labels
from viewer.model.document import Document
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.qt.panels import install_editing


def _new_labels(doc) -> np.ndarray:
    a = np.zeros(doc.labels.array.shape, np.uint16)
    a[2:6, 10:20, 10:20] = 3
    a[8:12, 25:35, 5:15] = 7
    return a


def _table() -> SegmentTable:
    t = SegmentTable()
    t.add("liver", (200, 100, 50), segment_id=3)
    t.add("cyst", (10, 20, 250), segment_id=7)
    return t


@pytest.mark.parametrize("name", ["l.seg.nrrd", "l.nii.gz", "l.nrrd", "l.mha"])
def test_open_label_is_one_undoable_step_with_the_files_segments(window, editing, tmp_path, name):
    ctl, doc = editing
    before = doc.labels.array.copy()
    new = _new_labels(doc)
    path = tmp_path / name
    if name.endswith(".seg.nrrd"):
        save_labels(path, LabelMap(doc.geometry, new), _table())
    else:
        write_volume(new, doc.geometry, str(path))
    assert window.open_label(str(path)) and not window.errors
    np.testing.assert_array_equal(doc.labels.array, new)
    assert doc.segments.ids() == [3, 7]
    if name.endswith(".seg.nrrd"):
        assert [(s.name, s.colour) for s in doc.segments] == [
            ("liver", (200, 100, 50)),
            ("cyst", (10, 20, 250)),
        ]
    assert ctl.history.undo_name() == f"Open labels {name}"
    assert not ctl.has_unsaved_changes()
    # MetaImage is read only: Ctrl+S must ask for a file rather than write .mha
    assert doc.label_path == ("" if name.endswith(".mha") else str(path))
    ctl.edit_menu.undo_action.trigger()
    np.testing.assert_array_equal(doc.labels.array, before)
    assert doc.segments.ids() == [1] and doc.label_path == ""
    assert ctl.has_unsaved_changes()
    ctl.edit_menu.redo_action.trigger()
    np.testing.assert_array_equal(doc.labels.array, new)
    assert doc.segments.ids() == [3, 7]


def test_ctrl_s_after_open_writes_names_and_colours(window, editing, tmp_path):
    ctl, doc = editing
    path = tmp_path / "l.seg.nrrd"
    save_labels(path, LabelMap(doc.geometry, _new_labels(doc)), _table())
    assert window.open_label(str(path))
    ctl.execute(RenameSegment(7, "renal cyst"))
    assert ctl.has_unsaved_changes()
    ctl.edit_menu.save_action.trigger()  # Ctrl+S: to the file the labels came from, atomically
    assert not ctl.has_unsaved_changes() and not window.errors
    back = open_labels(doc.volume, path)
    assert [(s.id, s.name, s.colour) for s in back.segments] == [
        (3, "liver", (200, 100, 50)),
        (7, "renal cyst", (10, 20, 250)),
    ]
    np.testing.assert_array_equal(back.labelmap.array, doc.labels.array)
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left beside it


def test_plain_label_keeps_the_open_names_of_its_values(window, editing, tmp_path):
    ctl, doc = editing
    ctl.execute(RenameSegment(1, "kidney"))
    write_volume(doc.labels.array, doc.geometry, str(tmp_path / "same.nii.gz"))
    assert window.open_label(str(tmp_path / "same.nii.gz"))
    assert [s.name for s in doc.segments] == ["kidney"]


def test_overlapping_layers_are_flattened_with_a_note(window, editing, tmp_path, monkeypatch):
    ctl, doc = editing
    layers = LabelLayers(doc.geometry, [], [])
    a = np.zeros(doc.labels.array.shape, bool)
    a[2:8, 10:20, 10:20] = True
    b = np.zeros_like(a)
    b[6:10, 10:20, 10:20] = True
    layers.add_mask(SegmentInfo(1, "kidney", (255, 0, 0)), a)
    layers.add_mask(SegmentInfo(2, "tumour", (0, 255, 0)), b)
    path = save_labels(tmp_path / "o.seg.nrrd", layers)
    assert window.open_label(str(path))
    message = window.statusBar().currentMessage()
    assert "o.seg.nrrd" in message and "200 voxels belong to more than one segment" in message
    assert "kidney 200" in message
    assert np.count_nonzero(doc.labels.array == 2) == np.count_nonzero(b)
    # Ctrl+S must not write the flattened copy over the file that holds the overlaps
    assert "Save asks for a new file: its overlapping segments were flattened" in message
    assert doc.label_path == ""
    before = path.read_bytes()
    ctl.execute(RenameSegment(2, "mass"))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    ctl.edit_menu.save_action.trigger()  # asks for a file; cancelled
    assert path.read_bytes() == before
    back = open_labels(doc.volume, path)
    assert back.layers.overlap_voxels() == 200


def test_label_on_another_grid_is_not_saved_back_over_its_file(window, editing, tmp_path):
    ctl, doc = editing
    from viewer.model.geometry import Geometry

    g = doc.geometry
    z, y, x = g.shape_zyx
    fine = Geometry((z, 2 * y, 2 * x), (g.spacing[0] / 2, g.spacing[1] / 2, g.spacing[2]), g.origin)
    a = np.zeros(fine.shape_zyx, np.uint16)
    a[2:6, 20:40, 20:40] = 5
    path = tmp_path / "fine.nii.gz"
    write_volume(a, fine, str(path))
    assert window.open_label(str(path)) and not window.errors
    assert doc.label_path == ""
    assert "Save asks for a new file: its labels were placed on the image's grid" in (
        window.statusBar().currentMessage()
    )


def test_bad_label_file_is_an_error_and_keeps_the_labels(window, editing, tmp_path):
    ctl, doc = editing
    before = doc.labels.array.copy()
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    assert not window.open_label(str(tmp_path / "x.png"))
    assert len(window.errors) == 1 and "x.png" in window.errors[0]
    assert "unknown label file type" in window.errors[0]
    far = tmp_path / "far.nii.gz"
    g = doc.geometry
    from viewer.model.geometry import Geometry

    elsewhere = Geometry(g.shape_zyx, g.spacing, (9000.0, 0.0, 0.0))
    write_volume(before, elsewhere, str(far))
    assert not window.open_label(str(far))
    assert "far.nii.gz" in window.errors[1] and "does not overlap" in window.errors[1]
    np.testing.assert_array_equal(doc.labels.array, before)
    assert not ctl.history.can_undo()


@functools.lru_cache(maxsize=1)
def _ct3(path: str):
    return load_volume(path)


def test_dicom_seg_opens_onto_its_series(window, real_data, tmp_path, monkeypatch):
    ctl = install_editing(window, autosave=False)
    d = real_data / "seg" / "ct_abdomen_3slice"
    volume = _ct3(str(d / "dicom"))
    window.set_document(Document(volume))
    doc = window.document
    assert window.open_label(str(d / "liver_dicom_seg.dcm")) and not window.errors
    reference = open_labels(volume, d / "liver_seg.nrrd").labelmap.array
    np.testing.assert_array_equal(doc.labels.array > 0, reference > 0)
    assert [s.name for s in doc.segments] == ["Liver"]
    assert ctl.history.undo_name() == "Open labels liver_dicom_seg.dcm"
    # a SEG is read only here: Ctrl+S asks where to save (.seg.nrrd keeps the name and colour)
    out = tmp_path / "liver.seg.nrrd"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    assert doc.label_path == "" and ctl.save_labels()
    back = open_labels(volume, out)
    assert [(s.name, s.colour) for s in back.segments] == [(s.name, s.colour) for s in doc.segments]


def test_screenshot_label_uses_the_files_colours(qapp_configured, tmp_path):
    from PyQt5 import QtGui

    from viewer.cli.main import run_cli
    from viewer.qt.screenshot import qimage_to_rgb

    doc = phantom_document()
    image = tmp_path / "image.nii.gz"
    write_volume(doc.volume.array, doc.geometry, str(image))
    counts = {}
    for colour in ((255, 0, 0), (0, 0, 255)):
        table = SegmentTable()
        table.add("block", colour, segment_id=1)
        label = save_labels(tmp_path / f"{colour[0]}.seg.nrrd", doc.labels, table)
        out = tmp_path / f"{colour[0]}.png"
        argv = ["screenshot", str(image), "--label", str(label), "--view", "axial"]
        assert run_cli([*argv, "--slice", "10", "--size", "128", "--out", str(out)]) == 0
        rgb = qimage_to_rgb(QtGui.QImage(str(out))).astype(int)
        counts[colour] = (
            int(np.count_nonzero(rgb[..., 0] > rgb[..., 2] + 60)),
            int(np.count_nonzero(rgb[..., 2] > rgb[..., 0] + 60)),
        )
    red, blue = counts[(255, 0, 0)], counts[(0, 0, 255)]
    # the view's own red/yellow text and lines are in both pictures; the label block is not
    assert red[0] - blue[0] > 200 and red[1] == 0
    assert blue[1] > 200


@pytest.mark.timeout(120)
def test_a_label_with_65535_segments_opens_with_its_table_and_statistics(window, editing, tmp_path):
    """Issue 20 item 7: every voxel its own value. Building the segment table searched it once
    per added segment (labels x labels) and the statistics failed on value 65535; the table
    now lists every segment (no cap) and the statistics fill in."""
    from viewer.model import Geometry, Volume

    ctl, _ = editing
    shape = (16, 64, 64)
    geo = Geometry(shape, spacing=(0.5, 0.5, 2.0))
    image = (np.arange(65536, dtype=np.int32).reshape(shape) % 1000).astype(np.int16)
    window.set_document(Document(Volume(image, geo, modality="CT")))
    path = tmp_path / "every_voxel.nii.gz"
    write_volume(np.arange(65536, dtype=np.uint16).reshape(shape), geo, str(path))
    assert window.open_label(str(path)) and not window.errors
    assert len(window.document.segments) == 65535
    panel = ctl.segments_panel
    assert panel.table.rowCount() == 65535
    panel.refresh_stats()
    row = 65534  # value 65535, intensity 65535 % 1000 = 535
    assert panel.segment_id_at(row) == 65535
    assert [panel.table.item(row, c).text() for c in (4, 5, 6, 8, 9)] == [
        "1",
        "0.001",
        "535",
        "535",
        "535",
    ]
