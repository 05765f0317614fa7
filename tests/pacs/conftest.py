"""Fixtures for the PACS tests: one real Orthanc (DICOMweb plugin, authentication on) for the
session, holding the tests/data series uploaded with STOW-RS; an in-memory keyring."""

from __future__ import annotations

import pytest
from pacs_data import OTHER_FILES, SERIES_FILES
from pacs_orthanc import PASSWORD, USER, OrthancServer, find_orthanc


class MemoryKeyring:
    """A keyring backend that keeps secrets in a dict (tests never touch the user's keyring)."""

    def __new__(cls):
        from keyring.backend import KeyringBackend

        class _Backend(KeyringBackend):
            priority = 1

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service, username):
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                self.store.pop((service, username), None)

        return _Backend()


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch):
    import keyring

    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("RADLABEL_PACS_PASSWORD", raising=False)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def orthanc():
    found = find_orthanc()
    if isinstance(found, str):
        pytest.skip(found)
    server = OrthancServer().start()
    try:
        from viewer.io.pacs import Credentials, PacsClient, PacsConnection

        conn = PacsConnection("test", server.dicomweb_url, "basic", USER, timeout_s=10)
        PacsClient(conn, Credentials(USER, PASSWORD)).store_files(SERIES_FILES + OTHER_FILES)
        yield server
    finally:
        server.stop()


@pytest.fixture
def connection(orthanc):
    from viewer.io.pacs import PacsConnection

    return PacsConnection("Test Orthanc", orthanc.dicomweb_url, "basic", USER, timeout_s=10)


@pytest.fixture
def client(connection):
    from viewer.io.pacs import Credentials, PacsClient

    return PacsClient(connection, Credentials(USER, PASSWORD))
