"""The one question asked before anything replaces or closes the open document while its labels
have unsaved changes: Save / Discard / Cancel.

Every path that would lose the labels (opening another image or DICOM series by menu, shortcut,
drag and drop, recent files or the study browser; opening a label file; restoring recovered
labels; closing the window) calls `confirm_unsaved` right before it replaces anything, and goes
on only when it returns True. The paths load their new data first, so a file that cannot be
read never costs the user a question, and a True answer is acted on at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt5 import QtWidgets

if TYPE_CHECKING:
    from viewer.qt.main_window import MainWindow

Q = QtWidgets.QMessageBox


def ask_unsaved(window: QtWidgets.QWidget, action: str) -> int:
    """Ask Save / Discard / Cancel before `action` ("opening image.nii.gz", "closing")."""
    return Q.question(
        window,
        "Unsaved label changes",
        f"The labels have unsaved changes. Save them before {action}?",
        Q.Save | Q.Discard | Q.Cancel,
        Q.Save,
    )


def confirm_unsaved(window: MainWindow, action: str) -> bool:
    """True when the caller may replace or close the document now.

    Unsaved changes: Save writes them (to the label file, or where the save dialog says) and
    goes on only when the file was written; Discard goes on and drops this document's autosave
    (the user said so explicitly); Cancel, or closing the question, stops. Without unsaved
    changes there is nothing to ask, and the autosave, which then holds nothing the label file
    lacks, is dropped as well."""
    editing = window.editing
    if editing is None:
        return True
    if editing.has_unsaved_changes():
        answer = ask_unsaved(window, action)
        if answer == Q.Save:
            return bool(editing.save_labels())  # a written file also drops the autosave
        if answer != Q.Discard:
            return False
    editing.forget_autosave()
    return True
