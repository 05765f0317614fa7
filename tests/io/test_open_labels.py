"""viewer.io.open_labels: every label format onto an image grid, with names, colours, layers,
notes and clear errors; and the command-line paths that use it (export, evaluate)."""

from __future__ import annotations

import functools
import json

import nrrd
import numpy as np
import pytest

from viewer.errors import GeometryError, LoadError
from viewer.io import load_label_for, load_volume, open_labels, write_volume
from viewer.io.labels.load_save import SAME, save_labels
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume

SHAPE = (4, 6, 8)


@pytest.fixture
def volume() -> Volume:
    g = Geometry(SHAPE, (1.0, 1.5, 2.0), (5.0, -3.0, 10.0))
    return Volume(np.zeros(SHAPE, np.int16), g, "CT", name="synthetic")


def _labels(volume: Volume) -> LabelMap:
    a = np.zeros(SHAPE, np.uint16)
    a[1:3, 1:4, 2:5] = 3
    a[0, 0, 0] = 7
    return LabelMap(volume.geometry, a)


def _table() -> SegmentTable:
    t = SegmentTable()
    t.add("liver", (200, 100, 50), segment_id=3)
    t.add("cyst", (10, 20, 250), segment_id=7)
    return t


@pytest.mark.parametrize("name", ["l.nii.gz", "l.nii", "l.nrrd", "l.mha", "l.mhd"])
def test_plain_label_files_open_onto_the_image(volume, tmp_path, name):
    labels = _labels(volume)
    write_volume(labels.array, labels.geometry, str(tmp_path / name))
    notes: list[str] = []
    got = open_labels(volume, tmp_path / name, notes)
    assert got.how == SAME and not notes and not got.named
    np.testing.assert_array_equal(got.labelmap.array, labels.array)
    assert got.labelmap.geometry.same_grid(volume.geometry)
    assert got.segments.ids() == [3, 7]
    np.testing.assert_array_equal(load_label_for(volume, tmp_path / name).array, labels.array)


def test_seg_nrrd_round_trip_keeps_names_and_colours(volume, tmp_path):
    labels = _labels(volume)
    path = save_labels(tmp_path / "l.seg.nrrd", labels, _table())
    got = open_labels(volume, path)
    assert got.format == "seg-nrrd" and got.named and got.how == SAME
    np.testing.assert_array_equal(got.labelmap.array, labels.array)
    assert [(s.id, s.name, s.colour) for s in got.segments] == [
        (3, "liver", (200, 100, 50)),
        (7, "cyst", (10, 20, 250)),
    ]


def test_overlapping_seg_nrrd_layers_are_flattened_with_a_note(volume, tmp_path):
    layers = LabelLayers(volume.geometry, [], [])
    a = np.zeros(SHAPE, bool)
    a[:2] = True
    b = np.zeros(SHAPE, bool)
    b[1:3] = True  # slice 1 is in both
    layers.add_mask(SegmentInfo(1, "kidney", (255, 0, 0)), a)
    layers.add_mask(SegmentInfo(2, "tumour", (0, 255, 0)), b)
    assert len(layers.layers) == 2
    path = save_labels(tmp_path / "o.seg.nrrd", layers)
    notes: list[str] = []
    got = open_labels(volume, path, notes)
    assert len(got.layers.layers) == 2  # layers kept for exports that can hold them
    (note,) = notes
    overlap = SHAPE[1] * SHAPE[2]
    assert f"{overlap} voxels belong to more than one segment" in note
    assert f"kidney {overlap}" in note and "tumour" not in note.split("lose voxels:")[1]
    flat = got.labelmap.array
    assert (flat[0] == 1).all() and (flat[1] == 2).all() and (flat[2] == 2).all()


def test_label_on_a_flipped_grid_is_resampled_with_a_note(volume, tmp_path):
    labels = _labels(volume)
    g = volume.geometry
    flip = np.diag([1.0, -1.0, 1.0])
    origin = np.asarray(g.origin) + g.direction[:, 1] * g.spacing[1] * (SHAPE[1] - 1)
    flipped = Geometry(SHAPE, g.spacing, tuple(origin), g.direction @ flip)
    write_volume(labels.array[:, ::-1, :].copy(), flipped, str(tmp_path / "f.nii.gz"))
    notes: list[str] = []
    got = open_labels(volume, tmp_path / "f.nii.gz", notes)
    assert "nearest neighbour" in got.how and notes == [got.how]
    np.testing.assert_array_equal(got.labelmap.array, labels.array)


