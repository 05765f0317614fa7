"""Exports never replace an existing output silently (issue 20, item 3).

Single-study formats refuse an existing output without `--overwrite` (one line, exit 2, the old
file untouched). With it, a dataset export replaces the earlier dataset wholly -- no stale cases,
`numTraining` and `splits_final.json` describe what is there -- and a failure midway leaves the
earlier dataset as it was, with no staging folder behind.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from viewer.cli.main import run_cli
from viewer.errors import SaveError
from viewer.io import dataset_export
from viewer.io.dataset_export import ExportCase, export_nnunet
from viewer.io.writer import save_volume
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume

GEO = Geometry((5, 6, 7), spacing=(0.7, 0.7, 3.0), origin=(-10.0, 4.0, 30.0))


@pytest.fixture
def study(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    image = (np.arange(np.prod(GEO.shape_zyx)) % 200).reshape(GEO.shape_zyx).astype(np.int16)
    label = np.zeros(GEO.shape_zyx, np.uint8)
    label[1:4, 2:5, 2:6] = 1
    save_volume(image, GEO, d / "image.nii.gz")
    save_volume(label, GEO, d / "label.nii.gz")
    return ["--image", str(d / "image.nii.gz"), "--label", str(d / "label.nii.gz")]


@pytest.mark.parametrize(
    "fmt,name",
    [
        ("nifti", "out.nii.gz"),
        ("nrrd", "out.nrrd"),
        ("seg-nrrd", "out.seg.nrrd"),
        ("dicom-seg", "out.dcm"),
        ("stats-csv", "out.csv"),
        ("stl", "mesh/1_Segment_1.stl"),
        ("obj", "mesh/1_Segment_1.obj"),
    ],
)
def test_existing_output_is_refused_without_overwrite(study, tmp_path, capfd, fmt, name):
    out = tmp_path / name
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(b"earlier work")
    where = tmp_path / "mesh" if fmt in ("stl", "obj") else out
    argv = ["export", "--format", fmt, *study, "--out", str(where)]
    assert run_cli(argv) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert err == [f"error: {out}: the output exists (give --overwrite to replace it)"]
    assert out.read_bytes() == b"earlier work"
    if fmt != "dicom-seg":  # the image is not DICOM: only the refusal is tested for SEG
        assert run_cli([*argv, "--overwrite"]) == 0
        assert out.read_bytes() != b"earlier work" and out.stat().st_size > 0


def _case(value: int, seed: int) -> ExportCase:
    rng = np.random.default_rng(seed)
    volume = Volume(rng.integers(-50, 50, GEO.shape_zyx).astype(np.int16), GEO, modality="CT")
    labels = np.zeros(GEO.shape_zyx, np.uint16)
    labels[1:4, 1:5, 2:6] = value
    return ExportCase(volume, LabelMap(GEO, labels))


def _table() -> SegmentTable:
    t = SegmentTable()
    t.add("liver", segment_id=1)
    return t


def _tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_overwrite_replaces_a_dataset_wholly(tmp_path):
    first = export_nnunet([_case(1, s) for s in range(3)], tmp_path, 4, "Liver", _table(), folds=3)
    assert len(json.loads((first.folder / "splits_final.json").read_text())) == 3
    with pytest.raises(SaveError, match="not empty"):
        export_nnunet([_case(1, 9)], tmp_path, 4, "Liver", _table())
    r = export_nnunet(
        [_case(1, 7), _case(1, 8)], tmp_path, 4, "Liver", _table(), folds=2, overwrite=True
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dataset004_Liver"]  # nothing aside
    assert sorted(p.name for p in (r.folder / "imagesTr").iterdir()) == [
        "case_000_0000.nii.gz",
        "case_001_0000.nii.gz",
    ]
    assert sorted(p.name for p in (r.folder / "labelsTr").iterdir()) == [
        "case_000.nii.gz",
        "case_001.nii.gz",
    ]
    assert json.loads((r.folder / "dataset.json").read_text())["numTraining"] == 2
    splits = json.loads((r.folder / "splits_final.json").read_text())
    assert sorted(c for fold in splits for c in fold["val"]) == ["case_000", "case_001"]
    one = export_nnunet([_case(1, 5)], tmp_path, 4, "Liver", _table(), overwrite=True)
    assert not (one.folder / "splits_final.json").exists()  # one patient: no splits, no stale ones
    assert sorted(_tree(one.folder)) == [
        "dataset.json",
        "imagesTr/case_000_0000.nii.gz",
        "labelsTr/case_000.nii.gz",
    ]


def test_a_failure_midway_keeps_the_earlier_dataset(tmp_path, monkeypatch):
    first = export_nnunet([_case(1, s) for s in range(3)], tmp_path, 4, "Liver", _table(), folds=3)
    before = _tree(first.folder)
    real = dataset_export.write_image
    calls = []

    def fail_on_the_third_file(array, geometry, path):
        calls.append(path)
        if len(calls) == 3:
            raise SaveError("save failed, nothing written (No space left on device)", path)
        return real(array, geometry, path)

    monkeypatch.setattr(dataset_export, "write_image", fail_on_the_third_file)
    with pytest.raises(SaveError) as err:
        export_nnunet([_case(1, 7), _case(1, 8)], tmp_path, 4, "Liver", _table(), overwrite=True)
    assert err.value.path == str(first.folder / "imagesTr" / "case_001_0000.nii.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dataset004_Liver"]
    assert _tree(first.folder) == before
