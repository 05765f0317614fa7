"""The PACS entries of the File menu: Open from PACS... (the study browser's PACS tab),
PACS... (the servers) and Export DICOM SEG to PACS... (STOW-RS in the background)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from PyQt5 import QtWidgets

from viewer.errors import RadLabelError
from viewer.io.pacs import PacsClient, PacsConnection, load_connections
from viewer.model.volume import MetaKey
from viewer.qt import menus, pacs_auth
from viewer.qt.background_job import BackgroundJob

log = logging.getLogger(__name__)


class PacsActions:
    """Owns the menu actions and the one store job that may run at a time."""

    def __init__(self, window) -> None:
        self.window = window
        self.browser = None
        self.store_job: BackgroundJob | None = None
        self.last_store: str = ""  # the last store's outcome, as shown to the user
        file_menu = menus.file_menu(window)
        before = menus.before_quit(file_menu)
        self.open_action = QtWidgets.QAction("Open from &PACS...", window)
        self.open_action.triggered.connect(lambda _=False: self.open_browser())
        self.servers_action = QtWidgets.QAction("PACS...", window)
        self.servers_action.triggered.connect(lambda _=False: self.edit_servers())
        self.export_action = QtWidgets.QAction("Export DICOM SEG to PACS...", window)
        self.export_action.triggered.connect(lambda _=False: self.export_seg())
        for a in (self.open_action, self.servers_action, self.export_action):
            file_menu.insertAction(before, a)
        file_menu.insertSeparator(self.open_action)
        window.document_changed.connect(lambda doc: self.export_action.setEnabled(doc is not None))
        self.export_action.setEnabled(window.document is not None)
        self.pinned: Path | None = None  # the open PACS series' cache folder
        window.document_changed.connect(self._pin_open_series)
        self._pin_open_series(window.document)

    # --- open ----------------------------------------------------------------------------------
    def open_browser(self):
        """Show the study browser on its PACS tab (not modal: the window stays usable)."""
        from viewer.qt.study_browser import StudyBrowser

        if self.browser is not None and self.browser.isVisible():
            self.browser.raise_()
            return self.browser
        dialog = StudyBrowser(None, self.window)
        dialog.accepted.connect(lambda: self._adopt(dialog))
        self.browser = dialog
        dialog.show()
        return dialog

    def _adopt(self, dialog) -> None:
        """Open the retrieved series, after the unsaved-labels question like every open path."""
        volume = dialog.volume
        if volume is not None:
            self.window.adopt_volume(volume, volume.name, f"opening {volume.name}", remember=False)

    def _pin_open_series(self, doc) -> None:
        """Keep the open PACS series in the cache (its files are re-read for a DICOM SEG and
        for recovery): pinned while it is this window's document."""
        from viewer.io.pacs import cache

        folder = None
        if doc is not None and (doc.volume.metadata or {}).get("pacs"):
            folder = Path(doc.volume.source_path)
        if folder == self.pinned:
            return
        if self.pinned is not None:
            cache.unpin(self.pinned)
        if folder is not None:
            cache.pin(folder)
        self.pinned = folder

    def edit_servers(self) -> None:
        from viewer.qt.pacs_connections import PacsConnectionsDialog

        PacsConnectionsDialog(self.window).exec_()
        if self.browser is not None:
            self.browser.pacs_panel.reload_connections()

    # --- store back ----------------------------------------------------------------------------
    def export_seg(self, connection: PacsConnection | None = None) -> bool:
        """Store the labels as a DICOM SEG on a server (the one the image came from, if any)."""
        w = self.window
        doc = w.document
        if doc is None or (self.store_job is not None and self.store_job.isRunning()):
            return False
        conn = connection or self._choose_connection(doc)
        if conn is None:
            return False
        creds = pacs_auth.credentials_for(w, conn)
        if creds is None:
            return False
        try:
            client = PacsClient(conn, creds)
        except RadLabelError as e:
            self._done_failed(e.message)
            return False
        from viewer.io.pacs.jobs import store_seg

        # a snapshot: the user may keep drawing while the SEG is written and sent
        volume, labels, segments = doc.volume, doc.labels.copy(), copy.deepcopy(doc.segments)
        self.store_job = BackgroundJob(
            lambda progress, cancel: store_seg(client, volume, labels, segments, progress), w
        )
        self.store_job.progressed.connect(lambda f, t: w.statusBar().showMessage(f"PACS: {t}"))
        self.store_job.succeeded.connect(lambda r: self._done_ok(r, conn))
        self.store_job.failed.connect(self._done_failed)
        w.statusBar().showMessage(f"PACS: storing the DICOM SEG on {conn.name}...")
        self.store_job.start()
        return True

    def _choose_connection(self, doc) -> PacsConnection | None:
        try:
            conns = load_connections()
        except RadLabelError as e:
            self._done_failed(e.message)
            return None
        if not conns:
            self._done_failed("No PACS server yet: add one with File > PACS...")
            return None
        source = doc.volume.metadata.get(MetaKey.PACS, {}).get("url")
        for c in conns:
            if c.url == source:
                return c  # back where the image came from
        if len(conns) == 1:
            return conns[0]
        name, ok = QtWidgets.QInputDialog.getItem(
            self.window, "Export DICOM SEG to PACS", "Server:", [c.name for c in conns], 0, False
        )
        return next((c for c in conns if c.name == name), None) if ok else None

    def _done_ok(self, result, conn: PacsConnection) -> None:
        text = f"Stored the DICOM SEG on {conn.name} ({len(result.stored)} instance)"
        if result.failed:
            text += f"; refused: {'; '.join(result.failed)}"
        self.last_store = text
        self.window.statusBar().showMessage(text, 20000)
        QtWidgets.QMessageBox.information(self.window, "Export DICOM SEG to PACS", text)

    def _done_failed(self, message: str) -> None:
        self.last_store = message
        self.window.statusBar().showMessage(message, 20000)
        self.window.show_error("Export DICOM SEG to PACS", message)


def install_pacs(window) -> PacsActions:
    """Add the PACS entries to `window`'s File menu; `window.pacs` keeps them. Idempotent."""
    if window.pacs is None:
        window.set_pacs(PacsActions(window))
    return window.pacs
