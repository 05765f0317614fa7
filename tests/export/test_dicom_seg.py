"""DICOM SEG: export references the source series and reads back with highdicom and pydicom;
dcmqi SEG files (including overlapping segments) import onto their series."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import nrrd
import numpy as np
import pydicom
import pytest

from viewer.errors import SaveError
from viewer.io.dicom_seg import export_dicom_seg
from viewer.io.dicom_seg_import import read_dicom_seg
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.model.volume import Volume


@pytest.fixture
def ct_seg(ct_case, tmp_path_factory):
    """One export of the ct_abdomen_dicom cut's 28 segments, shared by the tests of this module."""
    global _CT_SEG
    if _CT_SEG is None:
        volume, loaded = ct_case
        out = tmp_path_factory.mktemp("seg") / "ct_seg.dcm"
        _CT_SEG = export_dicom_seg(volume, loaded.labelmap, out, loaded.segments)
    return _CT_SEG


_CT_SEG = None


def _source_sop_uids(volume: Volume) -> list[str]:
    """The instance UIDs of the source files (from the file meta: the datasets' own are blank)."""
    uids = []
    for f in volume.metadata["source_files"]:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        uids.append(str(ds.get("SOPInstanceUID") or ds.file_meta.MediaStorageSOPInstanceUID))
    return uids


def test_ct_seg_reads_back_with_pydicom_and_references_the_source(ct_case, ct_seg):
    volume, loaded = ct_case
    ds = pydicom.dcmread(ct_seg.path)
    assert ds.Modality == "SEG" and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert ds.FrameOfReferenceUID == volume.metadata["FrameOfReferenceUID"]
    assert len(ds.SegmentSequence) == len(loaded.labelmap.values()) == ct_seg.segments
    names = {s.id: s.name for s in loaded.segments}
    assert [s.SegmentLabel for s in ds.SegmentSequence] == [
        names[v] for v in loaded.labelmap.values()
    ]
    (ref,) = ds.ReferencedSeriesSequence
    assert ref.SeriesInstanceUID == ct_seg.referenced_series_uid
    referenced = {str(i.ReferencedSOPInstanceUID) for i in ref.ReferencedInstanceSequence}
    assert referenced <= set(_source_sop_uids(volume)) and referenced
    # this series was de-identified with blank study/series UIDs: the export says what it did
    assert any("SeriesInstanceUID" in n for n in ct_seg.notes)


def test_ct_seg_reads_back_with_highdicom(ct_case, ct_seg):
    volume, loaded = ct_case
    seg = hd.seg.segread(ct_seg.path)
    assert seg.number_of_segments == ct_seg.segments
    assert seg.get_segment_description(1).segment_label == loaded.segments.segments[0].name
    assert ct_seg.referenced_series_uid in {
        s.SeriesInstanceUID for s in seg.ReferencedSeriesSequence
    }
    sops = _source_sop_uids(volume)
    # highdicom's own reading of slice z, segment "liver" (id 5) against our label map
    number = [
        s.segment_number
        for s in seg.SegmentSequence
        if s.SegmentLabel == loaded.segments.get(5).name
    ][0]
    z = int(np.argmax((loaded.labelmap.array == 5).sum(axis=(1, 2))))
    pixels = seg.get_pixels_by_source_instance(
        [sops[z]], segment_numbers=[number], combine_segments=False
    )
    np.testing.assert_array_equal(pixels[0, :, :, 0] > 0, loaded.labelmap.array[z] == 5)


def test_ct_seg_round_trip_is_voxel_identical(ct_case, ct_seg):
    volume, loaded = ct_case
    back = read_dicom_seg(ct_seg.path, volume.geometry)
    assert back.how == "on voxel centres" and not back.notes
    out = back.layers.to_labelmap()
    assert out.geometry.same_grid(volume.geometry)
    np.testing.assert_array_equal(out.array, loaded.labelmap.array)
    assert {s.id: s.name for s in back.layers.segments} == {
        s.id: s.name for s in loaded.segments if s.id in out.values()
    }
    assert {s.id: s.colour for s in back.layers.segments} == {
        s.id: s.colour for s in loaded.segments
    }


def test_dcmqi_liver_matches_the_nrrd_mask(ct3_volume, real_data):
    d = real_data / "seg" / "ct_abdomen_3slice"
    got = read_dicom_seg(d / "liver_dicom_seg.dcm", ct3_volume.geometry)
    (liver,) = got.layers.segments
    assert liver.name == "Liver" and got.how == "on voxel centres"
    mask, _ = nrrd.read(str(d / "liver_seg.nrrd"), index_order="C")
    assert mask.shape == ct3_volume.geometry.shape_zyx
    np.testing.assert_array_equal(got.layers.mask(liver), mask > 0)
    assert ct3_volume.metadata["SeriesInstanceUID"] in got.referenced_series_uids


