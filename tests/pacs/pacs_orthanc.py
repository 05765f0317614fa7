"""A private Orthanc with its DICOMweb plugin for the tests, the benchmark and the docs screenshot.

It runs as the current user on a free loopback port with a temporary storage folder and a
generated configuration (HTTP basic authentication on, remote access off, no DICOM listener);
nothing is shared with a system Orthanc service the Debian package may have installed.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import requests

USER, PASSWORD = "radiologist", "correct horse battery"
PLUGIN_GLOBS = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so*",
    "/usr/lib/*/orthanc/libOrthancDicomWeb.so*",
    "/usr/local/share/orthanc/plugins/libOrthancDicomWeb.so",
)
INSTALL_HINT = "apt-get install orthanc orthanc-dicomweb (make test does this when run as root)"


def find_orthanc() -> tuple[str, str] | str:
    """(Orthanc binary, DICOMweb plugin) or the reason they cannot be used."""
    binary = shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if os.path.isfile(p)), None
    )
    if binary is None:
        return f"Orthanc is not installed ({INSTALL_HINT})"
    plugin = os.environ.get("ORTHANC_DICOMWEB_PLUGIN") or next(
        (p for pattern in PLUGIN_GLOBS for p in sorted(glob.glob(pattern))), None
    )
    if plugin is None or not os.path.isfile(plugin):
        return f"Orthanc's DICOMweb plugin is not installed ({INSTALL_HINT})"
    return binary, plugin


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OrthancServer:
    """Start with `start()`, stop with `stop()`; `dicomweb_url` is the DICOMweb root."""

    def __init__(self) -> None:
        found = find_orthanc()
        if isinstance(found, str):
            raise RuntimeError(found)
        self.binary, self.plugin = found
        self.tmp = tempfile.mkdtemp(prefix="radlabel-orthanc-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dicomweb_url = f"{self.url}/dicom-web"
        self.auth = (USER, PASSWORD)
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        storage = os.path.join(self.tmp, "storage")
        os.makedirs(storage)
        config = {
            "Name": "RadLabelTest",
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "DicomPort": free_port(),  # unused (server off) but never a taken default
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "Plugins": [self.plugin],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "StudiesMetadata": "Full"},
            "HttpCompressionEnabled": False,
            "StorageCompression": False,
        }
        path = os.path.join(self.tmp, "config.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        return path

    def start(self, wait_s: float = 30.0) -> OrthancServer:
        config = self._config()
        self.log = open(os.path.join(self.tmp, "orthanc.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.binary, config], stdout=self.log, stderr=subprocess.STDOUT, cwd=self.tmp
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited at start: {self.log_tail()}")
            try:
                if requests.get(f"{self.url}/system", auth=self.auth, timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {wait_s:g} s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            with open(
                os.path.join(self.tmp, "orthanc.log"), encoding="utf-8", errors="replace"
            ) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if getattr(self, "log", None) is not None:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- Orthanc's own REST API (what the tests set up behind DICOMweb's back) ------------------
    def upload(self, paths) -> None:
        for p in paths:
            with open(p, "rb") as f:
                r = requests.post(
                    f"{self.url}/instances", data=f.read(), auth=self.auth, timeout=30
                )
            r.raise_for_status()

    def delete_series(self, series_uid: str) -> None:
        r = requests.post(f"{self.url}/tools/lookup", data=series_uid, auth=self.auth, timeout=10)
        r.raise_for_status()
        for item in r.json():
            if item["Type"] == "Series":
                requests.delete(f"{self.url}/series/{item['ID']}", auth=self.auth, timeout=10)

    def clear(self) -> None:
        r = requests.get(f"{self.url}/patients", auth=self.auth, timeout=10)
        for pid in r.json():
            requests.delete(f"{self.url}/patients/{pid}", auth=self.auth, timeout=10)
