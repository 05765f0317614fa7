"""`main.py export`: every format from the command line, one-line errors for impossible requests."""

from __future__ import annotations

import json

import numpy as np
import pydicom

from viewer.cli.main import run_cli
from viewer.io.labels.load_save import load_labels


def _mr(real_data):
    d = real_data / "seg" / "mr_brain_tumour"
    return ["--image", str(d / "image.nrrd"), "--label", str(d / "label.nrrd")]


def test_label_formats_meshes_and_stats(real_data, tmp_path, capsys):
    args = _mr(real_data)
    original = load_labels(real_data / "seg/mr_brain_tumour/label.nrrd").labelmap
    for fmt, name in (("nifti", "l.nii.gz"), ("nrrd", "l.nrrd"), ("seg-nrrd", "l.seg.nrrd")):
        assert run_cli(["export", "--format", fmt, *args, "--out", str(tmp_path / name)]) == 0
        back = load_labels(tmp_path / name).labelmap
        np.testing.assert_array_equal(back.array, original.array)
        assert back.geometry.same_grid(original.geometry)
    assert run_cli(["export", "--format", "stl", *args, "--out", str(tmp_path / "mesh")]) == 0
    assert [p.name for p in (tmp_path / "mesh").iterdir()] == ["1_Segment_1.stl"]
    assert (
        run_cli(["export", "--format", "stats-csv", *args, "--out", str(tmp_path / "s.csv")]) == 0
    )
    header, row = (tmp_path / "s.csv").read_text().splitlines()[:2]
    assert header.startswith("segment_id,name,voxels,volume_ml")
    assert int(row.split(",")[2]) == int((original.array == 1).sum())
    assert "wrote" in capsys.readouterr().out


def test_dicom_seg_from_the_command_line(real_data, tmp_path):
    d = real_data / "seg" / "ct_abdomen_3slice"
    out = tmp_path / "liver.dcm"
    argv = ["export", "--format", "dicom-seg", "--image", str(d / "dicom"), "--out", str(out)]
    assert run_cli([*argv, "--label", str(d / "liver_seg.nrrd")]) == 0
    ds = pydicom.dcmread(out)
    assert ds.Modality == "SEG" and len(ds.SegmentSequence) == 1
    source = pydicom.dcmread(next((d / "dicom").iterdir()), stop_before_pixels=True)
    assert ds.StudyInstanceUID == source.StudyInstanceUID  # the SEG joins the source study
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == source.SeriesInstanceUID
    assert ds.PatientID == source.PatientID and ds.FrameOfReferenceUID == source.FrameOfReferenceUID


def test_impossible_requests_are_one_line_errors(real_data, tmp_path, capsys):
    code = run_cli(
        ["export", "--format", "dicom-seg", *_mr(real_data), "--out", str(tmp_path / "x.dcm")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "image.nrrd" in err and "not from a DICOM series" in err
    code = run_cli(["export", "--format", "nnunet", "--out", str(tmp_path), "--dataset-id", "3"])
    assert code == 2 and "--name" in capsys.readouterr().err
    code = run_cli(
        ["export", "--format", "nifti", *_mr(real_data), "--out", str(tmp_path / "l.png")]
    )
    assert code == 2 and "l.png" in capsys.readouterr().err


def test_nnunet_dataset_from_repeated_cases(real_data, tmp_path, capsys):
    seg = real_data / "seg"
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"labels": {"1": "tumour", "7": "a", "8": "b", "9": "c"}}))
    argv = ["export", "--format", "nnunet", "--out", str(tmp_path / "raw"), "--dataset-id", "42"]
    argv += ["--name", "Brain", "--labels-json", str(names), "--channel-name", "MRI"]
    for case in ("mr_brain_tumour", "mr_prostate_phantom"):
        argv += ["--case", str(seg / case / "image.nrrd"), str(seg / case / "label.nrrd")]
    assert run_cli(argv) == 0
    folder = tmp_path / "raw" / "Dataset042_Brain"
    doc = json.loads((folder / "dataset.json").read_text())
    assert doc["labels"] == {"background": 0, "tumour": 1, "a": 2, "b": 3, "c": 4}
    assert doc["numTraining"] == 2 and doc["channel_names"] == {"0": "MRI"}
    assert sorted(p.name for p in (folder / "imagesTr").iterdir()) == [
        "case_000_0000.nii.gz",
        "case_001_0000.nii.gz",
    ]


