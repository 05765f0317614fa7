"""Loader behaviour on the small real files in tests/data (runs without ../shared)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from io_world_helpers import read_reference, reference_on_grid

from viewer.errors import GeometryError
from viewer.io import load_label_for, load_volume, scan_dicom_folder, write_volume
from viewer.model.geometry import Geometry


def test_ct_small_is_in_hounsfield_units(test_data):
    v = load_volume(test_data / "dicom/CT_small.dcm")
    assert v.modality == "CT" and v.array.shape == (1, 128, 128)
    lo, hi = v.value_range()
    assert lo < -500 and hi > 500  # intercept -1024 applied: air is negative
    assert v.array.dtype.kind == "i"
    assert v.metadata["SOPInstanceUIDs"] and v.metadata["StudyInstanceUID"]
    assert v.geometry.spacing[2] == pytest.approx(5.0)  # single slice: SliceThickness


def test_rle_and_uncompressed_give_identical_voxels(test_data):
    a = load_volume(test_data / "dicom/MR_small.dcm")
    b = load_volume(test_data / "dicom/MR_small_RLE.dcm")
    np.testing.assert_array_equal(a.array, b.array)
    assert a.geometry.same_grid(b.geometry)


def test_copies_of_one_slice_are_not_stacked(test_data):
    scan = scan_dicom_folder(test_data / "dicom")
    mr = [s for s in scan.all_series() if "/MR_" in s.first.path]
    assert len(mr) == 3  # MR_small, MR_small_RLE and the truncated copy
    # MR_small and MR_small_RLE share UID and position: separate series, not a 2-slice volume.
    assert all(s.slice_count == 1 for s in mr)
    assert {k.reason for k in scan.skipped} >= {"RT Structure Set (contours, not an image)"}


def test_non_isotropic_series_matches_reference(test_data):
    v = load_volume(test_data / "dicom/non_isotropic")
    ref, affine = read_reference(test_data / "dicom/non_isotropic_ground_truth.nii.gz")
    np.testing.assert_allclose(v.array, reference_on_grid(v.geometry, ref, affine), atol=1e-3)
    assert sorted(np.round(v.geometry.spacing, 3)) == [0.5, 4.0, 6.4]
    assert len(v.metadata["source_files"]) == 4


def test_nrrd_label_lines_up(test_data):
    image = load_volume(test_data / "prostate_phantom_image.nrrd")
    notes: list[str] = []
    label = load_label_for(image, test_data / "prostate_phantom_label.nrrd", notes)
    assert label.geometry.same_grid(image.geometry) and not notes
    assert set(label.values()) == {1, 7, 8, 9}


OBLIQUE = Geometry(
    (5, 6, 7),
    spacing=(0.7, 1.1, 2.5),
    origin=(-10.0, 20.0, 30.0),
    direction=np.array([[0.8660254, -0.5, 0.0], [0.5, 0.8660254, 0.0], [0.0, 0.0, 1.0]]),
)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_write_then_load_keeps_voxels_and_geometry(tmp_path, suffix):
    arr = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7)
    path = tmp_path / f"img{suffix}"
    write_volume(arr, OBLIQUE, path)
    v = load_volume(path)
    np.testing.assert_array_equal(v.array, arr)
    assert v.geometry.same_grid(OBLIQUE)


def test_nifti2_ras_affine_becomes_lps_geometry(tmp_path):
    data = np.arange(4 * 3 * 2, dtype=np.int16).reshape(4, 3, 2)  # (i, j, k)
    affine = np.array([[-2.0, 0, 0, 10], [0, 3.0, 0, -5], [0, 0, 4.0, 7], [0, 0, 0, 1]])
    path = tmp_path / "two.nii.gz"
    nib.save(nib.Nifti2Image(data, affine), path)
    v = load_volume(path)
    assert v.metadata["nifti_version"] == 2
    assert v.array.shape == (2, 3, 4)
    np.testing.assert_array_equal(v.array, data.transpose(2, 1, 0))
    # RAS (10, -5, 7) is LPS (-10, 5, 7); i runs towards R- (L in LPS), j towards A (P-).
    np.testing.assert_allclose(v.geometry.origin, (-10, 5, 7))
    np.testing.assert_allclose(v.geometry.spacing, (2, 3, 4))
    assert v.geometry.orientation_code() == "LAS"


def test_nifti2_with_a_zero_dimension_is_refused(tmp_path):
    import struct

    from viewer.errors import LoadError

    path = tmp_path / "empty.nii"
    nib.save(nib.Nifti2Image(np.zeros((4, 4, 4), np.int16), np.eye(4)), path)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<q", raw, 16 + 8 * 2, 0)  # dim[2] of the NIfTI-2 header (int64 at 16)
    path.write_bytes(bytes(raw))
    with pytest.raises(LoadError, match="size below 1") as e:
        load_volume(path)
    assert str(path) in e.value.message


def test_nifti2_memory_check_counts_scaled_voxels(tmp_path, monkeypatch):
    from viewer.errors import LoadError

    data = np.ones((16, 16, 16), np.uint8)
    img = nib.Nifti2Image(data, np.eye(4))
    img.header.set_slope_inter(2.0, 0.0)
    path = tmp_path / "scaled.nii"
    nib.save(img, path)
    monkeypatch.setenv("RADLABEL_MAX_IMAGE_BYTES", str(data.nbytes * 2))
    with pytest.raises(LoadError) as e:
        load_volume(path)
    assert str(path) in e.value.message
    monkeypatch.setenv("RADLABEL_MAX_IMAGE_BYTES", str(data.nbytes * 16))
    np.testing.assert_array_equal(load_volume(path).array, 2 * data.transpose(2, 1, 0))


def test_4d_nifti_picks_time_point(tmp_path):
    data = np.zeros((4, 3, 2, 5), dtype=np.int16)
    for t in range(5):
        data[..., t] = t
    path = tmp_path / "four.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    v = load_volume(path, time_index=3)
    assert v.metadata["time_points"] == 5 and np.all(v.array == 3)
    with pytest.raises(Exception, match="time point 9"):
        load_volume(path, time_index=9)


def test_rgb_nifti_is_not_segmentable(tmp_path):
    path = tmp_path / "rgb.nii.gz"
    arr = np.random.default_rng(0).integers(0, 255, (3, 4, 5, 3), dtype=np.uint8)
    write_volume(arr, Geometry((3, 4, 5)), path)
    v = load_volume(path)
    assert v.array.shape == (3, 4, 5, 3) and v.is_rgb and not v.is_segmentable


def test_flipped_label_is_resampled_with_a_note(tmp_path):
    image = load_volume_from_array(tmp_path, np.zeros((4, 5, 6), np.int16), OBLIQUE)
    label = np.zeros((5, 6, 7), np.uint16)
    label[1, 2, 3] = 4
    # Same voxels, stored with the x axis flipped: origin moves to the far x end.
    far_x = OBLIQUE.index_to_world([0, 0, 6])
    flipped_dir = OBLIQUE.direction.copy()
    flipped_dir[:, 0] *= -1
    g = Geometry((5, 6, 7), OBLIQUE.spacing, tuple(far_x), flipped_dir)
    path = tmp_path / "lab.nii.gz"
    write_volume(label[:, :, ::-1], g, path)
    notes: list[str] = []
    out = load_label_for(image, path, notes)
    assert notes and "nearest neighbour" in notes[0]
    assert out.array[1, 2, 3] == 4 and out.array.sum() == 4


def test_label_outside_the_image_is_a_geometry_error(tmp_path):
    image = load_volume_from_array(tmp_path, np.zeros((5, 6, 7), np.int16), OBLIQUE)
    far = Geometry((5, 6, 7), OBLIQUE.spacing, (500.0, 500.0, 500.0), OBLIQUE.direction)
    path = tmp_path / "far.nii.gz"
    write_volume(np.ones((5, 6, 7), np.uint16), far, path)
    with pytest.raises(GeometryError, match="does not overlap"):
        load_label_for(image, path)


def load_volume_from_array(tmp_path, arr, geometry):
    if arr.shape != geometry.shape_zyx:
        geometry = Geometry(arr.shape, geometry.spacing, geometry.origin, geometry.direction)
    path = tmp_path / "image.nii.gz"
    write_volume(arr, geometry, path)
    return load_volume(path)
