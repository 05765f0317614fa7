"""nnU-Net v2 and MSD dataset export: layout, JSON, consistent label ids, patient-grouped splits,
no patient identifiers, and nnU-Net's own integrity check when nnunetv2 is available."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from viewer.errors import SaveError
from viewer.io.dataset_export import ExportCase, export_msd, export_nnunet
from viewer.io.dataset_export_check import nnunet_python, verify_with_nnunet
from viewer.io.dataset_export_splits import group_kfold
from viewer.io.labels.load_save import load_labels
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume

_CACHE: dict = {}


def _raw_label(path):
    """(array, geometry) of a label file on its own grid, through the app's label reader."""
    got = load_labels(path)
    return got.labelmap.array, got.source_geometry


def _table(pairs) -> SegmentTable:
    t = SegmentTable()
    for sid, name in pairs:
        t.add(name, segment_id=sid)
    return t


@pytest.fixture
def cases(ct_case, ct3_volume, real_data):
    """ct_abdomen_dicom (no patient data) + two label sets of the 3-slice CT of patient JANCT000."""
    if "cases" not in _CACHE:
        d = real_data / "seg"
        names = json.loads((d / "ct_abdomen_dicom" / "labels.json").read_text())["labels"]
        ct_table = _table((int(k), v) for k, v in names.items())
        volume, loaded = ct_case
        liver_spine = load_labels(
            d / "ct_abdomen_3slice" / "liver_spine_seg.nrrd", ct3_volume.geometry
        )
        heart = load_labels(d / "ct_abdomen_3slice" / "heart_seg.nrrd", ct3_volume.geometry)
        label_set = _table([*((s.id, s.name) for s in ct_table), (200, "spine"), (201, "heart")])
        _CACHE["cases"] = (
            [
                ExportCase(volume, loaded.labelmap, ct_table),
                ExportCase(ct3_volume, liver_spine.labelmap, _table([(1, "liver"), (2, "spine")])),
                ExportCase(ct3_volume, heart.labelmap, _table([(3, "heart")])),
            ],
            label_set,
        )
    return _CACHE["cases"]


@pytest.fixture
def nnunet_dataset(cases, tmp_path_factory):
    if "nnunet" not in _CACHE:
        case_list, label_set = cases
        out = tmp_path_factory.mktemp("nnunet_raw")
        _CACHE["nnunet"] = export_nnunet(case_list, out, 501, "RadLabelTest", label_set, folds=5)
    return _CACHE["nnunet"]


def test_group_kfold_keeps_each_patient_in_one_fold():
    keys = ["a", "a", "a", "b", "c", "c", "d", "e", "e", "f", "g", "h"]
    ids = [f"case_{i:03d}" for i in range(len(keys))]
    splits = group_kfold(ids, keys, 5, 0, [])
    assert len(splits) == 5
    vals = [set(s["val"]) for s in splits]
    assert set().union(*vals) == set(ids) and sum(len(v) for v in vals) == len(ids)
    for s in splits:
        assert not set(s["train"]) & set(s["val"]) and set(s["train"]) | set(s["val"]) == set(ids)
    for k in set(keys):
        members = {c for c, kk in zip(ids, keys, strict=True) if kk == k}
        assert sum(1 for v in vals if members & v) == 1, k
    notes: list[str] = []
    assert group_kfold(ids[:2], ["a", "a"], 5, 0, notes) is None and notes


def test_nnunet_layout_and_dataset_json(nnunet_dataset, cases):
    r = nnunet_dataset
    assert r.folder.name == "Dataset501_RadLabelTest"
    assert r.case_ids == ["case_000", "case_001", "case_002"]
    for c in r.case_ids:
        assert (r.folder / "imagesTr" / f"{c}_0000.nii.gz").is_file()
        assert (r.folder / "labelsTr" / f"{c}.nii.gz").is_file()
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert doc["channel_names"] == {"0": "CT"} and doc["numTraining"] == 3
    assert doc["file_ending"] == ".nii.gz"
    ids = sorted(doc["labels"].values())
    assert ids == list(range(len(cases[1]) + 1))  # background + every label, consecutive
    assert doc["labels"]["liver"] == 1 + sorted(s.id for s in cases[1]).index(5)


def test_nnunet_labels_are_consistent_and_round_trip(nnunet_dataset, cases):
    r, (case_list, _label_set) = nnunet_dataset, cases
    doc = json.loads((r.folder / "dataset.json").read_text())
    to_project = {doc["labels"][n]: pid for n, pid in doc["radlabel_label_ids"].items()}
    for c, case in zip(r.case_ids, case_list, strict=True):
        train, g = _raw_label(r.folder / "labelsTr" / f"{c}.nii.gz")
        assert g.same_grid(case.volume.geometry, tol=1e-5)
        back = np.zeros_like(train)
        for t, pid in to_project.items():
            back[train == t] = pid
        names = {s.id: s.name for s in case.segments}
        original = np.zeros_like(train)
        for v in case.labels.values():  # case ids -> project ids by name
            original[case.labels.array == v] = doc["radlabel_label_ids"][names[v]]
        np.testing.assert_array_equal(back, original)
    liver = doc["labels"]["liver"]
    t1, _ = _raw_label(r.folder / "labelsTr" / "case_001.nii.gz")
    np.testing.assert_array_equal(t1 == liver, case_list[1].labels.array == 1)


def test_nnunet_images_keep_voxels_and_geometry(nnunet_dataset, cases):
    import SimpleITK as sitk

    r, (case_list, _) = nnunet_dataset, cases
    for c, case in zip(r.case_ids, case_list, strict=True):
        img = sitk.ReadImage(str(r.folder / "imagesTr" / f"{c}_0000.nii.gz"))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(img), case.volume.array)
        np.testing.assert_allclose(img.GetSpacing(), case.volume.geometry.spacing, rtol=1e-6)
        np.testing.assert_allclose(img.GetOrigin(), case.volume.geometry.origin, atol=1e-3)


