"""View > Go to... (Ctrl+G): type a voxel index or a world position (LPS or RAS mm) and the
crosshair, and with it every slice view, jumps there. Input outside the image, or that cannot
be read, is explained under the field and the dialog stays open."""

from __future__ import annotations

from PyQt5 import QtWidgets

from viewer.model.goto import MODES, goto_world


class GotoDialog(QtWidgets.QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Go to")
        self.mode = QtWidgets.QComboBox()
        for key, text in MODES.items():
            self.mode.addItem(text, key)
        self.mode.setToolTip(
            "Voxel: indices from 0, as the status bar shows them. World: millimetres, LPS "
            "(DICOM, the status bar) or RAS (NIfTI tools)"
        )
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText("e.g. 120, 96, 40")
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c03030")
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Coordinates", self.mode)
        form.addRow("Position", self.edit)
        form.addRow(self.message)
        form.addRow(buttons)
        self.edit.setFocus()

    def accept(self) -> None:
        doc = self.window.document
        if doc is None:
            self.message.setText("Open an image first.")
            return
        try:
            world = goto_world(self.edit.text(), self.mode.currentData(), doc.geometry)
        except ValueError as e:
            self.message.setText(str(e))
            return
        self.message.setText("")
        self.window.state.set_cursor(world)
        super().accept()


def show_goto(dialog: GotoDialog) -> GotoDialog:
    """Open the dialog (window-modal, not blocking) with the last text selected; returns it."""
    dialog.message.setText("")
    dialog.edit.selectAll()
    dialog.open()
    dialog.edit.setFocus()
    return dialog
