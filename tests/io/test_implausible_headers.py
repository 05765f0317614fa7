"""Header values that cannot be right are refused; defaults guessed are named (issue 20, item 10)."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
from hostile_inputs import dicom_bytes, dicom_dataset, nifti_bytes, nrrd_header, pixels

from viewer.errors import LoadError
from viewer.io import load_volume


def _nifti_pixdim(tmp_path, index: int, value: float, name: str = "p.nii"):
    raw = bytearray(nifti_bytes())
    struct.pack_into("<f", raw, 76 + 4 * index, value)
    f = tmp_path / name
    f.write_bytes(bytes(raw))
    return f


@pytest.mark.parametrize("value", [math.nan, 0.0, -math.inf, math.inf, 5.9e28, 1e-9])
def test_nifti_pixdim_that_cannot_be_a_voxel_size_is_refused(tmp_path, value):
    f = _nifti_pixdim(tmp_path, 1, value)
    with pytest.raises(LoadError, match=r"pixdim\[1\]") as e:
        load_volume(f)
    assert str(f) in e.value.message


def test_negative_pixdim_is_used_as_its_size_with_a_warning(tmp_path):
    f = _nifti_pixdim(tmp_path, 3, -2.0)
    v = load_volume(f)
    assert v.geometry.spacing == pytest.approx((0.5, 0.75, 2.0))
    assert v.metadata["warnings"] == ["voxel size pixdim[3] is negative (-2): 2 mm used"]


def test_zero_pixdim_on_a_single_voxel_axis_is_a_warning(tmp_path):
    import nibabel as nib

    img = nib.Nifti1Image(np.zeros((4, 3, 1), np.int16), np.diag([1.0, 1.0, 1.0, 1.0]))
    img.header["pixdim"][3] = 0.0
    f = tmp_path / "flat.nii"
    f.write_bytes(img.to_bytes())
    v = load_volume(f)
    assert v.metadata["warnings"] == [
        "voxel size pixdim[3] is 0 on a single-voxel axis: 1 mm assumed"
    ]


def test_nrrd_with_an_absurd_spacing_is_refused(tmp_path):
    f = tmp_path / "far.nrrd"
    text = nrrd_header().replace("(0,0,2)", "(0,0,5.9e28)")
    f.write_bytes(text.encode() + pixels().astype("<i2").tobytes())
    with pytest.raises(LoadError, match="voxel size along z") as e:
        load_volume(f)
    assert str(f) in e.value.message


def _dicom(tmp_path, **changes) -> object:
    ds = dicom_dataset()
    for key, value in changes.items():
        if value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    f = tmp_path / "x.dcm"
    f.write_bytes(dicom_bytes(ds))
    return f


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"BitsAllocated": 0}, "BitsAllocated 0"),
        ({"BitsStored": 40}, "BitsStored 40"),
        ({"SamplesPerPixel": 0}, "SamplesPerPixel 0"),
        ({"PhotometricInterpretation": "NONSENSE"}, "PhotometricInterpretation"),
        ({"ImageOrientationPatient": [0, 0, 0, 0, 0, 0]}, "ImageOrientationPatient"),
        ({"ImageOrientationPatient": ["nan", 0, 0, 0, 1, 0]}, "ImageOrientationPatient"),
        ({"RescaleSlope": "1e300"}, "rescale"),
        ({"RescaleSlope": "nan"}, "RescaleSlope"),
        ({"Rows": 2}, "pixel data"),  # the pixel data holds twice what Rows x Columns needs
        ({"PixelSpacing": ["5.9e28", "0.5"]}, "voxel size"),
    ],
)
def test_dicom_header_that_cannot_be_right_is_refused(tmp_path, changes, reason):
    f = _dicom(tmp_path, **changes)
    with pytest.raises(LoadError, match=reason) as e:
        load_volume(f)
    assert str(f) in e.value.message


def test_dicom_without_photometric_interpretation_loads_with_a_warning(tmp_path):
    v = load_volume(_dicom(tmp_path, PhotometricInterpretation=None))
    np.testing.assert_array_equal(v.array, pixels((1, 4, 5)))
    assert (
        "no PhotometricInterpretation in the header: MONOCHROME2 assumed" in v.metadata["warnings"]
    )


def test_valid_dicom_still_loads_exactly(tmp_path):
    v = load_volume(_dicom(tmp_path))
    np.testing.assert_array_equal(v.array, pixels((1, 4, 5)))
    assert v.geometry.spacing == pytest.approx((0.5, 0.75, 2.0))


def test_info_json_is_valid_json_for_infinite_values(tmp_path, capsys):
    import SimpleITK as sitk

    from viewer.cli.main import run_cli

    data = np.zeros((3, 3, 3), np.float32)
    data[1, 1, 1] = np.inf
    data[0, 0, 0] = np.nan
    f = tmp_path / "inf.mha"  # ITK's NIfTI reader turns inf and NaN into 0
    sitk.WriteImage(sitk.GetImageFromArray(data), str(f))
    assert run_cli(["info", str(f), "--json"]) == 0
    out = capsys.readouterr().out

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    info = json.loads(out, parse_constant=refuse)
    assert info["volume"]["value_range"] == [0.0, 0.0]
    assert "values include infinity or NaN" in " ".join(info["volume"]["warnings"])
