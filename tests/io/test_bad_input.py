"""Broken or non-image input gives a LoadError that names the file and the reason, never a crash."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from viewer.errors import LoadError
from viewer.io import load_volume, scan_dicom_folder


def test_truncated_dicom_says_truncated(test_data):
    path = test_data / "dicom/MR_truncated.dcm"
    with pytest.raises(LoadError, match="truncated") as e:
        load_volume(path)
    assert str(path) in e.value.message


def test_rtstruct_is_not_an_image(test_data):
    with pytest.raises(LoadError, match="RT Structure Set"):
        load_volume(test_data / "dicom/rtstruct.dcm")


def test_empty_folder(tmp_path):
    with pytest.raises(LoadError, match="empty"):
        load_volume(tmp_path)


def test_unsupported_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with pytest.raises(LoadError, match="not a DICOM"):
        load_volume(f)


def _nifti_header(dims: tuple[int, ...], datatype: int = 4, bitpix: int = 16) -> bytes:
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    dim = [len(dims), *dims] + [1] * (7 - len(dims))
    struct.pack_into("<8h", hdr, 40, *dim)
    struct.pack_into("<hh", hdr, 70, datatype, bitpix)
    struct.pack_into("<8f", hdr, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", hdr, 108, 352.0)  # vox_offset
    struct.pack_into("<f", hdr, 112, 1.0)  # scl_slope
    hdr[344:348] = b"n+1\0"
    return bytes(hdr) + b"\0" * 4


def test_header_claiming_a_huge_image_is_refused_before_allocating(tmp_path):
    f = tmp_path / "huge.nii.gz"
    f.write_bytes(gzip.compress(_nifti_header((30000, 30000, 30000)) + b"\0" * 64))
    with pytest.raises(LoadError, match="claims"):
        load_volume(f)


def test_nifti_shorter_than_its_header_is_truncated(tmp_path):
    f = tmp_path / "short.nii"
    f.write_bytes(_nifti_header((64, 64, 64)) + b"\0" * 1000)
    with pytest.raises(LoadError, match="truncated"):
        load_volume(f)


def test_non_orthonormal_affine(real_data):
    path = real_data / "volumes/non_orthonormal_affine.nii.gz"
    with pytest.raises(LoadError, match="non-orthonormal") as e:
        load_volume(path)
    assert str(path) in e.value.message


@pytest.mark.parametrize(
    "name,reason",
    [
        ("MR_truncated.dcm", "truncated"),
        ("rtplan.dcm", "RT Plan"),
        ("rtplan_truncated.dcm", "RT Plan"),
        ("rtstruct.dcm", "RT Structure Set"),
        ("test-SR.dcm", "structured report"),
        ("reportsi.dcm", "structured report"),
        ("waveform_ecg.dcm", "waveform"),
        ("liver_1frame.dcm", "SEG"),
        ("README.txt", "not a DICOM"),
    ],
)
def test_named_broken_pydicom_files(real_data, name, reason):
    with pytest.raises(LoadError, match=reason):
        load_volume(real_data / "dicom/pydicom_test_files" / name)


def test_every_pydicom_test_file_loads_or_gives_load_error(real_data):
    """No file of pydicom's collection (broken ones included) raises anything but LoadError."""
    folder = real_data / "dicom/pydicom_test_files"
    loaded = failed = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            v = load_volume(path)
        except LoadError as e:
            assert str(path) in e.message and e.reason
            failed += 1
        else:
            assert v.array.size > 0 and np.all(np.isfinite(v.geometry.spacing))
            loaded += 1
    assert loaded >= 40 and failed >= 10


def test_folder_scan_lists_skipped_files_with_reasons(real_data):
    scan = scan_dicom_folder(real_data / "dicom/pydicom_test_files")
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in scan.skipped}
    assert "RT Structure Set" in reasons["rtstruct.dcm"]
    assert "structured report" in reasons["test-SR.dcm"]
    assert "not a DICOM" in reasons["README.txt"]
    assert len(scan.all_series()) > 20