def test_splits_keep_the_patient_together(nnunet_dataset):
    splits = json.loads((nnunet_dataset.folder / "splits_final.json").read_text())
    assert len(splits) == 2  # two patients: ct_abdomen_dicom and JANCT000
    for s in splits:
        assert ("case_001" in s["val"]) == ("case_002" in s["val"])


def test_no_patient_identifiers_in_names_or_json(nnunet_dataset, ct3_volume):
    name, pid = str(ct3_volume.metadata["PatientName"]), str(ct3_volume.metadata["PatientID"])
    assert name == "JANCT000" and pid == "99000"  # the test needs a named patient
    for f in nnunet_dataset.folder.rglob("*"):
        assert name not in f.name and pid not in f.name
        if f.suffix == ".json":
            assert name not in f.read_text() and pid not in f.read_text()
        if f.name.endswith(".nii.gz"):
            head = gzip.open(f).read(352)  # the NIfTI header, incl. descrip/aux_file
            assert name.encode() not in head and pid.encode() not in head


def test_identifying_dataset_name_is_refused(cases, tmp_path):
    case_list, label_set = cases
    with pytest.raises(SaveError, match="patient identifier"):
        export_msd(case_list[1:2], tmp_path, 7, "JANCT000_study", label_set)


def test_unknown_label_is_a_clear_error(tmp_path):
    g = Geometry((2, 3, 4))
    v = Volume(np.zeros(g.shape_zyx, np.int16), g, modality="MR")
    labels = LabelMap(g, np.full(g.shape_zyx, 9, np.uint16))
    with pytest.raises(SaveError, match="value 9 is not in the project's label set"):
        export_nnunet([ExportCase(v, labels)], tmp_path, 1, "X", _table([(1, "a")]))
    assert list(tmp_path.iterdir()) == []  # a failed export leaves no partial dataset
    export_nnunet([ExportCase(v, labels)], tmp_path, 1, "X", _table([(9, "a")]))
    with pytest.raises(SaveError, match="not empty"):
        export_nnunet([ExportCase(v, labels)], tmp_path, 1, "X", _table([(9, "a")]))


def test_two_labels_with_one_name_are_refused_not_merged(tmp_path):
    g = Geometry((2, 3, 4))
    v = Volume(np.zeros(g.shape_zyx, np.int16), g, modality="CT")
    array = np.zeros(g.shape_zyx, np.uint16)
    array[0] = 1
    array[1] = 2
    labels = LabelMap(g, array)
    case_names = _table([(1, "kidney"), (2, "Kidney ")])
    with pytest.raises(SaveError, match=r"case 0: values 1 and 2 are both named 'Kidney'"):
        export_nnunet(
            [ExportCase(v, labels, case_names)], tmp_path / "a", 1, "X", _table([(1, "kidney")])
        )
    with pytest.raises(SaveError, match=r"the label set names 'kidney' twice \(values 1 and 2\)"):
        export_nnunet(
            [ExportCase(v, labels)], tmp_path / "b", 1, "X", _table([(1, "kidney"), (2, "kidney")])
        )


def test_msd_layout(cases, tmp_path):
    case_list, label_set = cases
    r = export_msd(case_list[1:], tmp_path, 9, "Liver", label_set)
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert r.folder.name == "Task09_Liver" and doc["numTraining"] == 2
    assert doc["modality"] == {"0": "CT"} and doc["labels"]["0"] == "background"
    assert doc["tensorImageSize"] == "3D"
    for item in doc["training"]:
        assert (r.folder / item["image"]).is_file() and (r.folder / item["label"]).is_file()
    lab, _ = _raw_label(r.folder / "labelsTr" / "case_001.nii.gz")
    heart = int([k for k, v in doc["labels"].items() if v == "heart"][0])
    np.testing.assert_array_equal(lab == heart, case_list[2].labels.array == 3)


def test_nnunet_own_integrity_check_passes(nnunet_dataset):
    python = nnunet_python()
    if python is None:
        pytest.skip(
            "no interpreter with nnunetv2 (set RADLABEL_NNUNET_PYTHON; see benchmarks/check_nnunet_integrity.py)"
        )
    result = verify_with_nnunet(nnunet_dataset.folder, python)
    assert result.ok, result.output[-3000:]


def test_unique_training_names_never_collide_with_a_label_name(tmp_path):
    """'background' is taken, and 'background_2' (its first way out) is another label's name:
    both labels keep a class of their own in both dataset.json files."""
    g = Geometry((2, 3, 4))
    v = Volume(np.zeros(g.shape_zyx, np.int16), g, modality="CT")
    array = np.zeros(g.shape_zyx, np.uint16)
    array[0], array[1] = 1, 2
    case = ExportCase(v, LabelMap(g, array))
    label_set = _table([(1, "background_2"), (2, "background")])
    r = export_msd([case], tmp_path, 3, "X", label_set)
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert doc["labels"] == {"0": "background", "1": "background_2", "2": "background_2_2"}
    r = export_nnunet([case], tmp_path, 3, "X", label_set)
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert doc["labels"] == {"background": 0, "background_2": 1, "background_2_2": 2}
    assert doc["radlabel_label_ids"] == {"background_2": 1, "background_2_2": 2}
    back = load_labels(r.folder / "labelsTr" / "case_000.nii.gz").labelmap.array
    np.testing.assert_array_equal(back, array)
