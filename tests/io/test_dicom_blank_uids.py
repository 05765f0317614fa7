"""De-identified DICOM with blank UIDs: SOP UIDs come from the file meta header, no invented
SeriesInstanceUID reaches the metadata, and the loader's own `series_id` still selects the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from viewer.cli.info import collect
from viewer.io import load_volume, scan_dicom_folder

BLANKED = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID")


def _blank_copy(src: Path, dst: Path) -> list[str]:
    """Copy a DICOM series with its dataset UIDs emptied (as some anonymisers leave them)."""
    dst.mkdir()
    sops = []
    for f in sorted(src.glob("*.dcm")):
        ds = pydicom.dcmread(f)
        sops.append(str(ds.file_meta.MediaStorageSOPInstanceUID))
        for key in BLANKED:
            ds[key].value = ""
        ds.save_as(dst / f.name, enforce_file_format=True)
    return sops


def test_blank_dataset_uids_fall_back_to_file_meta(test_data, tmp_path):
    src = test_data / "dicom" / "non_isotropic"
    sops = _blank_copy(src, tmp_path / "anon")
    assert str(pydicom.dcmread(tmp_path / "anon" / "001.dcm").SOPInstanceUID) == ""
    v = load_volume(tmp_path / "anon")
    m = v.metadata
    assert sorted(m["SOPInstanceUIDs"]) == sorted(sops) and all(m["SOPInstanceUIDs"])
    assert m["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage, from file meta
    assert m["SeriesInstanceUID"] is None and m["StudyInstanceUID"] is None
    assert m["series_id"].startswith("series-")
    # Same voxels as the original series: only the UIDs differ.
    ref = load_volume(src)
    np.testing.assert_array_equal(v.array, ref.array)
    assert v.geometry.same_grid(ref.geometry)
    assert ref.metadata["SeriesInstanceUID"] == ref.metadata["series_id"]


def test_series_id_selects_a_series_without_uid(test_data, tmp_path):
    _blank_copy(test_data / "dicom" / "non_isotropic", tmp_path / "anon")
    scan = scan_dicom_folder(tmp_path / "anon")
    (series,) = scan.all_series()
    assert series.series_uid == "" and series.to_dict()["series_uid"] is None
    assert scan.find(series.series_id) is series
    info = collect(str(tmp_path / "anon"), series=series.series_id)
    assert info["volume"]["series_id"] == series.series_id


def test_ct_abdomen_dicom_keeps_real_uids_only(real_data):
    d = real_data / "seg" / "ct_abdomen_dicom" / "dicom"
    v = load_volume(d)
    m = v.metadata
    files = m["source_files"]
    meta = [pydicom.dcmread(f, stop_before_pixels=True).file_meta for f in files[:3]]
    assert m["SOPInstanceUIDs"][:3] == [str(x.MediaStorageSOPInstanceUID) for x in meta]
    assert m["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    assert m["SeriesInstanceUID"] is None
    assert m["series_id"] and not m["series_id"].startswith("1.")
