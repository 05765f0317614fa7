"""The study browser: scans a DICOM folder in the background, lists patient / study / series with
thumbnails and skipped files, and loads the chosen series in the background (progress, cancel)."""

from __future__ import annotations

import logging

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.qt.background_job import BackgroundJob

log = logging.getLogger(__name__)
THUMB = 64
# what tells apart series that share a description: number, time, size, plane, modality
COLUMNS = ["Patient / study / series", "Modality", "Slices", "Size", "Plane", "Time", "Date"]


def series_thumbnail(series) -> np.ndarray | None:
    """The middle slice of `series` as a small uint8 image (None when it cannot be decoded)."""
    from viewer.io.dicom_load import decode_file

    try:
        frame = series.slices[0][len(series.slices[0]) // 2]
        header = next(h for h in series.headers if h.path == frame.path)
        pixels, _ = decode_file(header)
        img = np.asarray(pixels[frame.frame_index or 0], dtype=np.float32)
    except Exception:  # a thumbnail is a nicety: any failure just leaves it blank
        return None
    if img.ndim == 3:
        img = img.mean(axis=-1)
    step = max(1, max(img.shape) // THUMB)
    img = img[::step, ::step]
    lo, hi = np.percentile(img, [1, 99])
    return (np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)


def _scan_with_thumbnails(path: str):
    from viewer.io import scan_dicom_folder

    def work(progress, cancel):
        scan = scan_dicom_folder(path, progress, cancel)
        series = scan.all_series()
        thumbs = {}
        for i, s in enumerate(series):
            if cancel():
                break
            progress((i + 1) / max(len(series), 1), f"thumbnails {i + 1}/{len(series)}")
            thumbs[s.series_id] = series_thumbnail(s)
        return scan, thumbs

    return work


class StudyBrowser(QtWidgets.QDialog):
    """Pick and load one series of a DICOM folder. After `exec_()`, `volume` holds the result."""

    def __init__(self, path: str | None, parent=None, autostart: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"DICOM folder - {path}")
        self._default_size()
        self.path = path
        self.scan = None
        self.volume = None
        self.job: BackgroundJob | None = None
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.tree.setColumnWidth(0, 420)
        for column, width in ((1, 70), (2, 70), (3, 100), (4, 80), (5, 80)):
            self.tree.setColumnWidth(column, width)
        self.tree.itemDoubleClicked.connect(lambda *_: self.load_selected())
        self.skipped_label = QtWidgets.QLabel("")
        self.skipped_list = QtWidgets.QListWidget()
        self.skipped_list.setMaximumHeight(110)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QtWidgets.QLabel("")
        self.load_button = QtWidgets.QPushButton("Load")
        self.load_button.setDefault(True)
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(self.load_selected)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.cancel_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.skipped_label)
        lay.addWidget(self.skipped_list)
        lay.addWidget(self.progress)
        lay.addLayout(buttons)
        from viewer.qt.pacs_search import add_pacs_tab

        add_pacs_tab(self)  # the folder view and a PACS search side by side in tabs
        if autostart and path:
            self.start_scan()

    # --- background work -----------------------------------------------------------------------
    def _start(self, fn, on_success) -> None:
        self.job = BackgroundJob(fn, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(on_success)
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_finished)
        self.progress.setValue(0)
        self.load_button.setEnabled(False)
        self.job.start()

    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def start_scan(self) -> None:
        self.message.setText("Scanning...")
        self._start(_scan_with_thumbnails(self.path), self._on_scanned)

    def load_selected(self) -> None:
        series_id = self.selected_series_id()
        if series_id is None or self.busy():
            return
        from viewer.io import load_volume_from_scan

        scan = self.scan
        self.message.setText("Loading...")
        self._start(
            lambda progress, cancel: load_volume_from_scan(scan, series_id, 0, progress, cancel),
            self._on_loaded,
        )

    def cancel(self) -> None:
        """Cancel the running scan/load; with nothing running, close the dialog."""
        if self.busy():
            self.job.cancel_event.set()
            self.message.setText("Cancelling...")
        else:
            self.reject()

    def closeEvent(self, ev) -> None:  # noqa: N802
        if self.busy():
            self.job.cancel_event.set()
            self.job.wait(10_000)
        super().closeEvent(ev)

    def reject(self) -> None:
        if self.busy():
            self.job.cancel_event.set()
            self.job.wait(10_000)
        super().reject()

    # --- results --------------------------------------------------------------------------------
    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.message.setText(text)

    def _on_failed(self, message: str) -> None:
        self.message.setText(message)
        if self.scan is None:
            QtWidgets.QMessageBox.critical(self, "Cannot read folder", message)

    def _on_finished(self) -> None:
        self.load_button.setEnabled(self.scan is not None and self.selected_series_id() is not None)

    def _on_scanned(self, result) -> None:
        self.scan, thumbs = result
        self.tree.clear()
        first = None
        for patient in self.scan.patients:
            p_item = QtWidgets.QTreeWidgetItem(
                [f"{patient.name or '(no name)'}  [{patient.patient_id}]"]
            )
            self.tree.addTopLevelItem(p_item)
            for study in patient.studies:
                text = study.description or "(study)"
                s_item = QtWidgets.QTreeWidgetItem([text, "", "", study.date])
                p_item.addChild(s_item)
                for series in study.series:
                    item = QtWidgets.QTreeWidgetItem(series_row(series))
                    item.setData(0, QtCore.Qt.UserRole, series.series_id)
                    if series.warnings:
                        item.setToolTip(0, "\n".join(series.warnings))
                    thumb = thumbs.get(series.series_id)
                    if thumb is not None:
                        item.setIcon(0, QtGui.QIcon(QtGui.QPixmap.fromImage(_qimage(thumb))))
                    s_item.addChild(item)
                    first = first or item
        self.tree.expandAll()
        if first is not None:
            self.tree.setCurrentItem(first)
        n = len(self.scan.skipped)
        self.skipped_label.setText(f"{n} file(s) skipped" if n else "No files skipped")
        self.skipped_list.clear()
        for sk in self.scan.skipped:
            self.skipped_list.addItem(f"{sk.path}: {sk.reason}")
        count = len(self.scan.all_series())
        self.message.setText(f"{count} series found" if count else "No loadable series")

    def _default_size(self) -> None:
        """Wide enough for every column: 70 % of the screen, at least 1100 x 640 where it fits."""
        screen = QtWidgets.QApplication.primaryScreen()
        if screen is None:
            self.resize(1100, 640)
            return
        avail = screen.availableGeometry()
        w = min(max(int(avail.width() * 0.7), 1100), avail.width())
        h = min(max(int(avail.height() * 0.7), 640), avail.height())
        self.resize(w, h)

    def _on_loaded(self, volume) -> None:
        self.volume = volume
        self.accept()

    def selected_series_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, QtCore.Qt.UserRole) if item is not None else None

    def select_series(self, series_id: str) -> None:
        it = QtWidgets.QTreeWidgetItemIterator(self.tree)
        while it.value():
            if it.value().data(0, QtCore.Qt.UserRole) == series_id:
                self.tree.setCurrentItem(it.value())
                return
            it += 1
        raise KeyError(series_id)


def series_row(series) -> list[str]:
    """The texts of a series' row, one per COLUMNS entry."""
    from viewer.io.dicom_series_info import series_summary

    info = series_summary(series)
    label = info.description or "(no description)"
    if info.number is not None:
        label = f"#{info.number} {label}"
    slices = str(info.slices)
    if info.time_points > 1:
        slices += f" x {info.time_points} t"
    return [label, info.modality, slices, info.size_text, info.plane, info.time, series.date]


def _qimage(grey: np.ndarray) -> QtGui.QImage:
    g = np.ascontiguousarray(grey)
    return QtGui.QImage(
        g.data, g.shape[1], g.shape[0], g.strides[0], QtGui.QImage.Format_Grayscale8
    ).copy()