def test_dataset_export_says_which_case_labels_were_resampled(tmp_path, capsys):
    from viewer.io import write_volume
    from viewer.model.geometry import Geometry

    image_grid = Geometry((8, 10, 12), (2.0, 2.0, 2.0), (0.0, 0.0, 0.0))
    label_grid = Geometry((16, 20, 24), (1.0, 1.0, 1.0), (-0.5, -0.5, -0.5))
    write_volume(np.zeros(image_grid.shape_zyx, np.int16), image_grid, str(tmp_path / "img.nii.gz"))
    lab = np.zeros(label_grid.shape_zyx, np.uint16)
    lab[4:12, 4:16, 4:20] = 1
    label = tmp_path / "fine_label.nii.gz"
    write_volume(lab, label_grid, str(label))
    argv = ["export", "--format", "nnunet", "--out", str(tmp_path / "raw"), "--dataset-id", "7"]
    argv += ["--name", "Fine", "--case", str(tmp_path / "img.nii.gz"), str(label)]
    assert run_cli(argv) == 0
    out = capsys.readouterr().out
    (note,) = [line for line in out.splitlines() if line.startswith("note: case 0 ")]
    assert str(label) in note and "resampled" in note


def test_labels_json_names_the_seg_nrrd_and_dicom_seg_exports(tmp_path):
    from dicom_factory import write_series

    from viewer.io import load_volume, write_volume

    write_series(tmp_path / "dicom", description="x", number=1, slices=3)
    geometry = load_volume(str(tmp_path / "dicom")).geometry
    lab = np.zeros(geometry.shape_zyx, np.uint8)
    lab[0, 0, 0], lab[1, 1, 1] = 1, 2
    write_volume(lab, geometry, str(tmp_path / "lab.nii.gz"))
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"1": "liver", "2": {"name": "spleen", "color": [1, 2, 3]}}))
    args = ["--image", str(tmp_path / "dicom"), "--label", str(tmp_path / "lab.nii.gz")]
    args += ["--labels-json", str(names)]
    out = tmp_path / "o.seg.nrrd"
    assert run_cli(["export", "--format", "seg-nrrd", *args, "--out", str(out)]) == 0
    got = [(s.id, s.name, s.colour) for s in load_labels(out).layers.segments]
    assert got == [(1, "liver", (255, 48, 48)), (2, "spleen", (1, 2, 3))]
    out = tmp_path / "o.dcm"
    assert run_cli(["export", "--format", "dicom-seg", *args, "--out", str(out)]) == 0
    segments = pydicom.dcmread(out).SegmentSequence
    assert [(s.SegmentNumber, s.SegmentLabel) for s in segments] == [(1, "liver"), (2, "spleen")]


def test_dataset_case_without_names_matches_the_label_set_by_value(tmp_path, capsys):
    """One case names its values (labels.json), the other does not: its values 1 and 2 are
    liver and spleen, not two new classes 'Segment 1' and 'Segment 2' (in either order)."""
    from viewer.io import write_volume
    from viewer.model.geometry import Geometry

    g = Geometry((5, 6, 7), (0.7, 1.3, 3.1), (1.0, 2.0, 3.0))
    lab = np.zeros(g.shape_zyx, np.uint8)
    lab[0, 0, 0], lab[1, 1, 1] = 1, 2
    for case in ("a_unnamed", "b_named"):
        (tmp_path / "cases" / case).mkdir(parents=True)
        image = np.arange(210, dtype=np.int16).reshape(g.shape_zyx)
        write_volume(image, g, str(tmp_path / "cases" / case / "image.nii.gz"))
        write_volume(lab, g, str(tmp_path / "cases" / case / "label.nii.gz"))
    named = tmp_path / "cases" / "b_named" / "labels.json"
    named.write_text(json.dumps({"1": "liver", "2": "spleen"}))
    msd = {"0": "background", "1": "liver", "2": "spleen"}
    nnunet = {"background": 0, "liver": 1, "spleen": 2}
    for fmt, folder, want in (("msd", "Task05_Two", msd), ("nnunet", "Dataset005_Two", nnunet)):
        argv = ["export", "--format", fmt, "--out", str(tmp_path / fmt), "--dataset-id", "5"]
        argv += ["--name", "Two", "--cases-dir", str(tmp_path / "cases")]
        assert run_cli(argv) == 0
        assert "labels background=0, liver=1, spleen=2" in capsys.readouterr().out
        doc = json.loads((tmp_path / fmt / folder / "dataset.json").read_text())
        assert doc["labels"] == want
        for case in ("case_000", "case_001"):
            back = load_labels(tmp_path / fmt / folder / "labelsTr" / f"{case}.nii.gz").labelmap
            np.testing.assert_array_equal(back.array, lab)
