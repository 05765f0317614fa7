"""The PACS tab of the study browser: search a DICOMweb server (patient name/ID, study dates,
modality, accession number), list patient / study / series with thumbnails the server renders,
and load a series in the background (progress, cancel) through the DICOM-folder loader."""

from __future__ import annotations

import logging
import threading

from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.errors import RadLabelError
from viewer.io.pacs import PacsClient, PacsConnection, PacsSeries, load_connections
from viewer.qt import pacs_auth
from viewer.qt.background_job import BackgroundJob
from viewer.qt.study_browser import THUMB

log = logging.getLogger(__name__)
MODALITIES = ("", "CT", "MR", "PT", "US", "CR", "DX", "MG", "NM", "XA", "SEG")


class _ThumbnailJob(QtCore.QThread):
    """Fetches the series' rendered thumbnails one by one after a search."""

    arrived = QtCore.pyqtSignal(str, bytes)

    def __init__(self, client: PacsClient, series: list[PacsSeries], parent=None) -> None:
        super().__init__(parent)
        self.client, self.series = client, series
        self.cancel_event = threading.Event()

    def run(self) -> None:
        for s in self.series:
            if self.cancel_event.is_set():
                return
            data = self.client.thumbnail(s)
            if data:
                self.arrived.emit(s.series_uid, data)


