"""DICOM SEG: export references the source series and reads back with highdicom and pydicom;
dcmqi SEG files (including overlapping segments) import onto their series; a SEG on another
grid is resampled onto the image; names in any script survive; Deflated files are inflated
within what their header claims."""

from __future__ import annotations

import math
from pathlib import Path

import highdicom as hd
import nrrd
import numpy as np
import pydicom
import pytest
from dicom_factory import AXIAL, CORONAL, SAGITTAL, write_series
from pydicom.uid import DeflatedExplicitVRLittleEndian

from viewer.errors import LoadError, SaveError
from viewer.io import load_volume
from viewer.io.dicom_seg import export_dicom_seg
from viewer.io.dicom_seg_import import SegPlacement, read_dicom_seg
from viewer.io.labels.format import GridFit
from viewer.io.labels.grid import label_onto_grid
from viewer.io.labels.load_save import load_labels
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume
from viewer.services.export import export_study


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


# --- a SEG on another grid than the image ------------------------------------------------------


def _series(
    folder: Path,
    number: int,
    *,
    slices: int,
    rows: int,
    columns: int,
    spacing=(1.0, 1.0),
    slice_gap: float = 2.0,
    orientation=AXIAL,
    origin=(0.0, 0.0, 0.0),
) -> Volume:
    """A small DICOM series (dicom_factory; one frame of reference for all) with the pixel
    spacing (row, column), slice gap, orientation and first position given."""
    write_series(
        folder,
        description=f"series {number}",
        number=number,
        slices=slices,
        rows=rows,
        columns=columns,
        orientation=orientation,
    )
    normal = np.cross(orientation[:3], orientation[3:])
    for k, f in enumerate(sorted(folder.iterdir())):
        ds = pydicom.dcmread(f)
        ds.PixelSpacing, ds.SliceThickness = list(spacing), slice_gap
        ds.ImagePositionPatient = [float(v) for v in np.asarray(origin) + normal * slice_gap * k]
        ds.save_as(f)
    return load_volume(str(folder))


def _resampled_note(pixels: str, slices: str, voxels: str) -> str:
    return (
        f"SEG pixels of {pixels} mm, slices {slices} mm apart, do not match the image's "
        f"{voxels} mm voxels one to one: resampled with nearest neighbour (each voxel takes the "
        "SEG pixel its centre lies in)"
    )


def test_a_seg_coarser_than_the_image_paints_each_pixel_footprint(tmp_path):
    """2 mm SEG pixels on a 1 mm image whose voxel centres include the pixel centres: each pixel
    fills its 2 x 2 voxels (not one voxel in four), and the fit is not 'same grid'."""
    coarse = _series(tmp_path / "a", 1, slices=3, rows=4, columns=3, spacing=(2.0, 2.0))
    fine = _series(tmp_path / "b", 2, slices=3, rows=8, columns=6)
    labels = np.zeros(coarse.geometry.shape_zyx, np.uint16)
    labels[1, 1, 1] = 1  # centre x = y = z = 2 mm: footprint x, y in [1, 3)
    labels[0, 3, 2] = 2  # the far corner, centre (4, 6, 0): footprint x in [3, 5), y in [5, 7)
    export_dicom_seg(coarse, LabelMap(coarse.geometry, labels), tmp_path / "seg.dcm")
    got = read_dicom_seg(tmp_path / "seg.dcm", fine.geometry)
    want = np.zeros(fine.geometry.shape_zyx, np.uint16)
    # a voxel centre on the border of two pixels belongs to the higher one (ITK's nearest
    # neighbour does the same): x = 1 to pixel 1, x = 5 to a pixel past the frame's edge
    want[1, 1:3, 1:3] = 1
    want[0, 5:7, 3:5] = 2
    np.testing.assert_array_equal(got.layers.to_labelmap().array, want)
    note = _resampled_note("2 x 2", "2", "1 x 1 x 2")
    assert got.how is SegPlacement.RESAMPLED and got.notes == [note]
    loaded = load_labels(tmp_path / "seg.dcm", fine.geometry)
    assert loaded.fit is GridFit.RESAMPLED and loaded.how == note


