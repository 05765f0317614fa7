"""Recovered labels go only onto the grid they were drawn on: an autosave whose image is gone,
or whose image file now holds another grid, is refused with one message and kept, never put
onto a same-sized other image (its voxels would be in the wrong places)."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtWidgets
from qt_helpers import phantom_document

from viewer.io import write_volume
from viewer.qt.panels import install_editing, offer_recovery
from viewer.services.autosave import AutosaveService, find_recoverable

SHAPE = (6, 10, 12)


def crash_with_labels(doc) -> np.ndarray:
    """An autosave of `doc` with a painted block, left as after a crash; returns the labels."""
    labels = np.zeros(SHAPE, np.uint16)
    labels[1:3, 2:4, 3:5] = 1
    doc.replace_labels(labels)
    crashed = AutosaveService(doc)
    assert crashed.save_now()
    crashed.stop(clean=False)
    return labels


def answer_yes(monkeypatch) -> None:
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.Yes
    )


def test_a_missing_image_is_not_replaced_by_an_open_same_sized_other_grid(window, monkeypatch):
    crashed = phantom_document(shape=SHAPE, spacing=(1.0, 1.0, 2.0))
    crashed.volume.source_path = "/nonexistent/case_007/image.nii.gz"
    crash_with_labels(crashed)
    other = phantom_document(shape=SHAPE, spacing=(0.5, 0.5, 3.0))  # same shape, other voxels
    other.volume.source_path = "/elsewhere/other.nii.gz"
    install_editing(window, autosave=False)
    window.set_document(other)
    before = window.document.labels.array.copy()
    answer_yes(monkeypatch)

    assert not offer_recovery(window)

    assert np.array_equal(window.document.labels.array, before)
    assert window.errors == [
        "the image the labels belong to (/nonexistent/case_007/image.nii.gz) is not found; the "
        "autosave is kept and offered again at the next start (start RadLabel with that image, "
        "or choose Discard)"
    ]
    assert len(find_recoverable()) == 1


def test_an_image_file_that_changed_its_grid_is_refused(window, monkeypatch, tmp_path):
    image = tmp_path / "image.nii.gz"
    write_volume(phantom_document(shape=SHAPE).volume, None, image)
    from viewer.io import load_volume
    from viewer.model.document import Document

    crash_with_labels(Document(load_volume(str(image))))
    # the file is replaced by another scan of the same size before the next start
    write_volume(phantom_document(shape=SHAPE, spacing=(0.7, 0.7, 1.5)).volume, None, image)
    install_editing(window, autosave=False)
    answer_yes(monkeypatch)

    assert not offer_recovery(window)

    assert window.document.volume.source_path == str(image)
    assert int(window.document.labels.array.sum()) == 0
    assert window.errors == [
        f"the image the labels belong to ({image}) has changed its grid; the autosave is kept "
        "and offered again at the next start (start RadLabel with that image, or choose Discard)"
    ]
    assert len(find_recoverable()) == 1


def test_a_missing_image_with_its_own_grid_open_is_recovered(window, monkeypatch):
    crashed = phantom_document(shape=SHAPE)
    crashed.volume.source_path = "/nonexistent/moved.nii.gz"
    expected = crash_with_labels(crashed)
    same = phantom_document(shape=SHAPE)  # the same grid, opened from where it lives now
    same.volume.source_path = "/now/here.nii.gz"
    install_editing(window, autosave=False)
    window.set_document(same)
    answer_yes(monkeypatch)

    assert offer_recovery(window)

    assert np.array_equal(window.document.labels.array, expected)
    assert find_recoverable() == []
    # the recovered labels are unsaved: let the fixture's close discard them
    monkeypatch.setattr(
        QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.Discard
    )
