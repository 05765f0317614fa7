"""Issue 18: a label format is one module and one registry entry. A dummy format registered in
a few lines is offered by the real open and save dialogs (Ctrl+L, Ctrl+S) and the export dialog,
and is saved and opened by its suffix through the main window. Only the file dialogs are
patched (they are native windows)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets
from qt_helpers import phantom_document
from test_unsaved_guard_gui import activate, ctrl_o, paint

from viewer.errors import LoadError
from viewer.io import write_volume
from viewer.io.atomic_save import atomic_write_bytes
from viewer.io.labels import registry
from viewer.io.labels.format import LabelFormat
from viewer.io.labels.load_save import load_labels, save_labels
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.qt.panels import install_editing
from viewer.services.export import export_study


# --- the whole dummy format: a reader, a writer, one registration -------------------------------
def read_dummy(path):
    z = np.load(path)
    g = Geometry(z["labels"].shape, tuple(z["spacing"]), tuple(z["origin"]), z["direction"])
    return LabelLayers.from_labelmap(LabelMap(g, z["labels"])), False


def write_dummy(layers, path):
    g, buf = layers.geometry, io.BytesIO()
    np.savez(buf, labels=layers.to_labelmap().array, spacing=g.spacing, origin=g.origin,
             direction=g.direction)  # fmt: skip
    return atomic_write_bytes(path, buf.getvalue())


DUMMY = LabelFormat("dummy", "Dummy labels", (".dmy",), read=read_dummy, write=write_dummy)


@pytest.fixture
def dummy_format():
    registry.register(DUMMY)
    yield DUMMY
    registry.unregister("dummy")


class FileDialogs:
    """Stands in for QFileDialog's open and save: records each filter, answers `reply`."""

    def __init__(self, monkeypatch, reply):
        self.filters: dict[str, str] = {}
        self.reply = str(reply)
        monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", self.ask("save"))
        monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", self.ask("open"))

    def ask(self, kind):
        def answer(_parent, _caption, _directory="", filter="", *args, **kwargs):  # noqa: A002
            self.filters[kind] = filter
            return (self.reply, "")

        return answer


def test_filters_come_from_the_registry(dummy_format):
    assert "*.dmy" in registry.save_filter()
    assert "Dummy labels (*.dmy)" in registry.open_filter().split(";;")
    assert registry.format_for_name("case.DMY") is dummy_format
    registry.unregister("dummy")
    assert "*.dmy" not in registry.save_filter() + registry.open_filter()
    # .nhdr is read (with its data file) but never written: a save never offers it
    assert registry.save_filter() == "Label files (*.nii.gz *.nii *.seg.nrrd *.nrrd)"
    assert "*.nhdr" in registry.open_filter()
    with pytest.raises(LoadError) as e:
        registry.save_format("case.nhdr")
    assert (
        e.value.message
        == "case.nhdr: RadLabel reads .nhdr labels but does not write them (use .nrrd)"
    )


def test_saved_and_opened_by_suffix_with_geometry(dummy_format, tmp_path):
    doc = phantom_document(direction=np.diag([-1.0, 1.0, 1.0]))
    path = save_labels(tmp_path / "l.dmy", doc.labels, doc.segments)
    loaded = load_labels(path, doc.geometry)
    assert loaded.format == "dummy"
    assert loaded.how == "same grid"
    np.testing.assert_array_equal(loaded.labelmap.array, doc.labels.array)
    assert loaded.source_geometry.same_grid(doc.geometry)


def test_dummy_format_in_the_main_window_dialogs(
    window, qtbot, monkeypatch, tmp_path, dummy_format
):
    ctl = install_editing(window, autosave=False)
    image = tmp_path / "image.nii.gz"
    write_volume(phantom_document(shape=(6, 30, 30)).volume, None, image)
    ctrl_o(qtbot, window, monkeypatch, image)
    painted = paint(qtbot, window, ctl)
    assert np.count_nonzero(painted) > 0
    out = tmp_path / "painted.dmy"
    dialogs = FileDialogs(monkeypatch, out)

    activate(qtbot, window)  # Ctrl+S: the save dialog offers .dmy and the dummy writer saves
    qtbot.keyClick(window, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    assert "*.dmy" in dialogs.filters["save"]
    np.testing.assert_array_equal(read_dummy(out)[0].layers[0], painted)
    assert not ctl.has_unsaved_changes()

    activate(qtbot, window)  # Ctrl+Z: back to no labels, so opening must bring the stroke back
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)
    assert np.count_nonzero(window.document.labels.array) == 0
    activate(qtbot, window)  # Ctrl+L: the open dialog offers the dummy format and reads it
    qtbot.keyClick(window, QtCore.Qt.Key_L, QtCore.Qt.ControlModifier)
    assert "Dummy labels (*.dmy)" in dialogs.filters["open"].split(";;")
    np.testing.assert_array_equal(window.document.labels.array, painted)
    assert window.document.label_path == str(out)  # a writable format: Ctrl+S saves there


def test_dummy_format_in_the_export_dialog(window, dummy_format, tmp_path):
    from viewer.qt.export_dialog import ExportDialog, default_suffix, export_formats

    assert export_formats()["dummy"] == ("Dummy labels (.dmy)", "Dummy labels (*.dmy)")
    assert default_suffix("dummy") == ".dmy"
    dialog = ExportDialog(window)
    keys = [
        dialog.format_list.item(i).data(QtCore.Qt.UserRole)
        for i in range(dialog.format_list.count())
    ]
    assert "dummy" in keys

    doc = phantom_document()
    out = tmp_path / "export.dmy"
    export_study("dummy", doc.volume, doc.labels, doc.segments, out)
    np.testing.assert_array_equal(read_dummy(out)[0].layers[0], doc.labels.array)