@pytest.mark.parametrize("slab", ["declared", "from the planes"])
def test_a_seg_with_wider_slices_fills_the_image_slices_between(tmp_path, slab):
    thick = _series(tmp_path / "a", 1, slices=3, rows=4, columns=3, slice_gap=3.0)  # z 0, 3, 6
    thin = _series(tmp_path / "b", 2, slices=9, rows=4, columns=3, slice_gap=1.0)  # z 0 .. 8
    labels = np.zeros(thick.geometry.shape_zyx, np.uint16)
    labels[1, 2, 1] = 1  # z = 3 mm: its slab [1.5, 4.5) holds the thin slices 2, 3, 4
    labels[2, 0, 0] = 1  # z = 6 mm: [4.5, 7.5) holds 5, 6, 7 (the empty z = 0 frame is omitted)
    path = tmp_path / "seg.dcm"
    export_dicom_seg(thick, LabelMap(thick.geometry, labels), path)
    if slab == "from the planes":  # no Spacing Between Slices: the planes 3 mm apart tell it
        ds = pydicom.dcmread(path)
        measures = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
        del measures.SpacingBetweenSlices
        measures.SliceThickness = 5.0  # thicker than the planes are apart: the planes win
        ds.save_as(path)
    got = read_dicom_seg(path, thin.geometry)
    want = np.zeros(thin.geometry.shape_zyx, np.uint16)
    want[2:5, 2, 1] = 1
    want[5:8, 0, 0] = 1
    np.testing.assert_array_equal(got.layers.to_labelmap().array, want)
    assert got.how is SegPlacement.RESAMPLED
    assert got.notes == [_resampled_note("1 x 1", "3", "1 x 1 x 1")]


def _turned(degrees: float) -> tuple:
    t = math.radians(degrees)
    return (math.cos(t), math.sin(t), 0.0, -math.sin(t), math.cos(t), 0.0)


# (SEG's image, other image): no voxel centre of the other image lies on a pixel border
RESAMPLINGS = {
    "oblique onto flipped": (
        dict(spacing=(2.1, 1.9), slice_gap=2.5, orientation=_turned(20), origin=(0.3, -0.2, 0.1)),
        dict(
            slices=13,
            rows=16,
            columns=14,
            spacing=(0.7, 0.8),
            slice_gap=0.9,
            orientation=(-1.0, 0.0, 0.0, 0.0, -1.0, 0.0),
            origin=(9.0, 9.5, -1.3),
        ),
    ),
    "sagittal onto coronal": (
        dict(spacing=(2.1, 1.9), slice_gap=2.5, orientation=SAGITTAL, origin=(0.3, -0.2, 0.1)),
        dict(
            slices=13,
            rows=14,
            columns=12,
            spacing=(0.7, 0.8),
            slice_gap=0.9,
            orientation=CORONAL,
            origin=(-9.0, -1.5, 1.3),
        ),
    ),
    "turned, same spacing": (
        dict(spacing=(1.0, 1.0), slice_gap=1.0, orientation=_turned(30), origin=(0.3, -0.2, 0.1)),
        dict(slices=6, rows=14, columns=14, slice_gap=1.0, origin=(-3.0, -3.5, -1.3)),
    ),
}


@pytest.mark.parametrize("case", sorted(RESAMPLINGS))
def test_seg_resampling_is_nearest_neighbour_in_any_orientation(tmp_path, case):
    """Against SimpleITK's nearest-neighbour resampling of the SEG's own label map (what other
    label files get): voxel for voxel, for oblique, flipped and non-axial grids; and on its own
    (oblique or non-axial) image the SEG comes back exactly, on the voxel centres."""
    seg_grid, image_grid = RESAMPLINGS[case]
    own = _series(tmp_path / "a", 1, slices=4, rows=6, columns=5, **seg_grid)
    other = _series(tmp_path / "b", 2, **image_grid)
    rng = np.random.default_rng(0)
    labels = rng.integers(1, 3, size=own.geometry.shape_zyx).astype(np.uint16)
    labels[rng.random(labels.shape) < 0.6] = 0
    path = export_dicom_seg(own, LabelMap(own.geometry, labels), tmp_path / "seg.dcm").path
    got = read_dicom_seg(path, other.geometry)
    want = label_onto_grid(labels, own.geometry, other.geometry).array
    assert np.count_nonzero(want) > 50
    np.testing.assert_array_equal(got.layers.to_labelmap().array, want)
    assert got.how is SegPlacement.RESAMPLED
    back = read_dicom_seg(path, own.geometry)
    np.testing.assert_array_equal(back.layers.to_labelmap().array, labels)
    assert back.how is SegPlacement.ON_VOXEL_CENTRES and not back.notes