class PacsSearchPanel(QtWidgets.QWidget):
    """Search form, result tree and Load. Emits `loaded(volume)` when a series is open."""

    loaded = QtCore.pyqtSignal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.job: BackgroundJob | None = None
        self.thumb_job: _ThumbnailJob | None = None
        self.client: PacsClient | None = None
        self.series: dict[str, PacsSeries] = {}
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(self._search_form())
        lay.addWidget(self._result_tree(), 1)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        lay.addWidget(self.progress)
        lay.addLayout(self._load_row())
        self.reload_connections()

    # --- building the panel --------------------------------------------------------------------
    def _search_form(self) -> QtWidgets.QGridLayout:
        """The server choice and the query fields, two to a row; Return in a text field searches."""
        self.patient_id = QtWidgets.QLineEdit()
        self.patient_name = QtWidgets.QLineEdit()
        self.patient_name.setPlaceholderText("prefix, or * and ? wildcards")
        self.accession = QtWidgets.QLineEdit()
        self.modality = QtWidgets.QComboBox()
        self.modality.setEditable(True)  # MODALITIES are the common ones, not all of them
        self.modality.addItems(MODALITIES)
        self.date_from = QtWidgets.QLineEdit()
        self.date_to = QtWidgets.QLineEdit()
        for w in (self.date_from, self.date_to):
            w.setPlaceholderText("YYYY-MM-DD")
        for w in (self.patient_id, self.patient_name, self.accession, self.date_from, self.date_to):
            w.returnPressed.connect(self.search)
        self.search_button = QtWidgets.QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        form = QtWidgets.QGridLayout()
        form.addWidget(QtWidgets.QLabel("Server"), 0, 0)
        form.addLayout(self._server_row(), 0, 1, 1, 3)
        rows = (
            ("Patient ID", self.patient_id, "Patient name", self.patient_name),
            ("Study date from", self.date_from, "to", self.date_to),
            ("Modality", self.modality, "Accession no.", self.accession),
        )
        for r, (left_label, left, right_label, right) in enumerate(rows, start=1):
            form.addWidget(QtWidgets.QLabel(left_label), r, 0)
            form.addWidget(left, r, 1)
            form.addWidget(QtWidgets.QLabel(right_label), r, 2)
            form.addWidget(right, r, 3)
        form.addWidget(self.search_button, len(rows) + 1, 3)
        return form

    def _server_row(self) -> QtWidgets.QHBoxLayout:
        """The saved connections to search, and Servers... to edit them."""
        self.server = QtWidgets.QComboBox()
        self.servers_button = QtWidgets.QPushButton("Servers...")
        self.servers_button.clicked.connect(self.edit_connections)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.server, 1)
        row.addWidget(self.servers_button)
        return row

    def _result_tree(self) -> QtWidgets.QTreeWidget:
        """Patient / study / series with thumbnails; double-click loads, selecting enables Load."""
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(["Patient / study / series", "Modality", "Images", "Date"])
        self.tree.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.tree.setColumnWidth(0, 380)
        self.tree.itemDoubleClicked.connect(lambda *_: self.load_selected())
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        return self.tree

    def _load_row(self) -> QtWidgets.QHBoxLayout:
        """The message line (errors, progress text) beside Load and Cancel."""
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.load_button = QtWidgets.QPushButton("Load")
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(self.load_selected)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.cancel_button)
        return buttons

    # --- connections ---------------------------------------------------------------------------
    def reload_connections(self, select: str | None = None) -> None:
        current = select or self.server.currentText()
        self.server.clear()
        try:
            self.connections = load_connections()
        except RadLabelError as e:
            self.connections = []
            self.message.setText(e.message)
        for c in self.connections:
            self.server.addItem(c.name)
        if current and self.server.findText(current) >= 0:
            self.server.setCurrentIndex(self.server.findText(current))
        if not self.connections:
            self.message.setText("No PACS server yet: add one with Servers...")
        self._update_buttons()

    def connection(self) -> PacsConnection | None:
        i = self.server.currentIndex()
        return self.connections[i] if 0 <= i < len(self.connections) else None

    def edit_connections(self) -> None:
        from viewer.qt.pacs_connections import PacsConnectionsDialog

        dialog = PacsConnectionsDialog(self)
        dialog.exec_()
        self.reload_connections()

    def _client(self) -> PacsClient | None:
        conn = self.connection()
        if conn is None:
            self._fail("Choose a PACS server first (Servers...)")
            return None
        creds = pacs_auth.credentials_for(self, conn)
        if creds is None:
            self.message.setText("Search cancelled: no password given")
            return None
        try:
            return PacsClient(conn, creds)
        except RadLabelError as e:
            self._fail(e.message)
            return None

    # --- background work -----------------------------------------------------------------------
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def _start(self, fn, on_success, text: str) -> None:
        self.job = BackgroundJob(fn, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(on_success)
        self.job.failed.connect(self._fail)
        self.job.finished.connect(self._update_buttons)
        self.progress.setValue(0)
        self.message.setText(text)
        self.job.start()
        self._update_buttons()

    def search(self) -> None:
        if self.busy():
            return
        client = self._client()
        if client is None:
            return
        self._stop_thumbnails()
        self.client = client
        query = dict(
            patient_id=self.patient_id.text(),
            patient_name=self.patient_name.text(),
            modality=self.modality.currentText(),
            accession=self.accession.text(),
            date_from=self.date_from.text(),
            date_to=self.date_to.text(),
        )
        self._start(lambda progress, cancel: client.search(**query), self._on_found, "Searching...")

    def load_selected(self) -> None:
        series = self.selected_series()
        if series is None or self.busy() or self.client is None:
            return
        from viewer.io.pacs.jobs import open_series

        client = self.client
        self._stop_thumbnails()  # the server's bandwidth goes to the series now
        self._start(
            lambda progress, cancel: open_series(client, series, progress, cancel),
            self.loaded.emit,
            "Retrieving...",
        )

    def cancel(self) -> None:
        if self.busy():
            self.job.cancel_event.set()
            self.message.setText("Cancelling...")

    def stop(self) -> None:
        """Stop every background job (the dialog is closing)."""
        self._stop_thumbnails()
        if self.busy():
            self.job.cancel_event.set()
            self.job.wait(10_000)

    def _stop_thumbnails(self) -> None:
        if self.thumb_job is not None and self.thumb_job.isRunning():
            self.thumb_job.cancel_event.set()
            self.thumb_job.wait(10_000)

    # --- results -------------------------------------------------------------------------------
    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.message.setText(text)

    def _fail(self, message: str) -> None:
        self.message.setText(message)
        if self.job is not None and self.job.cancel_event.is_set():
            return  # the user cancelled: the message says so, no alarm box
        if "HTTP 401" in message or "HTTP 403" in message:
            conn = self.connection()
            if conn is not None:
                pacs_auth.forget(conn)  # ask again next time rather than repeat a bad password
        QtWidgets.QMessageBox.critical(self, "PACS", message)

    def _update_buttons(self) -> None:
        busy = self.busy()
        self.search_button.setEnabled(not busy and self.connection() is not None)
        self.load_button.setEnabled(not busy and self.selected_series() is not None)
        self.cancel_button.setEnabled(busy)

    def _on_found(self, studies) -> None:
        self.tree.clear()
        self.series = {}
        by_patient: dict[tuple[str, str], QtWidgets.QTreeWidgetItem] = {}
        first = None
        for st in studies:
            key = (st.patient_id, st.patient_name)
            p_item = by_patient.get(key)
            if p_item is None:
                p_item = QtWidgets.QTreeWidgetItem(
                    [f"{st.patient_name or '(no name)'}  [{st.patient_id}]"]
                )
                self.tree.addTopLevelItem(p_item)
                by_patient[key] = p_item
            text = st.description or "(study)"
            if st.accession:
                text += f"  acc. {st.accession}"
            s_item = QtWidgets.QTreeWidgetItem([text, "", "", _date(st.date)])
            p_item.addChild(s_item)
            for se in st.series:
                label = se.description or "(no description)"
                if se.number is not None:
                    label = f"#{se.number} {label}"
                count = "" if se.instances is None else str(se.instances)
                item = QtWidgets.QTreeWidgetItem([label, se.modality, count, _date(st.date)])
                item.setData(0, QtCore.Qt.UserRole, se.series_uid)
                item.setToolTip(0, f"SeriesInstanceUID {se.series_uid}")
                s_item.addChild(item)
                self.series[se.series_uid] = se
                first = first or item
        self.tree.expandAll()
        if first is not None:
            self.tree.setCurrentItem(first)
        n = len(studies)
        self.message.setText(
            f"{n} stud{'y' if n == 1 else 'ies'}, {len(self.series)} series found"
            if n
            else "Nothing found"
        )
        self._update_buttons()
        if self.series and self.client is not None:
            self.thumb_job = _ThumbnailJob(self.client, list(self.series.values()), self)
            self.thumb_job.arrived.connect(self._set_thumbnail)
            self.thumb_job.start()

    def _set_thumbnail(self, series_uid: str, data: bytes) -> None:
        image = QtGui.QImage.fromData(data)
        if image.isNull():
            return
        pixmap = QtGui.QPixmap.fromImage(image).scaled(
            THUMB, THUMB, QtCore.Qt.KeepAspectRatio, QtCore.Qt.SmoothTransformation
        )
        item = self.item_for(series_uid)
        if item is not None:
            item.setIcon(0, QtGui.QIcon(pixmap))

    def item_for(self, series_uid: str) -> QtWidgets.QTreeWidgetItem | None:
        it = QtWidgets.QTreeWidgetItemIterator(self.tree)
        while it.value():
            if it.value().data(0, QtCore.Qt.UserRole) == series_uid:
                return it.value()
            it += 1
        return None

    def selected_series(self) -> PacsSeries | None:
        item = self.tree.currentItem()
        uid = item.data(0, QtCore.Qt.UserRole) if item is not None else None
        return self.series.get(uid) if uid else None


def _date(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else d


def add_pacs_tab(browser) -> PacsSearchPanel:
    """Put the study browser's folder view and a PACS search panel in two tabs (PACS first when
    the browser has no folder); a series loaded from the PACS becomes the browser's result."""
    old = browser.layout()
    folder_page = QtWidgets.QWidget()
    inner = QtWidgets.QVBoxLayout(folder_page)
    inner.setContentsMargins(0, 0, 0, 0)
    while old.count():
        stretch = old.stretch(0)
        item = old.takeAt(0)
        if item.widget() is not None:
            inner.addWidget(item.widget(), stretch)
        elif item.layout() is not None:
            inner.addLayout(item.layout(), stretch)
    panel = PacsSearchPanel(browser)
    tabs = QtWidgets.QTabWidget()
    tabs.addTab(folder_page, "DICOM folder")
    tabs.addTab(panel, "PACS")
    if not browser.path:
        tabs.setCurrentWidget(panel)
        tabs.setTabEnabled(0, False)
        browser.setWindowTitle("Study browser - PACS")
    old.addWidget(tabs)
    browser.tabs, browser.pacs_panel = tabs, panel

    def on_loaded(volume) -> None:
        browser.volume = volume
        browser.accept()

    panel.loaded.connect(on_loaded)
    browser.finished.connect(lambda *_: panel.stop())
    return panel