def test_names_file_beside_a_plain_label(volume, tmp_path):
    labels = _labels(volume)
    write_volume(labels.array, labels.geometry, str(tmp_path / "case_label.nii.gz"))
    names = {"labels": {"3": "liver", "7": {"name": "cyst", "color": [1, 2, 3]}, "9": "absent"}}
    (tmp_path / "case_labels.json").write_text(json.dumps(names))
    notes: list[str] = []
    got = open_labels(volume, tmp_path / "case_label.nii.gz", notes)
    assert got.named and notes == ["segment names from case_labels.json"]
    assert [(s.id, s.name, s.colour) for s in got.segments] == [
        (3, "liver", got.segments.get(3).colour),
        (7, "cyst", (1, 2, 3)),
    ]
    (tmp_path / "case_labels.json").write_text("{not json")
    notes.clear()
    got = open_labels(volume, tmp_path / "case_label.nii.gz", notes)
    assert not got.named and "segment names not taken from case_labels.json" in notes[0]


def test_bad_label_files_give_clear_errors(volume, tmp_path, test_data):
    cases = {}
    (tmp_path / "x.png").write_bytes(b"\x89PNG....")
    cases["x.png"] = "unknown label file type"
    (tmp_path / "empty.nii.gz").write_bytes(b"")
    cases["empty.nii.gz"] = "empty"
    (tmp_path / "junk.nrrd").write_bytes(b"not an nrrd at all")
    cases["junk.nrrd"] = "NRRD"
    write_volume(np.full(SHAPE, 0.5, np.float32), volume.geometry, str(tmp_path / "p.nii.gz"))
    cases["p.nii.gz"] = "whole numbers"
    for name, reason in cases.items():
        with pytest.raises(LoadError, match=reason) as e:
            open_labels(volume, tmp_path / name)
        assert e.value.path.endswith(name)
    with pytest.raises(LoadError, match="folder is not a label file"):
        open_labels(volume, tmp_path)
    with pytest.raises(LoadError, match="no such file"):
        open_labels(volume, tmp_path / "missing.nii.gz")
    with pytest.raises(LoadError, match="not a DICOM SEG") as e:
        open_labels(volume, test_data / "dicom" / "CT_small.dcm")
    assert "CT_small.dcm" in e.value.message


def test_4d_label_file_is_refused(volume, tmp_path):
    import nibabel as nib

    nib.save(nib.Nifti1Image(np.zeros((8, 6, 4, 2), np.uint8), np.eye(4)), tmp_path / "t.nii.gz")
    with pytest.raises(LoadError, match="one 3D volume"):
        open_labels(volume, tmp_path / "t.nii.gz")


def test_layered_plain_nrrd_is_read_as_layers(volume, tmp_path):
    """A layer ('list') axis without Slicer's segment fields must not be read as time points."""
    data = np.zeros((2, *SHAPE[::-1]), np.uint8)  # (layer, x, y, z)
    data[0, 0, 0, 0] = 1
    data[1, 0, 0, 0] = 2
    g = volume.geometry
    header = {
        "space": "left-posterior-superior",
        "space directions": np.vstack([np.full(3, np.nan), np.diag(g.spacing)]),
        "kinds": ["list", "domain", "domain", "domain"],
        "space origin": np.array(g.origin),
    }
    nrrd.write(str(tmp_path / "layers.nrrd"), data, header)
    notes: list[str] = []
    got = open_labels(volume, tmp_path / "layers.nrrd", notes)
    assert len(got.layers.layers) == 2 and "1 voxels belong to more than one segment" in notes[0]


# --- DICOM SEG ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _load_cached(path: str) -> Volume:
    return load_volume(path)


@pytest.fixture
def ct3(real_data):
    """ct_abdomen_3slice: a 3-slice CT series with dcmqi DICOM SEGs and NRRD masks beside it."""
    d = real_data / "seg" / "ct_abdomen_3slice"
    return d, _load_cached(str(d / "dicom"))


