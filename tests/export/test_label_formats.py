"""Label files: NIfTI / NRRD / .seg.nrrd round trips keep voxels and geometry; imports check grids."""

from __future__ import annotations

import json

import nrrd
import numpy as np
import pytest

from viewer.errors import GeometryError, LoadError, SaveError
from viewer.io.labels.load_save import SAME, load_labels, save_labels
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers, SegmentInfo
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

FORMATS = ("lab.nii.gz", "lab.nrrd", "lab.seg.nrrd")


def _oblique_geometry() -> Geometry:
    c, s = np.cos(0.3), np.sin(0.3)
    direction = np.array([[c, 0, s], [0, -1, 0], [-s, 0, c]])  # rotated and y-flipped
    return Geometry((7, 9, 11), (0.7, 1.3, 4.5), (-12.5, 40.25, 3.0), direction)


def _synthetic() -> tuple[LabelMap, SegmentTable]:
    g = _oblique_geometry()
    rng = np.random.default_rng(0)
    a = rng.choice([0, 0, 0, 3, 7, 300], size=g.shape_zyx).astype(np.uint16)
    table = SegmentTable()
    table.add("liver", (200, 10, 20), segment_id=3)
    table.add("tumour core", (5, 250, 7), segment_id=7)
    table.add("big id", (1, 2, 3), segment_id=300)
    return LabelMap(g, a), table


def _assert_same(loaded, labels: LabelMap) -> None:
    out = loaded.labelmap
    assert out.geometry.same_grid(labels.geometry, tol=1e-5)
    np.testing.assert_allclose(out.geometry.spacing, labels.geometry.spacing, rtol=1e-6)
    assert out.array.dtype == np.uint16
    np.testing.assert_array_equal(out.array, labels.array)


@pytest.mark.parametrize("name", FORMATS)
def test_synthetic_round_trip_keeps_voxels_and_oblique_geometry(tmp_path, name):
    labels, table = _synthetic()
    path = save_labels(tmp_path / name, labels, table)
    loaded = load_labels(path)
    _assert_same(loaded, labels)
    assert load_labels(path, labels.geometry).how == SAME


def test_seg_nrrd_keeps_names_colours_and_ids(tmp_path):
    labels, table = _synthetic()
    loaded = load_labels(save_labels(tmp_path / "x.seg.nrrd", labels, table))
    got = {s.id: (s.name, s.colour) for s in loaded.segments}
    assert got == {s.id: (s.name, s.colour) for s in table}


def test_seg_nrrd_header_is_what_slicer_reads(tmp_path):
    labels, table = _synthetic()
    path = save_labels(tmp_path / "x.seg.nrrd", labels, table)
    data, h = nrrd.read(str(path))  # Fortran order: (x, y, z) like Slicer's reader
    assert h["space"] == "left-posterior-superior"
    assert data.shape == labels.geometry.size_xyz
    assert h["Segmentation_MasterRepresentation"] == "Binary labelmap"
    names = {h[f"Segment{i}_Name"] for i in range(3)}
    assert names == {"liver", "tumour core", "big id"}
    i = [k for k in range(3) if h[f"Segment{k}_Name"] == "liver"][0]
    assert h[f"Segment{i}_LabelValue"] == "3" and h[f"Segment{i}_Layer"] == "0"
    np.testing.assert_allclose(
        [float(v) for v in h[f"Segment{i}_Color"].split()],
        [200 / 255, 10 / 255, 20 / 255],
        atol=1e-5,
    )
    x0, x1, y0, y1, z0, z1 = (int(v) for v in h[f"Segment{i}_Extent"].split())
    zz, yy, xx = np.nonzero(labels.array == 3)
    assert (x0, x1, y0, y1, z0, z1) == (xx.min(), xx.max(), yy.min(), yy.max(), zz.min(), zz.max())


def test_overlapping_segments_keep_their_layers(tmp_path):
    g = Geometry((4, 5, 6), (1.0, 1.0, 2.0))
    layers = LabelLayers(g, [], [])
    a = np.zeros(g.shape_zyx, bool)
    a[1:3, 1:4, 1:4] = True
    b = np.zeros(g.shape_zyx, bool)
    b[2:4, 2:5, 2:6] = True
    layers.add_mask(SegmentInfo(1, "a", (255, 0, 0)), a)
    layers.add_mask(SegmentInfo(2, "b", (0, 255, 0)), b)
    assert len(layers.layers) == 2 and layers.overlap_voxels() == int((a & b).sum())
    back = load_labels(save_labels(tmp_path / "o.seg.nrrd", layers)).layers
    assert len(back.layers) == 2
    for s in back.segments:
        np.testing.assert_array_equal(back.mask(s), a if s.name == "a" else b)
    with pytest.raises(SaveError, match="overlapping"):
        save_labels(tmp_path / "o.nii.gz", layers)


