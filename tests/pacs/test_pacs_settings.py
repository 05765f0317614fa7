"""Connections on disk hold no secrets; secrets come from the environment, the keyring or a
prompt; the retrieval cache stays under its size limit. No server needed."""

from __future__ import annotations

import json
import os

import pytest

from viewer.errors import LoadError, SaveError
from viewer.io.pacs import PacsConnection, cache, credentials, load_connections, save_connections


def test_connections_round_trip_without_secrets(tmp_path):
    conns = [
        PacsConnection("Main", "https://pacs.example.org/dicom-web/", "basic", "ann"),
        PacsConnection("Research", "http://127.0.0.1:8042/dicom-web", "bearer", ca_bundle=""),
    ]
    path = save_connections(conns, tmp_path / "c.json")
    assert load_connections(path) == conns
    assert conns[0].url == "https://pacs.example.org/dicom-web"  # trailing slash dropped
    data = json.loads(path.read_text())
    assert set(data["connections"][0]) == {
        "name", "url", "auth", "username", "verify_tls", "ca_bundle", "timeout_s"
    }  # fmt: skip
    assert "password" not in path.read_text() and "token" not in path.read_text()


def test_connections_default_file_is_in_the_user_folder():
    save_connections([PacsConnection("A", "http://127.0.0.1:1/dicom-web")])
    path = os.path.join(os.environ["RADLABEL_DATA_DIR"], "pacs_connections.json")
    assert os.path.isfile(path)
    assert [c.name for c in load_connections()] == ["A"]


def test_duplicate_names_and_bad_files_are_refused(tmp_path):
    with pytest.raises(SaveError, match="two PACS connections have the same name"):
        save_connections([PacsConnection("A", "http://a"), PacsConnection("A", "http://b")])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(LoadError, match=r"bad.json: cannot read the PACS connections"):
        load_connections(bad)


@pytest.mark.parametrize(
    "conn, reason",
    [
        (PacsConnection("x", "ftp://host/dicom-web"), "must start with http:// or https://"),
        (PacsConnection("x", "https://ann:pw@host/dw"), "put the user name in the User field"),
        (PacsConnection("x", "https://host/dw", auth="basic"), "needs a user name"),
        (PacsConnection("x", "https://host/dw", auth="kerberos"), "authentication must be one"),
        (PacsConnection("x", "https://host/dw", ca_bundle="/nonexistent.pem"), "does not exist"),
    ],
)
def test_invalid_connections_say_why(conn, reason):
    with pytest.raises(LoadError, match=reason):
        conn.validate()


def test_password_from_environment_then_keyring_then_prompt(monkeypatch, memory_keyring):
    url = "https://pacs.example.org/dicom-web"
    asked = []
    ask = lambda: asked.append(1) or "typed"  # noqa: E731
    assert credentials.resolve_password(url, "ann", ask) == "typed" and asked == [1]
    assert credentials.keyring_set(url, "ann", "from-keyring")
    assert memory_keyring.store == {("RadLabel PACS " + url, "ann"): "from-keyring"}
    assert credentials.resolve_password(url, "ann", ask) == "from-keyring"
    monkeypatch.setenv("RADLABEL_PACS_PASSWORD", "from-env")
    assert credentials.resolve_password(url, "ann", ask) == "from-env"
    assert asked == [1]
    credentials.keyring_delete(url, "ann")
    assert memory_keyring.store == {}


def test_token_from_named_variable_or_keyring(monkeypatch, memory_keyring):
    url = "https://pacs.example.org/dicom-web"
    monkeypatch.setenv("MY_TOKEN", "t-env")
    assert credentials.resolve_token(url, "MY_TOKEN") == "t-env"
    credentials.keyring_set(url, credentials.TOKEN_USER, "t-ring")
    assert credentials.resolve_token(url, None) == "t-ring"
    assert credentials.resolve_token(url, "UNSET_VAR_XYZ") == "t-ring"


def test_no_keyring_backend_means_nothing_stored(monkeypatch):
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    assert not credentials.keyring_available()
    assert credentials.keyring_set("https://h/dw", "ann", "pw") is False
    assert credentials.resolve_password("https://h/dw", "ann", None) is None


def test_a_plain_text_keyring_is_not_used(monkeypatch, memory_keyring):
    import keyring

    class PlaintextKeyring(type(memory_keyring)):
        pass

    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    assert not credentials.keyring_available()
    assert credentials.keyring_set("https://h/dw", "ann", "pw") is False
    assert plain.store == {}


def test_credentials_repr_hides_secrets():
    text = repr(credentials.Credentials("ann", "hunter2", "tok"))
    assert "hunter2" not in text and "tok'" not in text and "ann" in text


def _fake_series(root, url, n, size, age):
    folder = cache.series_dir(root, url, "1.2", f"1.2.{n}")
    folder.mkdir(parents=True)
    (folder / "00001.dcm").write_bytes(b"x" * size)
    (folder / cache.MARKER).write_text('{"instances": 1}')
    os.utime(folder / cache.MARKER, (age, age))
    return folder


def test_cache_evicts_least_recently_used_series_beyond_the_limit(tmp_path):
    url = "http://127.0.0.1:1/dicom-web"
    old = _fake_series(tmp_path, url, 1, 1000, 1_000)
    mid = _fake_series(tmp_path, url, 2, 1000, 2_000)
    new = _fake_series(tmp_path, url, 3, 1000, 3_000)
    assert cache.cached_series(mid)  # using it makes it the most recent
    removed = cache.evict(tmp_path, limit=2100, keep=new)
    assert removed == [old]
    assert not old.exists() and mid.exists() and new.exists()
    assert cache.evict(tmp_path, limit=0, keep=new) == [mid]
    assert new.exists()


def test_cache_refuses_uids_that_are_not_uids(tmp_path):
    with pytest.raises(ValueError):
        cache.series_dir(tmp_path, "http://h", "../../etc", "1.2")


def test_cache_limit_from_environment(monkeypatch):
    monkeypatch.setenv(cache.LIMIT_ENV, "250")
    assert cache.cache_limit_bytes() == 250 * 1024**2
    monkeypatch.setenv(cache.LIMIT_ENV, "lots")
    assert cache.cache_limit_bytes() == cache.DEFAULT_LIMIT_BYTES


def test_incomplete_cache_folder_is_not_a_hit(tmp_path):
    folder = _fake_series(tmp_path, "http://h", 1, 10, 1_000)
    (folder / cache.MARKER).write_text('{"instances": 2}')
    assert not cache.cached_series(folder)
