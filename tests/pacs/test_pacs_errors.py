"""Each way a server can fail gives one clear line: wrong password, nobody listening, HTTP 500,
no answer in time; and a bearer token reaches the server as an Authorization header."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
from pacs_orthanc import free_port

from viewer.errors import LoadError, SaveError
from viewer.io.pacs import Credentials, PacsClient, PacsConnection
from viewer.io.pacs.client import PacsSeries


class _Handler(http.server.BaseHTTPRequestHandler):
    behaviour = "500"
    seen_auth: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).seen_auth.append(self.headers.get("Authorization", ""))
        if self.behaviour == "slow":
            time.sleep(2.0)
        if self.behaviour == "json":
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
        else:
            body = b"database is on fire"
            self.send_response(500, "Internal Server Error")
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout test)
            pass

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def fake_server():
    servers = []

    def start(behaviour: str) -> str:
        handler = type("H", (_Handler,), {"behaviour": behaviour, "seen_auth": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/dicom-web", handler

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_wrong_password(connection):
    client = PacsClient(connection, Credentials(connection.username, "wrong"))
    with pytest.raises(LoadError) as e:
        client.search(patient_id="dicom2nifti")
    assert e.value.message == (
        f"{connection.url}: search: the server refused the user name, password or token (HTTP 401)"
    )


def test_wrong_password_when_storing_is_a_save_error(connection, tmp_path):
    from pacs_data import DICOM

    client = PacsClient(connection, Credentials(connection.username, "wrong"))
    with pytest.raises(SaveError, match=r"store: the server refused .* \(HTTP 401\)$"):
        client.store_files([DICOM / "CT_small.dcm"])


def test_unreachable_server():
    url = f"http://127.0.0.1:{free_port()}/dicom-web"  # nobody listens there
    client = PacsClient(PacsConnection("gone", url, timeout_s=5))
    t = time.monotonic()
    with pytest.raises(LoadError) as e:
        client.search()
    assert e.value.message == (
        f"{url}: search: cannot reach the server (is the address right and the server running?)"
    )
    assert time.monotonic() - t < 5  # refused at once, no retries with back-off


def test_server_error_500(fake_server):
    url, _ = fake_server("500")
    client = PacsClient(PacsConnection("broken", url, timeout_s=5))
    with pytest.raises(LoadError) as e:
        client.search(patient_id="x")
    assert e.value.message == f"{url}: search: the server answered HTTP 500 Internal Server Error"
    with pytest.raises(LoadError, match="retrieve|search"):
        client.retrieve_series(PacsSeries("1.2.3", "1.2.3.4"))


def test_server_that_does_not_answer_in_time(fake_server):
    url, _ = fake_server("slow")
    client = PacsClient(PacsConnection("slow", url, timeout_s=0.3))
    t = time.monotonic()
    with pytest.raises(LoadError) as e:
        client.search()
    assert e.value.message == f"{url}: search: the server did not answer within 0.3 s"
    assert time.monotonic() - t < 1.5


def test_bearer_token_is_sent_as_authorization_header(fake_server):
    url, handler = fake_server("json")
    conn = PacsConnection("token", url, auth="bearer")
    assert PacsClient(conn, Credentials(token="tok-123")).search() == []
    assert handler.seen_auth == ["Bearer tok-123"]


def test_basic_auth_over_plain_http_sends_no_password_in_the_url(fake_server):
    url, handler = fake_server("json")
    conn = PacsConnection("basic", url, auth="basic", username="ann")
    PacsClient(conn, Credentials("ann", "pw")).search()
    assert handler.seen_auth == ["Basic YW5uOnB3"]  # base64("ann:pw")


def test_no_thumbnail_when_the_server_cannot_render(fake_server):
    url, _ = fake_server("500")
    client = PacsClient(PacsConnection("broken", url, timeout_s=5))
    assert client.thumbnail(PacsSeries("1.2.3", "1.2.3.4")) is None


def test_missing_orthanc_gives_the_skip_reason(monkeypatch):
    import pacs_orthanc

    monkeypatch.setattr(pacs_orthanc.shutil, "which", lambda name: None)
    monkeypatch.setattr(pacs_orthanc.os.path, "isfile", lambda p: False)
    assert pacs_orthanc.find_orthanc() == (
        "Orthanc is not installed (apt-get install orthanc orthanc-dicomweb "
        "(make test does this when run as root))"
    )


def test_a_series_that_arrives_short_is_refused_and_not_cached(tmp_path, monkeypatch):
    from viewer.io.pacs import cache

    url = "http://127.0.0.1:9/dicom-web"
    client = PacsClient(PacsConnection("short", url))
    series = PacsSeries("1.2.3", "1.2.3.4")
    monkeypatch.setattr(client, "instance_uids", lambda s: [f"1.2.3.4.{i}" for i in range(5)])

    def three_of_five(series, into, expected, progress, cancel):
        for i in range(3):  # the server listed 5, the stream ended after 3 (HTTP 206, a cut)
            (into / f"{i + 1:05d}.dcm").write_bytes(b"DICM")
        return 3

    monkeypatch.setattr(client, "_download", three_of_five)
    with pytest.raises(LoadError) as e:
        client.retrieve_series(series, root=tmp_path)
    assert e.value.message == (
        f"{url}: the server sent 3 of the series' 5 instances; nothing was kept (try again)"
    )
    folder = cache.series_dir(tmp_path, url, series.study_uid, series.series_uid)
    assert not cache.cached_series(folder)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
