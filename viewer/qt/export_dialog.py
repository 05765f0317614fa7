"""File > Export: the open study's labels as .seg.nrrd / NIfTI / NRRD / DICOM SEG / STL / OBJ /
statistics CSV, or an nnU-Net / MSD training dataset from the open study and case files or a
folder of cases. It calls viewer/services/export.py, like the `export` command, and runs the
export off the UI thread with a progress dialog that can cancel."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from PyQt5 import QtCore, QtWidgets

from viewer.errors import RadLabelError
from viewer.io.dataset_export import ExportCase
from viewer.io.dicom_seg_source import not_dicom_reason
from viewer.model.labelmap import LabelMap
from viewer.qt.background_job import BackgroundJob
from viewer.services.export import (
    DATASETS,
    DatasetRequest,
    ExportCancelled,
    dataset_folder,
    export_dataset,
    export_study,
    find_cases,
    label_file_formats,
    mesh_outputs,
)

log = logging.getLogger(__name__)

# format key -> (what the list shows, file-dialog filter; None: a folder is chosen); the label
# files (.seg.nrrd, NIfTI, NRRD, ...) come first, from viewer.io.labels.registry
OTHER_FORMATS = {
    "dicom-seg": ("DICOM SEG (.dcm)", "DICOM (*.dcm)"),
    "stl": ("STL surfaces, one per segment (folder)", None),
    "obj": ("OBJ surfaces, one per segment (folder)", None),
    "stats-csv": ("Segment statistics (.csv)", "CSV (*.csv)"),
    "nnunet": ("nnU-Net v2 dataset (folder)", None),
    "msd": ("MSD / PaddleSeg MedicalSeg dataset (folder)", None),
}
OTHER_SUFFIXES = {"dicom-seg": "_seg.dcm", "stats-csv": "_statistics.csv"}


def export_formats() -> dict[str, tuple[str, str | None]]:
    """Every format the dialog lists: key -> (text, file-dialog filter or None for a folder)."""
    labels = {
        f.key: (f"{f.name} ({f.write_suffixes[0]})", f.save_file_filter)
        for f in label_file_formats()
    }
    return {**labels, **OTHER_FORMATS}


def default_suffix(fmt: str) -> str:
    """The ending of the file name the dialog proposes for format `fmt`."""
    labels = {f.key: f.write_suffixes[0] for f in label_file_formats()}
    return labels.get(fmt) or OTHER_SUFFIXES[fmt]


class ExportDialog(QtWidgets.QDialog):
    """Pick a format (and, for datasets, cases and names), then Export... asks where."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Export")
        self.resize(620, 520)
        self.job: BackgroundJob | None = None
        self.progress: QtWidgets.QProgressDialog | None = None
        self.result_lines: list[str] = []
        self.error = ""
        doc = window.document
        self.format_list = QtWidgets.QListWidget()
        for key, (text, _) in export_formats().items():
            item = QtWidgets.QListWidgetItem(text)
            item.setData(QtCore.Qt.UserRole, key)
            reason = self._unavailable(key, doc)
            if reason:
                item.setFlags(item.flags() & ~QtCore.Qt.ItemIsEnabled)
                item.setToolTip(reason)
            self.format_list.addItem(item)
        self.format_list.currentRowChanged.connect(lambda _: self._format_changed())
        self.dataset_box = self._build_dataset_box(doc)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.export_button = QtWidgets.QPushButton("Export...")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(lambda _=False: self.export())
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(QtWidgets.QLabel("Format"))
        lay.addWidget(self.format_list, 1)
        lay.addWidget(self.dataset_box, 2)
        lay.addLayout(buttons)
        first = next(
            i
            for i in range(self.format_list.count())
            if self.format_list.item(i).flags() & QtCore.Qt.ItemIsEnabled
        )
        self.format_list.setCurrentRow(first)

    # --- choices -------------------------------------------------------------------------------
    @staticmethod
    def _unavailable(key: str, doc) -> str:
        """Why format `key` cannot be chosen now ("" when it can)."""
        if key in DATASETS:
            return ""
        if doc is None:
            return "Open a study first"
        if key == "dicom-seg":
            reason = not_dicom_reason(doc.volume)
            return f"DICOM SEG needs a study opened from DICOM ({reason})" if reason else ""
        return ""

    def select_format(self, key: str) -> None:
        for i in range(self.format_list.count()):
            item = self.format_list.item(i)
            if item.data(QtCore.Qt.UserRole) == key:
                if not item.flags() & QtCore.Qt.ItemIsEnabled:
                    raise ValueError(f"{key}: {item.toolTip()}")
                self.format_list.setCurrentRow(i)
                return
        raise KeyError(key)

    def is_enabled(self, key: str) -> bool:
        items = (self.format_list.item(i) for i in range(self.format_list.count()))
        item = next(it for it in items if it.data(QtCore.Qt.UserRole) == key)
        return bool(item.flags() & QtCore.Qt.ItemIsEnabled)

    def current_format(self) -> str:
        item = self.format_list.currentItem()
        return item.data(QtCore.Qt.UserRole) if item is not None else ""

    def _format_changed(self) -> None:
        fmt = self.current_format()
        self.dataset_box.setVisible(fmt in DATASETS)
        self.folds.setEnabled(fmt == "nnunet")

    def _build_dataset_box(self, doc) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Dataset")
        self.case_list = QtWidgets.QListWidget()
        self.include_open = QtWidgets.QCheckBox("Include the open study (its current labels)")
        self.include_open.setChecked(doc is not None)
        self.include_open.setEnabled(doc is not None)
        add_case = QtWidgets.QPushButton("Add case...")
        add_case.setToolTip("An image file (or DICOM folder) and its label file")
        add_case.clicked.connect(lambda _=False: self.add_case_dialog())
        add_folder = QtWidgets.QPushButton("Add folder of cases...")
        add_folder.setToolTip("Case folders, each with image.* or dicom/ and label.*")
        add_folder.clicked.connect(lambda _=False: self.add_folder_dialog())
        remove = QtWidgets.QPushButton("Remove")
        remove.clicked.connect(lambda _=False: self.case_list.takeItem(self.case_list.currentRow()))
        case_buttons = QtWidgets.QHBoxLayout()
        for b in (add_case, add_folder, remove):
            case_buttons.addWidget(b)
        case_buttons.addStretch(1)
        self.dataset_id = QtWidgets.QSpinBox()
        self.dataset_id.setRange(1, 999)
        self.dataset_id.setValue(1)
        self.dataset_name = QtWidgets.QLineEdit()
        self.dataset_name.setPlaceholderText("letters, digits, _ and - (no patient data)")
        self.channel_name = QtWidgets.QLineEdit()
        self.channel_name.setPlaceholderText("default: CT or the modality")
        self.folds = QtWidgets.QSpinBox()
        self.folds.setRange(1, 20)
        self.folds.setValue(5)
        self.labels_json = QtWidgets.QLineEdit()
        self.labels_json.setPlaceholderText("optional names file {'1': 'liver', ...}")
        form = QtWidgets.QFormLayout()
        form.addRow("Dataset / task id", self.dataset_id)
        form.addRow("Name", self.dataset_name)
        form.addRow("Channel name", self.channel_name)
        form.addRow("Folds (nnU-Net)", self.folds)
        form.addRow("Segment names", self.labels_json)
        lay = QtWidgets.QVBoxLayout(box)
        lay.addWidget(self.include_open)
        lay.addWidget(self.case_list, 1)
        lay.addLayout(case_buttons)
        lay.addLayout(form)
        return box

    def add_case(self, image: str, label: str) -> None:
        item = QtWidgets.QListWidgetItem(f"{image}  +  {label}")
        item.setData(QtCore.Qt.UserRole, (image, label))
        self.case_list.addItem(item)

    def add_cases_folder(self, folder: str) -> int:
        """Add the cases of a folder of case folders; returns how many were added."""
        try:
            pairs, skipped = find_cases(folder)
        except RadLabelError as e:
            self._fail(e.message)
            return 0
        for image, label in pairs:
            self.add_case(image, label)
        self.message.setText("; ".join(skipped) if skipped else f"{len(pairs)} cases added")
        return len(pairs)

    def add_case_dialog(self) -> None:
        image, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Case image", "", "All files (*)")
        if not image:
            return
        label, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Case label", "", "All files (*)")
        if label:
            self.add_case(image, label)

    def add_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of cases")
        if folder:
            self.add_cases_folder(folder)

    def case_pairs(self) -> list[tuple[str, str]]:
        return [
            tuple(self.case_list.item(i).data(QtCore.Qt.UserRole))
            for i in range(self.case_list.count())
        ]

    # --- running -------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        doc = self.window.document
        src = getattr(doc.volume, "source_path", "") if doc is not None else ""
        return str(Path(src).parent if src and not Path(src).is_dir() else src or "")

    def _default_name(self, fmt: str) -> str:
        doc = self.window.document
        src = Path(doc.volume.source_path or "image") if doc is not None else Path("image")
        stem = src.name
        for ending in (".nii.gz", ".seg.nrrd", ".nii", ".nrrd", ".mha", ".mhd", ".dcm"):
            if stem.lower().endswith(ending):
                stem = stem[: -len(ending)]
                break
        start = src.parent if not src.is_dir() else src
        return str(start / f"{stem}_labels{default_suffix(fmt)}")

    def _snapshot(self):
        """The open study with a copy of its labels: editing may go on while the export runs."""
        doc = self.window.document
        labels = LabelMap(doc.labels.geometry, doc.labels.array.copy())
        return doc.volume, labels, copy.deepcopy(doc.segments)

    def export(self) -> bool:
        """Ask where (a file or a folder), confirm replacing, then run the export."""
        fmt = self.current_format()
        if fmt in DATASETS:
            return self._export_dataset(fmt)
        if self.window.document is None:
            return self._fail("Open a study first")
        if export_formats()[fmt][1] is None:  # meshes: a folder
            out = QtWidgets.QFileDialog.getExistingDirectory(
                self, "Folder for the surfaces", self._start_dir()
            )
            if not out:
                return False
            doc = self.window.document
            existing = [p for p in mesh_outputs(doc.labels, doc.segments, fmt, out) if p.exists()]
            if existing and not self._confirm(
                f"{out} already holds {len(existing)} of these {fmt.upper()} surfaces "
                f"({', '.join(p.name for p in existing[:3])}"
                f"{', ...' if len(existing) > 3 else ''}). Replace them?"
            ):
                return False
        else:  # the file dialog asks itself before replacing a file
            out, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export to", self._default_name(fmt), export_formats()[fmt][1]
            )
            if not out:
                return False
        volume, labels, segments = self._snapshot()
        # replacing was confirmed above (the file dialog asks for a single file)
        return self._run(
            lambda progress, cancel: export_study(
                fmt, volume, labels, segments, out, overwrite=True, cancel=cancel
            )
        )

    def _export_dataset(self, fmt: str) -> bool:
        name = self.dataset_name.text().strip()
        if not name:
            return self._fail("Give the dataset a name")
        cases = []
        if self.include_open.isChecked() and self.window.document is not None:
            volume, labels, segments = self._snapshot()
            cases.append(ExportCase(volume, labels, segments))
        pairs = self.case_pairs()
        if not cases and not pairs:
            return self._fail("Add cases: the open study, case files or a folder of cases")
        out = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Folder to create the dataset in", self._start_dir()
        )
        if not out:
            return False
        folder = dataset_folder(fmt, out, self.dataset_id.value(), name)
        overwrite = folder.is_dir() and any(folder.iterdir())
        if overwrite and not self._confirm(
            f"{folder} exists and is not empty. Replace that dataset? (It is replaced whole, "
            "once the new one is complete.)"
        ):
            return False
        request = DatasetRequest(
            fmt=fmt,
            out=out,
            dataset_id=self.dataset_id.value(),
            name=name,
            pairs=pairs,
            cases=cases,
            labels_json=self.labels_json.text().strip() or None,
            channel_name=self.channel_name.text().strip() or None,
            folds=self.folds.value(),
            overwrite=overwrite,
        )
        return self._run(lambda progress, cancel: export_dataset(request, progress, cancel))

    def _confirm(self, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(
            self,
            "Replace?",
            text,
            QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.Cancel,
            QtWidgets.QMessageBox.Cancel,
        )
        return answer == QtWidgets.QMessageBox.Yes

    def _run(self, fn) -> bool:
        self.result_lines, self.error = [], ""
        self.export_button.setEnabled(False)
        self.job = BackgroundJob(fn, self)
        self.progress = QtWidgets.QProgressDialog("Exporting...", "Cancel", 0, 1000, self)
        self.progress.setWindowTitle("Export")
        self.progress.setWindowModality(QtCore.Qt.WindowModal)
        self.progress.setMinimumDuration(300)  # quick exports finish before it shows
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self.cancel)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_done)
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_finished)
        self.message.setText("Exporting...")
        self.job.start()
        return True

    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def cancel(self) -> None:
        if self.busy():
            self.job.cancel_event.set()
            self.message.setText("Cancelling...")

    def _on_progress(self, fraction: float, text: str) -> None:
        if self.progress is not None:
            self.progress.setValue(int(fraction * 1000))
            self.progress.setLabelText(text)

    def _on_done(self, lines) -> None:
        self.result_lines = list(lines)
        lines = self.result_lines
        self.message.setText(lines[-1] if lines else "done")
        self.window.statusBar().showMessage(self.message.text(), 20000)

    def _on_failed(self, message: str) -> None:
        if self.job is not None and self.job.cancel_event.is_set():
            self.error = "cancelled"
            self.message.setText("Export cancelled")
            return
        self._fail(message)

    def _on_finished(self) -> None:
        self.export_button.setEnabled(True)
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _fail(self, message: str) -> bool:
        self.error = message
        self.message.setText(message)
        self.window.show_error("Export failed", message)
        return False

    def reject(self) -> None:
        if self.busy():  # it stops at its next check and cleans up; it outlives the dialog
            self.job.cancel_event.set()
            self.job.wait(2_000)
        super().reject()


def open_export_dialog(window) -> ExportDialog:
    """Show File > Export for `window` (the window keeps it as `export_dialog`)."""
    dialog = ExportDialog(window)
    dialog.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    dialog.show()
    return dialog


__all__ = ["ExportCancelled", "ExportDialog", "open_export_dialog"]
