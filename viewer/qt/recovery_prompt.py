"""The start-up offer after a crash: recover the newest crashed session's autosaved labels
(opening the image they belong to first), discard them, or leave them for later."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PyQt5 import QtWidgets

from viewer.errors import RadLabelError
from viewer.qt.panels.editing import install_editing
from viewer.services.autosave import discard, find_recoverable, fits_grid, recover, series_uid

if TYPE_CHECKING:
    from viewer.qt.main_window import MainWindow


def offer_recovery(window: MainWindow) -> bool:
    """At start-up: offer the newest crashed session's autosave; True when recovered. Damaged
    autosaves are set aside (never offered again) with one line in the status bar."""
    set_aside: list[str] = []
    entries = find_recoverable(set_aside=set_aside)
    if set_aside:
        more = f" (and {len(set_aside) - 1} more; see the log)" if len(set_aside) > 1 else ""
        window.statusBar().showMessage(set_aside[0][0].upper() + set_aside[0][1:] + more, 60000)
    if not entries:
        return False
    entry = entries[0]
    answer = QtWidgets.QMessageBox.question(
        window,
        "Recover unsaved labels?",
        f"RadLabel did not close normally last time.\n\n{entry.describe()}\n\nRecover these labels?",
        QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No | QtWidgets.QMessageBox.Discard,
        QtWidgets.QMessageBox.Yes,
    )
    if answer == QtWidgets.QMessageBox.Discard:
        discard(entry)
        return False
    if answer != QtWidgets.QMessageBox.Yes:
        return False
    try:
        labels, segments = recover(entry)
    except RadLabelError as e:
        window.show_error("Cannot recover labels", e.message)
        return False
    if entry.image_path and os.path.exists(entry.image_path):
        doc = window.document
        # several series can share a folder: the series UID tells them apart
        shown = doc is not None and doc.volume.source_path == entry.image_path
        if shown and entry.series_uid and series_uid(doc) != entry.series_uid:
            shown = False
        if not shown:
            if not window.open_path(entry.image_path, series_uid=entry.series_uid or None):
                return False  # cannot be read, or the user kept the open labels: entry stays
    doc = window.document
    if doc is None or not fits_grid(entry, doc.geometry):
        # the image is gone, or what is open (or now at its path) has another grid: labels
        # put there would sit on the wrong voxels, so the autosave is kept for a later start
        where = entry.image_path or "an unsaved image"
        missing = entry.image_path and not os.path.exists(entry.image_path)
        problem = "is not found" if missing or not entry.image_path else "has changed its grid"
        window.show_error(
            "Cannot recover labels",
            f"the image the labels belong to ({where}) {problem}; the autosave is kept and "
            "offered again at the next start (start RadLabel with that image, or choose Discard)",
        )
        return False
    restored = install_editing(window).restore(labels, segments, entry.label_path)
    if restored is None:
        return False
    if not restored:
        window.show_error(
            "Cannot recover labels",
            f"open the image the labels belong to ({entry.image_path or 'unknown'}) and retry",
        )
        return False
    discard(entry)
    return True
