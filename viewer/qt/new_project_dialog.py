"""File > New project...: the project's folder, its name and its label set, taken from the open
document's segments or from a JSON file (a list of {value, name, color}, as
`python main.py project init --labels` reads). OK stays disabled until all three are valid;
the label set is shown before the project is made."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt5 import QtWidgets

from viewer.errors import RadLabelError
from viewer.project import LabelDef
from viewer.project.records import parse_labels

FROM_DOCUMENT = "The open image's segments"
FROM_JSON = "A label-set JSON file"


class NewProjectDialog(QtWidgets.QDialog):
    """Collects folder, name and label set; `folder()`, `name()` and `labels` after OK."""

    def __init__(self, parent=None, document=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.document = document
        self.labels: list = []
        form = QtWidgets.QFormLayout(self)
        self.folder_edit = QtWidgets.QLineEdit()
        self.folder_edit.setPlaceholderText("an empty folder (made when missing)")
        browse = QtWidgets.QPushButton("Browse...")
        browse.clicked.connect(self._browse_folder)
        form.addRow("Folder", _row(self.folder_edit, browse))
        self.name_edit = QtWidgets.QLineEdit()
        form.addRow("Name", self.name_edit)
        self.source_box = QtWidgets.QComboBox()
        self.source_box.addItems([FROM_DOCUMENT, FROM_JSON])
        if document is None or not len(document.segments):
            self.source_box.setCurrentText(FROM_JSON)
        form.addRow("Label set", self.source_box)
        self.json_edit = QtWidgets.QLineEdit()
        self.json_edit.setPlaceholderText("labels.json")
        self.json_browse = QtWidgets.QPushButton("Browse...")
        self.json_browse.clicked.connect(self._browse_json)
        form.addRow("JSON file", _row(self.json_edit, self.json_browse))
        self.preview = QtWidgets.QLabel("")
        self.preview.setWordWrap(True)
        form.addRow(self.preview)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for edit in (self.folder_edit, self.name_edit, self.json_edit):
            edit.textChanged.connect(self.validate)
        self.source_box.currentIndexChanged.connect(self.validate)
        self.folder_edit.textChanged.connect(self._default_name)
        self.validate()

    @property
    def ok_button(self) -> QtWidgets.QPushButton:
        return self.buttons.button(QtWidgets.QDialogButtonBox.Ok)

    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip())

    def name(self) -> str:
        return self.name_edit.text().strip()

    def validate(self) -> bool:
        """Read the label set and say what is missing; OK only when everything is there."""
        from_json = self.source_box.currentText() == FROM_JSON
        self.json_edit.setEnabled(from_json)
        self.json_browse.setEnabled(from_json)
        problem = ""
        try:
            self.labels = (
                labels_from_json(self.json_edit.text().strip())
                if from_json
                else labels_from_document(self.document)
            )
        except RadLabelError as e:
            self.labels, problem = [], e.message
        if not problem and not self.labels:
            problem = "The label set is empty."
        if not self.folder_edit.text().strip():
            problem = problem or "Choose the project's folder."
        elif (self.folder() / "project.json").exists():
            problem = "That folder holds a project already: use File > Open project."
        if not self.name():
            problem = problem or "Name the project."
        self.preview.setText(problem or describe_labels(self.labels))
        self.ok_button.setEnabled(not problem)
        return not problem

    def _default_name(self, text: str) -> None:
        if not self.name_edit.isModified():
            self.name_edit.setText(Path(text.strip()).name if text.strip() else "")

    def _browse_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Project folder")
        if folder:
            self.folder_edit.setText(folder)

    def _browse_json(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Label set", "", "JSON (*.json);;All files (*)"
        )
        if path:
            self.json_edit.setText(path)


def labels_from_document(document) -> list:
    """The label set of the open document's segments (value, name, colour)."""
    if document is None:
        raise RadLabelError("No image is open: choose a JSON file.")
    return [LabelDef(int(s.id), str(s.name), tuple(s.colour)) for s in document.segments]


def labels_from_json(path: str) -> list:
    """The label set in a JSON file; RadLabelError naming the file when it is not one."""
    if not path:
        raise RadLabelError("Choose the label-set JSON file.")
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise RadLabelError(f"cannot read a label set ({type(e).__name__})", p) from None
    if isinstance(data, dict) and "labels" in data:  # a project.json works too
        data = data["labels"]
    return parse_labels(data, p)


def describe_labels(labels) -> str:
    return "Labels: " + ", ".join(f"{d.value} {d.name}" for d in labels)


def _row(*widgets) -> QtWidgets.QWidget:
    w = QtWidgets.QWidget()
    lay = QtWidgets.QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for x in widgets:
        lay.addWidget(x)
    return w