def test_a_seg_finer_than_the_image_keeps_thin_structures(tmp_path):
    """0.5 mm SEG pixels on a 1 mm image: each pixel still marks the voxel its centre falls in
    (nearest neighbour from the voxel centres would lose a line one pixel wide)."""
    fine = _series(
        tmp_path / "a", 1, slices=2, rows=7, columns=8, spacing=(0.5, 0.5), origin=(0.25, 0.25, 0)
    )
    coarse = _series(tmp_path / "b", 2, slices=2, rows=4, columns=4)
    labels = np.zeros(fine.geometry.shape_zyx, np.uint16)
    labels[0, :, 1] = 1  # x = 0.75 mm, y = 0.25 .. 3.25 mm
    export_dicom_seg(fine, LabelMap(fine.geometry, labels), tmp_path / "seg.dcm")
    got = read_dicom_seg(tmp_path / "seg.dcm", coarse.geometry)
    want = np.zeros(coarse.geometry.shape_zyx, np.uint16)
    want[0, :, 1] = 1
    np.testing.assert_array_equal(got.layers.to_labelmap().array, want)
    assert got.how is SegPlacement.NEAREST_VOXEL and not got.notes
    loaded = load_labels(tmp_path / "seg.dcm", coarse.geometry)
    assert loaded.fit is GridFit.NEAREST_VOXEL
    assert loaded.notes == [
        "SEG frames do not fall on the image's voxel centres: placed on the nearest voxel"
    ]


def test_a_seg_whose_frames_do_not_end_on_a_byte_reads_back(tmp_path):
    """5 x 3 pixels a frame: DICOM packs the bits of all frames as one run, so frame 2 starts
    in the middle of a byte."""
    volume = _series(tmp_path / "a", 1, slices=3, rows=5, columns=3)
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, 0, 0], labels[1, 4, 2], labels[1, 2, 1], labels[2, 3, 0] = 1, 1, 2, 2
    path = export_dicom_seg(volume, LabelMap(volume.geometry, labels), tmp_path / "s.dcm").path
    assert pydicom.dcmread(path).NumberOfFrames == 4
    back = read_dicom_seg(path, volume.geometry)
    np.testing.assert_array_equal(back.layers.to_labelmap().array, labels)


# --- names and segments a SEG cannot hold as they are ---------------------------------------------


def test_segment_names_in_any_script_survive_and_changed_names_are_noted(tmp_path):
    volume = _series(tmp_path / "a", 1, slices=2, rows=4, columns=3)
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, 0, 0], labels[0, 1, 1], labels[1, 2, 2] = 300, 7, 40000
    table = SegmentTable()
    table.add("Leber (ĳ ü) – 肝臓", (10, 200, 30), segment_id=300)
    table.add("left\\right kidney", (1, 2, 3), segment_id=7)
    table.add("x" * 70, (250, 250, 5), segment_id=40000)
    result = export_dicom_seg(volume, LabelMap(volume.geometry, labels), tmp_path / "s.dcm", table)
    ds = pydicom.dcmread(result.path)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert [s.SegmentLabel for s in ds.SegmentSequence] == [
        "left/right kidney",
        "Leber (ĳ ü) – 肝臓",
        "x" * 64,
    ]
    assert result.notes == [
        "segment 'left\\right kidney' written as 'left/right kidney': DICOM names cannot hold '\\'",
        f"segment '{'x' * 70}' is longer than 64 characters: written as '{'x' * 64}'",
    ]
    back = read_dicom_seg(result.path, volume.geometry)
    assert {s.id: s.name for s in back.layers.segments} == {
        7: "left/right kidney",
        300: "Leber (ĳ ü) – 肝臓",
        40000: "x" * 64,
    }


def test_a_foreign_seg_label_split_by_a_backslash_reads_as_one_name(tmp_path):
    volume = _series(tmp_path / "a", 1, slices=2, rows=4, columns=3)
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, 0, 0] = 1
    path = export_dicom_seg(volume, LabelMap(volume.geometry, labels), tmp_path / "s.dcm").path
    ds = pydicom.dcmread(path)
    ds.SegmentSequence[0].SegmentLabel = ["left", "right kidney"]  # written as 'left\\right ...'
    ds.save_as(path)
    (segment,) = read_dicom_seg(path, volume.geometry).layers.segments
    assert segment.name == "left\\right kidney"


