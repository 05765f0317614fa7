"""`main.py pacs search/get/store` against the real Orthanc; the password never on the command
line (environment, keyring or a terminal prompt)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pacs_data import DICOM, MR_SERIES, MR_STUDY
from pacs_orthanc import PASSWORD, USER

from viewer.io import load_volume


def _run(argv):
    from viewer.cli.main import run_cli

    return run_cli(argv)


@pytest.fixture
def env_password(monkeypatch):
    monkeypatch.setenv("RADLABEL_PACS_PASSWORD", PASSWORD)


def test_search_json(orthanc, env_password, capsys):
    argv = ["pacs", "search", orthanc.dicomweb_url, "--user", USER]
    assert _run([*argv, "--patient-id", "dicom2nifti", "--modality", "MR", "--json"]) == 0
    (study,) = json.loads(capsys.readouterr().out)
    assert study["study_uid"] == MR_STUDY and study["patient_id"] == "dicom2nifti"
    assert [(s["series_uid"], s["modality"], s["instances"]) for s in study["series"]] == [
        (MR_SERIES, "MR", 4)
    ]


def test_search_text(orthanc, env_password, capsys):
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER, "--modality", "CT"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("1CT1  CompressedSamples^CT1  20040119")
    assert out[1].split()[:4] == ["CT", "#1", "1", "images"]
    assert out[-1] == "1 study found"


def test_get_series_writes_files_that_load_like_the_originals(orthanc, env_password, tmp_path):
    out = tmp_path / "out"
    argv = ["pacs", "get", orthanc.dicomweb_url, MR_STUDY, MR_SERIES, "--out", str(out)]
    assert _run([*argv, "--user", USER]) == 0
    got = load_volume(out / MR_SERIES)
    disk = load_volume(DICOM / "non_isotropic")
    assert got.geometry.same_grid(disk.geometry)
    np.testing.assert_array_equal(got.array, disk.array)


def test_store_then_find(orthanc, env_password, tmp_path, capsys):
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(DICOM / "MR_small.dcm")
    ds.PatientID, ds.PatientName, ds.StudyDate = "cli-store", "Cli^Store", "20250101"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = tmp_path / "one.dcm"
    ds.save_as(path)
    assert _run(["pacs", "store", orthanc.dicomweb_url, str(path), "--user", USER]) == 0
    assert capsys.readouterr().out.strip() == (f"stored 1 of 1 instances at {orthanc.dicomweb_url}")
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER, "--patient-id",
                 "cli-store", "--json"]) == 0  # fmt: skip
    (study,) = json.loads(capsys.readouterr().out)
    assert study["series"][0]["series_uid"] == ds.SeriesInstanceUID


def test_password_from_keyring(orthanc, memory_keyring, capsys):
    from viewer.io.pacs.credentials import keyring_set

    keyring_set(orthanc.dicomweb_url, USER, PASSWORD)
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) >= 3


def test_password_prompt_on_a_terminal(orthanc, monkeypatch, capsys):
    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or PASSWORD)
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER, "--json"]) == 0
    assert asked == [f"Password for {USER} at {orthanc.dicomweb_url}: "]


def test_no_password_anywhere_is_one_clear_line(orthanc, capsys):
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {orthanc.dicomweb_url}: no password for {USER}: set RADLABEL_PACS_PASSWORD, "
        "store it in the keyring (File > PACS... in the app) or run on a terminal to be asked\n"
    )


def test_wrong_password_is_one_clear_line(orthanc, monkeypatch, capsys):
    monkeypatch.setenv("RADLABEL_PACS_PASSWORD", "wrong")
    assert _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER]) == 2
    assert capsys.readouterr().err == (
        f"error: {orthanc.dicomweb_url}: search: the server refused the user name, password or "
        "token (HTTP 401)\n"
    )


def test_password_is_not_an_option(orthanc):
    with pytest.raises(SystemExit):
        _run(["pacs", "search", orthanc.dicomweb_url, "--user", USER, "--password", "x"])


def test_token_env_unset_says_so(orthanc, capsys):
    argv = ["pacs", "search", orthanc.dicomweb_url, "--token-env", "RADLABEL_NO_SUCH_VAR"]
    assert _run(argv) == 2
    assert capsys.readouterr().err == (
        f"error: {orthanc.dicomweb_url}: the environment variable RADLABEL_NO_SUCH_VAR is not set\n"
    )


def test_get_unknown_series(orthanc, env_password, tmp_path, capsys):
    argv = ["pacs", "get", orthanc.dicomweb_url, MR_STUDY, "1.2.3.4", "--out", str(tmp_path)]
    assert _run([*argv, "--user", USER]) == 2
    assert capsys.readouterr().err == (
        f"error: {orthanc.dicomweb_url}: series 1.2.3.4 is not on the server\n"
    )
