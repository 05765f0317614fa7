"""Search, retrieve, open and store back against a real Orthanc (DICOMweb plugin)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pacs_data import DICOM, MR_SERIES, MR_STUDY, SERIES_FILES
from pydicom.uid import generate_uid

from viewer.errors import LoadError, SaveError
from viewer.io import LoadCancelled, load_volume, open_labels
from viewer.io.pacs import cache
from viewer.io.pacs.jobs import PacsCaseRef, open_series, store_seg
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable


def _series(client, patient_id="dicom2nifti", modality="MR"):
    studies = client.search(patient_id=patient_id, modality=modality)
    return [s for st in studies for s in st.series]


def test_search_by_patient_id_finds_the_uploaded_series(client):
    studies = client.search(patient_id="dicom2nifti")
    assert [s.study_uid for s in studies] == [MR_STUDY]
    st = studies[0]
    assert (st.patient_id, st.patient_name, st.date) == ("dicom2nifti", "dicom2nifti", "20180606")
    mr = [s for s in st.series if s.modality == "MR"]
    assert [(s.series_uid, s.instances, s.number) for s in mr] == [(MR_SERIES, 4, 201)]


def test_search_filters_name_date_and_modality(client):
    by_name = client.search(patient_name="CompressedSamples")  # a prefix matches
    assert sorted(s.patient_id for s in by_name) == ["1CT1", "4MR1"]
    ct = client.search(patient_name="CompressedSamples", modality="CT")
    assert [(s.patient_id, [x.modality for x in s.series]) for s in ct] == [("1CT1", ["CT"])]
    in_2004 = client.search(date_from="2004-01-01", date_to="2004-12-31")
    assert sorted(s.patient_id for s in in_2004) == ["1CT1", "4MR1"]
    assert client.search(patient_id="nobody") == []
    with pytest.raises(LoadError, match="dates must be YYYYMMDD"):
        client.search(date_from="1.1.2004")


def test_retrieved_series_loads_exactly_like_the_files_on_disk(client, tmp_path):
    (series,) = _series(client)
    seen = []
    volume = open_series(client, series, progress=lambda f, t: seen.append(f))
    disk = load_volume(DICOM / "non_isotropic")
    assert volume.geometry.shape_zyx == disk.geometry.shape_zyx
    assert volume.geometry.spacing == disk.geometry.spacing
    assert volume.geometry.origin == disk.geometry.origin
    np.testing.assert_array_equal(volume.geometry.direction, disk.geometry.direction)
    np.testing.assert_array_equal(volume.array, disk.array)
    assert volume.array.dtype == disk.array.dtype
    assert PacsCaseRef.of(volume) == PacsCaseRef(client.url, MR_STUDY, MR_SERIES)
    # one step per instance while downloading (80 % of the bar), then the folder loader's own
    assert seen[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert seen[-1] == 1.0 and all(0.8 <= f <= 1.0 for f in seen[4:])
    folder = cache.series_dir(cache.cache_root(), client.url, MR_STUDY, MR_SERIES)
    assert len(list(folder.glob("*.dcm"))) == len(SERIES_FILES) == 4


def test_second_open_comes_from_the_cache(client, orthanc, monkeypatch):
    (series,) = _series(client)
    open_series(client, series)

    def no_network(*a, **k):
        raise AssertionError("the cached series was downloaded again")

    monkeypatch.setattr(client.client, "iter_series", no_network)
    volume = open_series(client, series)
    assert volume.geometry.shape_zyx[0] == 4


def test_store_seg_back_and_find_it_in_the_next_search(client):
    (series,) = _series(client, "1CT1", "CT")  # CT_small: one 128x128 slice
    volume = open_series(client, series)
    array = np.zeros(volume.geometry.shape_zyx, np.uint16)
    array[0, 20:50, 30:90] = 1
    table = SegmentTable()
    table.add("lesion", (255, 0, 0), segment_id=1)
    before = {s.series_uid for s in _series(client, "1CT1", "SEG")}  # other tests store too
    result = store_seg(client, volume, LabelMap(volume.geometry, array), table)
    assert len(result.stored) == 1 and result.failed == []
    segs = [s for s in _series(client, "1CT1", "SEG") if s.series_uid not in before]
    assert len(segs) == 1 and segs[0].study_uid == series.study_uid and segs[0].instances == 1
    # the stored object is a SEG on this series with the drawn voxels
    folder = client.retrieve_series(segs[0])
    (seg_file,) = folder.glob("*.dcm")
    ds = pydicom.dcmread(seg_file)
    assert ds.SOPInstanceUID == result.stored[0]
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == series.series_uid
    back = open_labels(volume, seg_file)
    np.testing.assert_array_equal(back.labelmap.array, array)


def test_store_seg_of_an_image_without_frame_of_reference_says_why(client):
    (series,) = _series(client)  # the dicom2nifti series has no FrameOfReferenceUID
    volume = open_series(client, series)
    labels = LabelMap(volume.geometry, np.ones(volume.geometry.shape_zyx, np.uint16))
    with pytest.raises(SaveError) as e:
        store_seg(client, volume, labels)
    assert e.value.message == (
        f"{volume.source_path}: DICOM SEG: the source images have no FrameOfReferenceUID; "
        "a SEG cannot be placed"
    )
    assert _series(client, modality="SEG") == []


def _upload_copy(client, patient_id):
    ds = pydicom.dcmread(DICOM / "CT_small.dcm")
    ds.PatientID, ds.PatientName, ds.StudyDate = patient_id, "Copy^Of^CT", "20250102"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    client.store_datasets([ds])
    (series,) = _series(client, patient_id, "CT")
    return series


def test_series_deleted_between_search_and_retrieve(client, orthanc):
    series = _upload_copy(client, "deleted-later")
    orthanc.delete_series(series.series_uid)
    with pytest.raises(LoadError) as e:
        open_series(client, series)
    assert e.value.message == (
        f"{client.url}: retrieve: the series is no longer on the server (deleted since the "
        "search?); search again"
    )
    assert not list(cache.cache_root().glob("*/*/*.partial-*"))


def test_cancel_leaves_nothing_in_the_cache(client):
    (series,) = _series(client)
    with pytest.raises(LoadCancelled):
        client.retrieve_series(series, cancel=lambda: True, root=cache.cache_root() / "c")
    assert [p for p in (cache.cache_root() / "c").rglob("*") if p.is_file()] == []


def test_thumbnail_is_the_server_rendered_middle_image(client):
    (series,) = _series(client)
    data = client.thumbnail(series)
    # the server picks among the types we accept (Orthanc 1.10 answers JPEG)
    assert data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 500