def test_dicom_seg_opens_onto_its_series_like_the_nrrd_mask(ct3):
    d, volume = ct3
    notes: list[str] = []
    got = open_labels(volume, d / "liver_dicom_seg.dcm", notes)
    assert got.format == "dicom-seg" and got.how == SAME and not notes
    mask, _ = nrrd.read(str(d / "liver_seg.nrrd"), index_order="C")
    reference = open_labels(volume, d / "liver_seg.nrrd").labelmap
    np.testing.assert_array_equal(reference.array > 0, mask > 0)
    np.testing.assert_array_equal(got.labelmap.array > 0, reference.array > 0)
    assert [s.name for s in got.segments] == ["Liver"] and got.labelmap.values() == [1]


def test_overlapping_dicom_seg_segments_are_noted(ct3):
    d, volume = ct3
    notes: list[str] = []
    got = open_labels(volume, d / "partial_overlaps_dicom_seg.dcm", notes)
    assert len(got.layers.layers) > 1
    assert any("belong to more than one segment" in n and "GREEN" in n for n in notes)
    assert got.labelmap.values() == sorted(s.id for s in got.layers.segments)


def test_dicom_seg_onto_other_images(ct3, tmp_path):
    d, volume = ct3
    # the same series as NIfTI: placed by coordinates, with a note that nothing was checked
    write_volume(volume.array, volume.geometry, str(tmp_path / "ct.nii.gz"))
    nifti = load_volume(tmp_path / "ct.nii.gz")
    notes: list[str] = []
    got = open_labels(nifti, d / "liver_dicom_seg.dcm", notes)
    assert any("not DICOM" in n for n in notes)
    assert np.count_nonzero(got.labelmap.array) > 1000
    # another frame of reference: refused, whatever the coordinates say
    other = Volume(volume.array, volume.geometry, "CT", metadata=dict(volume.metadata))
    other.metadata["FrameOfReferenceUID"] = "1.2.3.4"
    with pytest.raises(GeometryError, match="another frame of reference"):
        open_labels(other, d / "liver_dicom_seg.dcm")
    # a grid elsewhere in space: refused
    far = Geometry(volume.geometry.shape_zyx, volume.geometry.spacing, (5000.0, 0.0, 0.0))
    with pytest.raises(GeometryError, match="outside the image"):
        open_labels(Volume(volume.array, far, "CT"), d / "liver_dicom_seg.dcm")


# --- command line ---------------------------------------------------------------------------


def test_export_reads_metaimage_and_dicom_seg(ct3, tmp_path, capsys):
    from viewer.cli.main import run_cli

    d, volume = ct3
    image = ["--image", str(d / "dicom")]
    out = tmp_path / "seg.seg.nrrd"
    argv = ["export", "--format", "seg-nrrd", *image, "--out", str(out)]
    assert run_cli([*argv, "--label", str(d / "partial_overlaps_dicom_seg.dcm")]) == 0
    assert "belong to more than one segment" in capsys.readouterr().out
    back = open_labels(volume, out)
    assert [s.name for s in back.segments] == [
        "GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"
    ]  # fmt: skip
    assert len(back.layers.layers) > 1  # the overlaps survive the export
    liver = open_labels(volume, d / "liver_seg.nrrd").labelmap
    write_volume(liver.array, liver.geometry, str(tmp_path / "liver.mha"))
    out = tmp_path / "liver.nii.gz"
    argv = ["export", "--format", "nifti", *image, "--out", str(out)]
    assert run_cli([*argv, "--label", str(tmp_path / "liver.mha")]) == 0
    np.testing.assert_array_equal(open_labels(volume, out).labelmap.array, liver.array)


def test_evaluate_reads_labels_through_open_labels(ct3):
    from viewer.cli.evaluate import load_case

    d, volume = ct3
    image, spacing, label, names = load_case(str(d / "dicom"), str(d / "liver_dicom_seg.dcm"))
    assert image.shape == label.shape == volume.geometry.shape_zyx
    assert np.count_nonzero(label == 1) > 1000