def test_dcmqi_partial_overlaps_keep_every_segment(ct3_volume, real_data, tmp_path):
    path = real_data / "seg" / "ct_abdomen_3slice" / "partial_overlaps_dicom_seg.dcm"
    got = read_dicom_seg(path, ct3_volume.geometry)
    names = [s.name for s in got.layers.segments]
    assert names == ["GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"]
    assert len(got.layers.layers) > 1 and got.layers.overlap_voxels() > 0
    # independent reference: highdicom's per-instance pixels for each segment
    seg = hd.seg.segread(path)
    sops = ct3_volume.metadata["SOPInstanceUIDs"]
    for number, s in enumerate(got.layers.segments, start=1):
        ref = np.zeros(ct3_volume.geometry.shape_zyx, bool)
        for z, uid in enumerate(sops):
            try:
                px = seg.get_pixels_by_source_instance(
                    [uid],
                    segment_numbers=[number],
                    combine_segments=False,
                    ignore_spatial_locations=True,
                )
            except (ValueError, KeyError):  # no frame of this segment on this slice
                continue
            ref[z] = px[0, :, :, 0] > 0
        np.testing.assert_array_equal(got.layers.mask(s), ref, err_msg=s.name)
    # and the overlapping layers survive our own export and import
    out = export_dicom_seg(ct3_volume, got.layers, tmp_path / "overlap.dcm")
    again = read_dicom_seg(out.path, ct3_volume.geometry)
    for a, b in zip(got.layers.segments, again.layers.segments, strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(got.layers.mask(a), again.layers.mask(b))


def test_seg_of_a_non_dicom_image_explains_why_not(mr_case, tmp_path):
    volume, loaded = mr_case
    with pytest.raises(SaveError, match="NRRD file, not from a DICOM series"):
        export_dicom_seg(volume, loaded.labelmap, tmp_path / "x.dcm")
    bare = Volume(np.zeros((2, 3, 4), np.int16), Geometry((2, 3, 4)), source_path="/x/scan.nii.gz")
    with pytest.raises(SaveError, match="scan.nii.gz: .*NIFTI file, not from a DICOM series"):
        export_dicom_seg(
            bare, LabelMap(bare.geometry, np.ones((2, 3, 4), np.uint16)), tmp_path / "y.dcm"
        )
    assert not (tmp_path / "x.dcm").exists() and not (tmp_path / "y.dcm").exists()


def test_empty_or_misplaced_labels_are_refused(ct3_volume, tmp_path):
    empty = LabelMap(ct3_volume.geometry)
    with pytest.raises(SaveError, match="empty"):
        export_dicom_seg(ct3_volume, empty, tmp_path / "e.dcm")
    other = LabelLayers.from_labelmap(
        LabelMap(Geometry((3, 512, 512)), np.ones((3, 512, 512), np.uint16))
    )
    with pytest.raises(SaveError, match="not on the image grid"):
        export_dicom_seg(ct3_volume, other, tmp_path / "o.dcm")


def test_import_of_a_non_seg_file_is_a_clear_error(ct3_volume):
    from viewer.errors import LoadError

    with pytest.raises(LoadError, match="not a DICOM SEG"):
        read_dicom_seg(ct3_volume.metadata["source_files"][0], ct3_volume.geometry)


def _mutated_seg(ct_seg, tmp_path, change) -> Path:
    ds = pydicom.dcmread(ct_seg.path)
    change(ds)
    out = tmp_path / "mutated_seg.dcm"
    ds.save_as(out)
    return out


def test_tracking_ids_that_are_not_label_values_fall_back_to_the_segment_number(
    ct_case, ct_seg, tmp_path
):
    def change(ds):
        ds.SegmentSequence[0].TrackingID = "RadLabel label 70000"
        ds.SegmentSequence[1].TrackingID = "RadLabel label x"

    volume, _ = ct_case
    path = _mutated_seg(ct_seg, tmp_path, change)
    back = read_dicom_seg(path, volume.geometry)
    numbers = [int(item.SegmentNumber) for item in pydicom.dcmread(path).SegmentSequence[:2]]
    ids = [s.id for s in back.layers.segments]
    assert ids[:2] == numbers and max(ids) <= 65535


@pytest.mark.parametrize("damage", ["no-segment-number", "one-pixel-spacing", "no-position"])
def test_a_seg_with_damaged_tags_is_one_load_error_naming_it(ct_case, ct_seg, tmp_path, damage):
    from viewer.errors import LoadError

    def change(ds):
        if damage == "no-segment-number":
            del ds.SegmentSequence[0].SegmentNumber
        elif damage == "one-pixel-spacing":
            shared = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
            shared.PixelSpacing = [0.7]
            for frame in ds.PerFrameFunctionalGroupsSequence:
                if "PixelMeasuresSequence" in frame:
                    frame.PixelMeasuresSequence[0].PixelSpacing = [0.7]
        else:
            del ds.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0].ImagePositionPatient

    volume, _ = ct_case
    path = _mutated_seg(ct_seg, tmp_path, change)
    with pytest.raises(LoadError) as e:
        read_dicom_seg(path, volume.geometry)
    assert str(path) in e.value.message and "\n" not in e.value.message
