"""Every key a loader puts into `Volume.metadata` is named in `viewer.model.volume.MetaKey`."""

from __future__ import annotations

import json

import numpy as np
import SimpleITK as sitk
from dicom_factory import write_series

from viewer.io import load_volume
from viewer.model.volume import MetaKey


def test_dicom_series_keys_are_all_named(tmp_path):
    write_series(tmp_path / "s", description="T1", number=1)
    vol = load_volume(tmp_path / "s")
    assert set(vol.metadata) <= set(MetaKey), set(vol.metadata) - set(MetaKey)
    assert vol.metadata[MetaKey.FORMAT] == "DICOM"
    assert len(vol.metadata[MetaKey.SOURCE_FILES]) == 3
    # str-valued: the same entry by name or by text, and JSON writes the text
    assert vol.metadata[MetaKey.SERIES_DESCRIPTION] is vol.metadata["SeriesDescription"]
    assert json.loads(json.dumps({MetaKey.WARNINGS: []})) == {"warnings": []}


def test_image_file_keys_are_all_named(tmp_path):
    img = sitk.GetImageFromArray(np.zeros((2, 3, 4, 5), np.int16))  # 3D, 5 components
    path = str(tmp_path / "t.nii.gz")
    sitk.WriteImage(img, path)
    vol = load_volume(path, time_index=1)
    assert set(vol.metadata) <= set(MetaKey), set(vol.metadata) - set(MetaKey)
    assert vol.metadata[MetaKey.COMPONENTS] == 5 and vol.metadata[MetaKey.COMPONENT_INDEX] == 1
