"""Dataset exports name the channel CT for a CT read from a modality-less file (issue 20,
item 13): nnU-Net applies its CT normalisation only to a channel named "CT"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from viewer.io import load_volume
from viewer.io.dataset_export import ExportCase, export_msd, export_nnunet
from viewer.io.labels.formats.image import write_image
from viewer.model import view_state
from viewer.model.labelmap import LabelMap
from viewer.model.modality import effective_modality, looks_like_ct
from viewer.model.segments import SegmentTable


def _table() -> SegmentTable:
    t = SegmentTable()
    t.add("thing", segment_id=1)
    return t


@pytest.fixture
def ct_nifti(ct3_volume, tmp_path):
    """The real 3-slice CT (DICOM, HU) written as NIfTI and read back: no modality left."""
    path = tmp_path / "ct.nii.gz"
    write_image(ct3_volume.array, ct3_volume.geometry, path)
    return load_volume(str(path))


@pytest.fixture
def mr_nrrd(mr_case):
    return mr_case[0]


def _case(volume) -> ExportCase:
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[0, :2, :2] = 1
    return ExportCase(volume, LabelMap(volume.geometry, labels), _table())


def test_the_gui_and_the_exports_share_one_decision():
    assert view_state.effective_modality is effective_modality


def test_ct_is_recognised_from_hounsfield_units(ct_nifti, mr_nrrd):
    assert ct_nifti.modality == ""  # the file says nothing: the values must
    assert looks_like_ct(ct_nifti.array) is True
    assert mr_nrrd.modality == ""
    assert looks_like_ct(mr_nrrd.array) is False
    assert effective_modality("", ct_nifti.array) == "CT"
    assert effective_modality("mr", ct_nifti.array) == "MR"  # a header's word wins


def test_synthetic_value_ranges():
    rng = np.random.default_rng(0)
    body = rng.normal(40, 20, (8, 32, 32))
    body[:, :4] = -1000.0  # air above the patient
    body[2, 10, 10] = 1200.0  # bone
    assert looks_like_ct(body.astype(np.int16)) is True
    assert looks_like_ct((body + 1024).astype(np.uint16)) is False  # raw stored values
    padded_mr = np.abs(rng.normal(300, 100, (8, 32, 32)))
    padded_mr[:, :4] = -32768  # a signed padding value, no air at all
    assert looks_like_ct(padded_mr.astype(np.int16)) is False
    assert looks_like_ct(rng.normal(0, 1, (8, 32, 32)).astype(np.float32)) is False  # z-scored


def test_nnunet_channel_of_a_nifti_ct_is_ct(ct_nifti, tmp_path):
    r = export_nnunet([_case(ct_nifti)], tmp_path, 11, "CTnii", _table(), folds=1)
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert doc["channel_names"] == {"0": "CT"}


def test_nnunet_channel_of_a_nrrd_mr_is_not_ct(mr_nrrd, tmp_path):
    r = export_nnunet([_case(mr_nrrd)], tmp_path, 12, "MRnrrd", _table(), folds=1)
    doc = json.loads((r.folder / "dataset.json").read_text())
    assert doc["channel_names"] == {"0": "image"}  # any name but CT: z-score normalisation


def test_msd_modality_of_a_nifti_ct_is_ct(ct_nifti, mr_nrrd, tmp_path):
    r = export_msd([_case(ct_nifti)], tmp_path, 3, "CTnii", _table())
    assert json.loads((r.folder / "dataset.json").read_text())["modality"] == {"0": "CT"}
    r = export_msd([_case(mr_nrrd)], tmp_path, 4, "MRnrrd", _table())
    assert json.loads((r.folder / "dataset.json").read_text())["modality"] == {"0": "image"}