def test_label_on_another_grid_is_resampled_and_said_so(tmp_path):
    fine = Geometry((4, 8, 8), (1.0, 1.0, 1.0))
    coarse = Geometry((2, 4, 4), (2.0, 2.0, 2.0), (0.5, 0.5, 0.5))
    a = np.zeros(fine.shape_zyx, np.uint16)
    a[:, :4, :4] = 5
    save_labels(tmp_path / "f.nii.gz", LabelMap(fine, a))
    loaded = load_labels(tmp_path / "f.nii.gz", coarse)
    assert loaded.how != SAME and "nearest neighbour" in loaded.how
    assert (
        loaded.labelmap.array[:, :2, :2].min() == 5 and loaded.labelmap.array[:, 2:, 2:].max() == 0
    )


def test_label_outside_the_image_is_a_clear_error(tmp_path):
    g = Geometry((3, 4, 5))
    far = Geometry((3, 4, 5), origin=(500.0, 0.0, 0.0))
    save_labels(tmp_path / "l.nrrd", LabelMap(far, np.ones(far.shape_zyx, np.uint16)))
    with pytest.raises(GeometryError, match="does not overlap"):
        load_labels(tmp_path / "l.nrrd", g)


def test_bad_files_give_clear_errors(tmp_path):
    labels, _ = _synthetic()
    with pytest.raises(SaveError, match="unknown label file type"):
        save_labels(tmp_path / "x.png", labels)
    (tmp_path / "junk.nii.gz").write_bytes(b"not a nifti")
    with pytest.raises(LoadError, match="junk.nii.gz"):
        load_labels(tmp_path / "junk.nii.gz")
    (tmp_path / "junk.seg.nrrd").write_bytes(b"NRRD0004\ntype: what\n\n")
    with pytest.raises(LoadError, match="junk.seg.nrrd"):
        load_labels(tmp_path / "junk.seg.nrrd")


def test_ct_label_is_put_on_the_dicom_grid(ct_case, real_data):
    volume, loaded = ct_case
    raw_file = load_labels(real_data / "seg/ct_abdomen_dicom/label.nii.gz")
    raw, raw_geometry = raw_file.labelmap.array, raw_file.source_geometry
    assert "same space" in loaded.how and raw_geometry.orientation_code() == "LAS"
    assert loaded.labelmap.geometry.same_grid(volume.geometry)
    np.testing.assert_array_equal(loaded.labelmap.array, raw[:, ::-1, :])
    names = json.loads((real_data / "seg/ct_abdomen_dicom/labels.json").read_text())["labels"]
    # The four-slice cut holds 28 of the scan's 31 named structures (not pancreas 7, 103, 115).
    assert loaded.labelmap.values() == sorted({int(k) for k in names} - {7, 103, 115})


@pytest.mark.parametrize("name", FORMATS)
def test_ct_round_trip(ct_case, tmp_path, name):
    volume, loaded = ct_case
    labels = loaded.labelmap
    path = save_labels(tmp_path / name, labels, loaded.segments)
    back = load_labels(path, volume.geometry)
    assert back.how == SAME
    _assert_same(back, labels)
    _assert_same(load_labels(path), labels)  # also on its own, without the image


@pytest.mark.parametrize("name", FORMATS)
def test_mr_anisotropic_round_trip(mr_case, tmp_path, name):
    volume, loaded = mr_case
    labels = loaded.labelmap
    assert loaded.how == SAME and volume.geometry.spacing[2] == pytest.approx(6.5, abs=0.01)
    assert labels.values() == [1]
    back = load_labels(save_labels(tmp_path / name, labels, loaded.segments))
    _assert_same(back, labels)


def test_slicer_style_layers_reusing_values_are_renumbered(tmp_path):
    """Slicer stores each layer's segments as 1, 2, ... again; ids must stay distinct here."""
    data = np.zeros((2, 3, 4, 5), np.uint8)  # (layer, x, y, z) in NRRD order
    data[0, 0, 0, 0] = 1
    data[1, 0, 0, 0] = 1  # overlaps segment 0
    data[1, 2, 3, 4] = 1  # x=2, y=3, z=4
    header = {
        "space": "right-anterior-superior",  # Slicer writes LPS; RAS must be converted
        "space directions": np.array([[np.nan] * 3, [2.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]]),
        "kinds": ["list", "domain", "domain", "domain"],
        "space origin": np.array([10.0, 20.0, 30.0]),
    }
    for i, name in enumerate(("kidney", "cyst")):
        header.update({f"Segment{i}_ID": f"S{i}", f"Segment{i}_Name": name})
        header.update({f"Segment{i}_LabelValue": "1", f"Segment{i}_Layer": str(i)})
        header[f"Segment{i}_Color"] = "1 0 0" if i == 0 else "0 0 1"
    nrrd.write(str(tmp_path / "s.seg.nrrd"), data, header)
    layers = load_labels(tmp_path / "s.seg.nrrd").layers
    assert [(s.id, s.name, s.colour, s.layer) for s in layers.segments] == [
        (1, "kidney", (255, 0, 0), 0),
        (2, "cyst", (0, 0, 255), 1),
    ]
    g = layers.geometry
    assert g.origin == (-10.0, -20.0, 30.0) and g.spacing == (2.0, 2.0, 3.0)
    assert g.orientation_code() == "RAS"
    cyst = layers.mask(layers.segments[1])
    assert cyst[0, 0, 0] and cyst[4, 3, 2] and cyst.sum() == 2
    assert layers.overlap_voxels() == 1


