"""File > PACS...: add, edit, test and remove DICOMweb servers. Passwords and tokens go to the
system keyring when the user asks for it, else they are kept for this session only; the
connections file never holds one."""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from viewer.errors import RadLabelError
from viewer.io.pacs import (
    Credentials,
    PacsClient,
    PacsConnection,
    load_connections,
    save_connections,
)
from viewer.io.pacs.connection import AUTH_KINDS
from viewer.io.pacs.credentials import (
    TOKEN_USER,
    keyring_available,
    keyring_delete,
    keyring_get,
    keyring_set,
)
from viewer.qt import pacs_auth

AUTH_LABELS = {"none": "None", "basic": "HTTP basic (user + password)", "bearer": "Bearer token"}


class PacsConnectionsDialog(QtWidgets.QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS servers (DICOMweb)")
        self.resize(720, 420)
        self.connections = self._load_connections()
        self.list = QtWidgets.QListWidget()
        self.list.currentRowChanged.connect(self._show)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        lay = QtWidgets.QHBoxLayout(self)
        lay.addLayout(self._list_column(), 1)
        lay.addLayout(self._editor_column(), 2)
        for c in self.connections:
            self.list.addItem(c.name)
        if self.connections:
            self.list.setCurrentRow(0)
        else:
            self.add()

    # --- building the dialog -------------------------------------------------------------------
    def _load_connections(self) -> list[PacsConnection]:
        """The saved connections; a broken file is reported and the dialog starts empty."""
        try:
            return load_connections()
        except RadLabelError as e:
            QtWidgets.QMessageBox.critical(self, "PACS servers", e.message)
            return []

    def _list_column(self) -> QtWidgets.QVBoxLayout:
        """The connection list with Add / Remove under it."""
        add = QtWidgets.QPushButton("Add")
        add.clicked.connect(self.add)
        remove = QtWidgets.QPushButton("Remove")
        remove.clicked.connect(self.remove)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        return left

    def _editor_column(self) -> QtWidgets.QVBoxLayout:
        """The selected connection's fields, the status line, and Test / Save / Close."""
        right = QtWidgets.QVBoxLayout()
        right.addLayout(self._connection_form())
        right.addWidget(self.status)
        right.addStretch(1)
        right.addLayout(self._action_buttons())
        return right

    def _connection_form(self) -> QtWidgets.QFormLayout:
        """One field per PacsConnection setting, plus the secret and whether to keep it."""
        self.name = QtWidgets.QLineEdit()
        self.url = QtWidgets.QLineEdit()
        self.url.setPlaceholderText("https://pacs.example.org/dicom-web")
        self.auth = self._auth_choice()
        self.username = QtWidgets.QLineEdit()
        self.secret = QtWidgets.QLineEdit()
        self.secret.setEchoMode(QtWidgets.QLineEdit.Password)
        self.secret.setPlaceholderText("leave empty to be asked when connecting")
        self.remember = self._remember_box()
        self.verify = QtWidgets.QCheckBox("Verify the server's TLS certificate")
        self.timeout = QtWidgets.QDoubleSpinBox()
        self.timeout.setRange(1, 600)
        self.timeout.setSuffix(" s")
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("DICOMweb URL", self.url)
        form.addRow("Authentication", self.auth)
        form.addRow("User", self.username)
        form.addRow("Password / token", self.secret)
        form.addRow("", self.remember)
        form.addRow("", self.verify)
        form.addRow("CA bundle", self._ca_bundle_row())
        form.addRow("Timeout", self.timeout)
        return form

    def _auth_choice(self) -> QtWidgets.QComboBox:
        """The authentication kinds; changing it enables only the fields that kind uses.

        Connected after the items are added: filling the combo must not touch the other
        fields, which do not exist yet.
        """
        auth = QtWidgets.QComboBox()
        for kind in AUTH_KINDS:
            auth.addItem(AUTH_LABELS[kind], kind)
        auth.currentIndexChanged.connect(lambda *_: self._auth_fields())
        return auth

    def _remember_box(self) -> QtWidgets.QCheckBox:
        """'Remember in the system keyring', disabled (with the reason) when there is none."""
        remember = QtWidgets.QCheckBox("Remember in the system keyring")
        if not keyring_available():
            remember.setEnabled(False)
            remember.setToolTip("No system keyring: the password is asked once a session")
        return remember

    def _ca_bundle_row(self) -> QtWidgets.QHBoxLayout:
        """The CA certificate path with a Browse... button."""
        self.ca_bundle = QtWidgets.QLineEdit()
        self.ca_bundle.setPlaceholderText("optional: the hospital's CA certificate (PEM)")
        browse = QtWidgets.QPushButton("Browse...")
        browse.clicked.connect(self._browse_ca)
        ca_row = QtWidgets.QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        return ca_row

    def _action_buttons(self) -> QtWidgets.QHBoxLayout:
        """Test connection, Save and Close, right-aligned."""
        self.apply_button = QtWidgets.QPushButton("Save")
        self.apply_button.clicked.connect(self.apply)
        self.test_button = QtWidgets.QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        return buttons

    # --- form <-> connection -------------------------------------------------------------------
    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.connections):
            return
        c = self.connections[row]
        self.name.setText(c.name)
        self.url.setText(c.url)
        self.auth.setCurrentIndex(max(self.auth.findData(c.auth), 0))
        self.username.setText(c.username)
        self.secret.clear()
        stored = c.auth != "none" and keyring_get(c.url, _user(c)) is not None
        self.remember.setChecked(stored)
        self.verify.setChecked(c.verify_tls)
        self.ca_bundle.setText(c.ca_bundle)
        self.timeout.setValue(c.timeout_s)
        self.status.setText("Password stored in the keyring" if stored else "")
        self._auth_fields()

    def _auth_fields(self) -> None:
        kind = self.auth.currentData()
        self.username.setEnabled(kind == "basic")
        self.secret.setEnabled(kind != "none")
        self.remember.setEnabled(kind != "none" and keyring_available())

    def _form(self) -> PacsConnection:
        return PacsConnection(
            name=self.name.text().strip(),
            url=self.url.text(),
            auth=self.auth.currentData(),
            username=self.username.text().strip() if self.auth.currentData() == "basic" else "",
            verify_tls=self.verify.isChecked(),
            ca_bundle=self.ca_bundle.text().strip(),
            timeout_s=float(self.timeout.value()),
        )

    def _browse_ca(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "CA bundle", "", "Certificates (*.pem *.crt);;All files (*)"
        )
        if path:
            self.ca_bundle.setText(path)

    # --- actions -------------------------------------------------------------------------------
    def add(self) -> None:
        n = len(self.connections) + 1
        names = {c.name for c in self.connections}
        name = next(f"PACS {i}" for i in range(n, n + len(names) + 2) if f"PACS {i}" not in names)
        self.connections.append(PacsConnection(name, "https://"))
        self.list.addItem(name)
        self.list.setCurrentRow(len(self.connections) - 1)

    def remove(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.connections):
            return
        c = self.connections.pop(row)
        if c.auth != "none":
            keyring_delete(c.url, _user(c))
            pacs_auth.forget(c)
        self.list.takeItem(row)
        self._save()

    def apply(self) -> bool:
        """Store the form into the current connection and save; the secret goes to the keyring
        (when asked) or this session's memory, never to the file."""
        row = self.list.currentRow()
        if not 0 <= row < len(self.connections):
            return False
        conn = self._form()
        try:
            if not conn.name:
                raise RadLabelError("a connection needs a name")
            conn.validate()
        except RadLabelError as e:
            self._error(e.message)
            return False
        old = self.connections[row]
        self.connections[row] = conn
        if not self._save():
            self.connections[row] = old
            return False
        self.list.item(row).setText(conn.name)
        secret = self.secret.text()
        if conn.auth != "none":
            if not self.remember.isChecked():
                keyring_delete(conn.url, _user(conn))
            if secret:
                pacs_auth.remember_for_session(conn, secret)
                if self.remember.isChecked() and not keyring_set(conn.url, _user(conn), secret):
                    self._error("The keyring refused the password: it is kept for this session")
                    return True
        self.secret.clear()
        self.status.setText(f"Saved {conn.name}")
        return True

    def _save(self) -> bool:
        try:
            save_connections(self.connections)
        except RadLabelError as e:
            self._error(e.message)
            return False
        return True

    def test_connection(self) -> None:
        if not self.apply():
            return
        conn = self.connections[self.list.currentRow()]
        creds = pacs_auth.credentials_for(self, conn)
        if creds is None:
            return
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            PacsClient(conn, creds or Credentials()).search(limit=1)
        except RadLabelError as e:
            if "HTTP 401" in e.message or "HTTP 403" in e.message:
                pacs_auth.forget(conn)
            self._error(e.message)
            return
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self.status.setText(f"{conn.name}: the server answered")

    def _error(self, message: str) -> None:
        self.status.setText(message)
        QtWidgets.QMessageBox.critical(self, "PACS servers", message)


def _user(conn: PacsConnection) -> str:
    return conn.username if conn.auth == "basic" else TOKEN_USER
