"""Credentials for the GUI's PACS connections: the keyring when it has them, else the user is
asked once per session (kept only in this process's memory, never in the settings)."""

from __future__ import annotations

from PyQt5 import QtWidgets

from viewer.io.pacs import Credentials, PacsConnection
from viewer.io.pacs.credentials import TOKEN_USER, resolve_password, resolve_token

# (url, user) -> secret typed this session; gone when the app exits
_SESSION: dict[tuple[str, str], str] = {}


def _key(conn: PacsConnection) -> tuple[str, str]:
    return conn.url, conn.username if conn.auth == "basic" else TOKEN_USER


def remember_for_session(conn: PacsConnection, secret: str) -> None:
    _SESSION[_key(conn)] = secret


def forget(conn: PacsConnection) -> None:
    """Drop the session's copy (e.g. after the server refused it)."""
    _SESSION.pop(_key(conn), None)


def credentials_for(parent: QtWidgets.QWidget | None, conn: PacsConnection) -> Credentials | None:
    """What `conn` needs to authenticate; None when the user cancels the prompt."""
    if conn.auth == "none":
        return Credentials()
    key = _key(conn)
    if key in _SESSION:
        secret: str | None = _SESSION[key]
    else:

        def ask() -> str | None:
            what = f"Password for {conn.username}" if conn.auth == "basic" else "Bearer token"
            text, ok = QtWidgets.QInputDialog.getText(
                parent, f"PACS {conn.name}", f"{what} at {conn.url}:", QtWidgets.QLineEdit.Password
            )
            return text if ok and text else None

        if conn.auth == "basic":
            secret = resolve_password(conn.url, conn.username, ask)
        else:
            secret = resolve_token(conn.url, None, ask)
        if secret is None:
            return None
        _SESSION[key] = secret
    if conn.auth == "basic":
        return Credentials(conn.username, secret)
    return Credentials(token=secret)