def test_seg_nrrd_names_are_utf8_exact_and_cannot_add_fields(tmp_path):
    """Any name saves and reads back exactly (UTF-8, Teem's escapes for a backslash and a
    newline); a carriage return becomes a space; no name can start a header field."""
    g = Geometry((2, 3, 4))
    a = np.zeros(g.shape_zyx, np.uint16)
    names = {
        1: "Leber ü",
        2: "肝臓",
        3: "a, b | c \\ d \\n",
        4: "line1\nSegment7_LabelValue:=2",
        5: "  padded\t",
        6: "cr\rhere",
    }
    table = SegmentTable()
    for sid, name in names.items():
        a.flat[sid] = sid
        table.add(name, (sid, 2, 3), segment_id=sid)
    path = save_labels(tmp_path / "n.seg.nrrd", LabelMap(g, a), table)
    got = [(s.id, s.name, s.layer_value or s.id) for s in load_labels(path).layers.segments]
    assert got == [
        (1, "Leber ü", 1),
        (2, "肝臓", 2),
        (3, "a, b | c \\ d \\n", 3),
        (4, "line1\nSegment7_LabelValue:=2", 4),
        (5, "  padded\t", 5),
        (6, "cr here", 6),
    ]
    head = path.read_bytes().split(b"\n\n")[0]
    assert "Segment0_Name:=Leber ü\n".encode() in head
    assert b"Segment2_Name:=a, b | c \\\\ d \\\\n\n" in head
    assert b"Segment3_Name:=line1\\nSegment7_LabelValue:=2\n" in head
    assert b"\r" not in head and b"\nSegment7_" not in head
    fields = [line.split(b":=")[0] for line in head.split(b"\n") if b":=" in line]
    assert len(fields) == 3 + 6 * 9 and len(set(fields)) == len(fields)
    assert [f for f in fields if f.endswith(b"_LabelValue")] == [
        b"Segment%d_LabelValue" % i for i in range(6)
    ]


def test_seg_nrrd_reads_utf8_names_as_slicer_writes_them(tmp_path):
    g = Geometry((2, 3, 4))
    a = np.zeros(g.shape_zyx, np.uint16)
    a[0, 0, 0], a[1, 1, 1] = 1, 2
    table = SegmentTable()
    table.add("AAAA", (1, 2, 3), segment_id=1)
    table.add("BBBB", (4, 5, 6), segment_id=2)
    path = save_labels(tmp_path / "x.seg.nrrd", LabelMap(g, a), table)
    raw = path.read_bytes()
    raw = raw.replace(b"Name:=AAAA", "Name:=肝臓 – Leber".encode())
    raw = raw.replace(b"Name:=BBBB", b"Name:=left\\\\right\\nkidney")  # Teem's escapes
    slicer = tmp_path / "slicer.seg.nrrd"
    slicer.write_bytes(raw)
    got = [(s.id, s.name, s.colour) for s in load_labels(slicer).layers.segments]
    assert got == [(1, "肝臓 – Leber", (1, 2, 3)), (2, "left\\right\nkidney", (4, 5, 6))]


def test_seg_nrrd_keeps_segments_not_drawn_yet(tmp_path):
    g = Geometry((2, 3, 4))
    a = np.zeros(g.shape_zyx, np.uint16)
    a[1, 2, 3] = 1
    table = SegmentTable()
    table.add("liver", (1, 2, 3), segment_id=1)
    table.add("tumour (not drawn yet)", (4, 5, 6), segment_id=2)
    table.add("later", (7, 8, 9), segment_id=300)
    path = save_labels(tmp_path / "e.seg.nrrd", LabelMap(g, a), table)
    loaded = load_labels(path)
    assert [(s.id, s.name, s.colour) for s in loaded.layers.segments] == [
        (1, "liver", (1, 2, 3)),
        (2, "tumour (not drawn yet)", (4, 5, 6)),
        (300, "later", (7, 8, 9)),
    ]
    np.testing.assert_array_equal(loaded.labelmap.array, a)
    _, h = nrrd.read(str(path))
    assert [h[f"Segment{i}_Extent"] for i in range(3)] == [
        "3 3 2 2 1 1",
        "0 -1 0 -1 0 -1",
        "0 -1 0 -1 0 -1",
    ]
    # formats that cannot store an empty segment get only the drawn ones, as before
    assert [(s.id, s.name) for s in LabelLayers.from_labelmap(LabelMap(g, a), table).segments] == [
        (1, "liver")
    ]
    plain = load_labels(save_labels(tmp_path / "e.nrrd", LabelMap(g, a), table))
    assert [s.id for s in plain.layers.segments] == [1]