def test_a_defined_segment_without_voxels_is_left_out_with_a_note(tmp_path):
    volume = _series(tmp_path / "a", 1, slices=2, rows=4, columns=3)
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, 0, 0] = 1
    table = SegmentTable()
    table.add("liver", (1, 2, 3), segment_id=1)
    table.add("tumour (not drawn yet)", (4, 5, 6), segment_id=2)
    out = tmp_path / "seg.dcm"
    lines = export_study("dicom-seg", volume, LabelMap(volume.geometry, labels), table, out)
    assert lines[0] == "note: segment 'tumour (not drawn yet)' has no voxels: not written"
    assert [s.SegmentLabel for s in pydicom.dcmread(out).SegmentSequence] == ["liver"]
    # the same from layers that list the segment
    layers = LabelLayers(
        volume.geometry,
        [labels],
        [SegmentInfo(1, "liver", (1, 2, 3)), SegmentInfo(2, "cyst", (4, 5, 6))],
    )
    result = export_dicom_seg(volume, layers, tmp_path / "layers.dcm")
    assert result.segments == 1
    assert result.notes == ["segment 'cyst' has no voxels: not written"]


# --- Deflated files ------------------------------------------------------------------------------


def _deflated(path: Path, out: Path, change=None) -> Path:
    """The SEG at `path` rewritten with the Deflated transfer syntax, after `change`."""
    ds = pydicom.dcmread(path)
    if change is not None:
        change(ds)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(out, enforce_file_format=True)
    return out


@pytest.fixture
def small_seg(tmp_path) -> tuple[Volume, np.ndarray, Path]:
    volume = _series(tmp_path / "a", 1, slices=3, rows=4, columns=3)
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, 1, 1], labels[2, 3, 2] = 1, 2
    path = export_dicom_seg(volume, LabelMap(volume.geometry, labels), tmp_path / "s.dcm").path
    return volume, labels, path


def test_a_deflated_seg_reads_like_the_plain_one(small_seg, tmp_path):
    volume, labels, path = small_seg
    deflated = _deflated(path, tmp_path / "deflated.dcm")
    back = read_dicom_seg(deflated, volume.geometry)
    np.testing.assert_array_equal(back.layers.to_labelmap().array, labels)
    assert back.how is SegPlacement.ON_VOXEL_CENTRES


@pytest.mark.parametrize(
    "tag", [0x0009, 0x0029], ids=["before the pixel geometry", "after the pixel geometry"]
)
def test_a_deflated_seg_that_inflates_past_its_header_is_refused(small_seg, tmp_path, tag):
    """~20 MB of zeros deflate to ~20 KB: the read stops at the bound (16 MB, plus the claimed
    pixels and 8 KB a frame once Frames, Rows and Columns are known) with one line."""
    volume, _, path = small_seg

    def change(ds):
        ds.add_new((tag << 16) | 0x0010, "LO", "bomb")
        ds.add_new((tag << 16) | 0x1011, "OB", bytes(20 * 2**20))

    bomb = _deflated(path, tmp_path / "bomb.dcm", change)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(LoadError) as e:
        read_dicom_seg(bomb, volume.geometry)
    assert e.value.message == (  # past the geometry: 16 MB + 2 frames x 8 KB + 3 bytes
        f"{bomb}: the Deflated SEG inflates past 16.0 MB, more than its header accounts for "
        "(a decompression bomb?)"
    )


def test_a_seg_claiming_more_pixels_than_its_file_holds_is_refused_before_decoding(
    small_seg, tmp_path
):
    volume, _, path = small_seg

    def change(ds):
        ds.Rows = ds.Columns = 60000  # 2 frames (the empty slice has none) of 60000^2 bits

    deflated = _deflated(path, tmp_path / "deflated.dcm", change)
    with pytest.raises(LoadError) as e:
        read_dicom_seg(deflated, volume.geometry)
    message = e.value.message
    assert message.startswith(f"{deflated}: header claims 858.3 MB of pixels but the file holds")
    assert message.endswith("KB (corrupt or truncated header)")
    plain = tmp_path / "plain.dcm"
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(plain)
    with pytest.raises(LoadError) as e:
        read_dicom_seg(plain, volume.geometry)
    assert e.value.message == (
        f"{plain}: file is truncated: header claims 858.3 MB of pixels but the file holds only "
        "4 bytes"  # 2 frames of 4 x 3 bits, padded to an even length
    )
