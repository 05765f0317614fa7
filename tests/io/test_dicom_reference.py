"""Every DICOM series of ../shared/data (dicom2nifti, transfer_syntaxes) matches its reference
NIfTI voxel for voxel, compared in world space (axis flips allowed).

A long check on the full data beside the clone (29 MB of series): a fresh clone runs the local
reference case (tests/io/test_local_files.py) and skips these once, not once per series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_world_helpers import read_reference, reference_on_grid

from viewer.io import load_volume, scan_dicom_folder

D2N = "dicom/dicom2nifti"
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# (series folder, reference, time points to compare)
D2N_CASES = [
    ("ge/anatomical/001", "ge/anatomical/001_ground_truth.nii.gz"),
    ("ge/anatomical/001_single_slice", "ge/anatomical/001_single_slice_ground_truth.nii.gz"),
    ("ge/dti/001", "ge/dti/001_ground_truth.nii.gz"),
    ("ge/dti/002", "ge/dti/002_ground_truth.nii.gz"),
    ("generic/anatomical/001", "generic/anatomical/001_ground_truth.nii.gz"),
    (
        "generic/anatomical/002_non_isotropic",
        "generic/anatomical/002_non_isotropic_ground_truth.nii.gz",
    ),
    ("generic/compressed/001", "generic/compressed/001_ground_truth.nii.gz"),
    ("generic/compressed_j2k/001", "generic/compressed_j2k/001_ground_truth.nii.gz"),
    ("generic/compressed_jpeg/001", "generic/compressed_jpeg/001_ground_truth.nii.gz"),
    ("generic/compressed_jpegls/001", "generic/compressed_jpegls/001_ground_truth.nii.gz"),
    ("generic/compressed_rle/001", "generic/compressed_rle/001_ground_truth.nii.gz"),
    ("generic/rgb/001", "generic/rgb/001_ground_truth.nii.gz"),
    ("hitachi/anatomical/001", "hitachi/anatomical/001_ground_truth.nii.gz"),
    ("philips/anatomical/001", "philips/anatomical/001_ground_truth.nii.gz"),
    ("philips_enhanced/anatomical/001", "philips_enhanced/anatomical/001_ground_truth.nii.gz"),
    ("siemens/anatomical/001", "siemens/anatomical/001_ground_truth.nii.gz"),
    ("siemens/dti_classic/001", "siemens/dti_classic/001_ground_truth.nii.gz"),
    ("siemens/fmri/001", "siemens/fmri/001_ground_truth.nii.gz"),
]


def _assert_matches(volume, ref_path: Path, time_index: int | None = None) -> None:
    ref, affine = read_reference(ref_path, time_index)
    expected = reference_on_grid(volume.geometry, ref, affine)
    assert volume.array.shape == expected.shape
    np.testing.assert_allclose(
        volume.array.astype(np.float64), expected.astype(np.float64), rtol=1e-4, atol=1e-3
    )


def _d2n_params() -> list:
    if not (SHARED_DATA / D2N).is_dir():
        absent = pytest.mark.skip(reason="../shared/data is absent")
        return [pytest.param(None, None, id="all-series", marks=absent)]
    return [pytest.param(folder, reference, id=folder) for folder, reference in D2N_CASES]


@pytest.mark.parametrize("folder,reference", _d2n_params())
def test_dicom2nifti_series_match_reference(shared_data, folder, reference):
    base = shared_data / D2N
    volume = load_volume(base / folder)
    n_t = volume.metadata["time_points"]
    _assert_matches(volume, base / reference, 0 if n_t > 1 else None)
    if n_t > 1:  # 4D: the last time point lines up as well
        last = load_volume(base / folder, time_index=n_t - 1)
        _assert_matches(last, base / reference, n_t - 1)


def test_philips_series_without_reference_loads(shared_data):
    volume = load_volume(shared_data / D2N / "philips/anatomical/002")
    assert volume.array.shape[1:] == (768, 768)
    assert volume.array.shape[0] >= 1


def test_transfer_syntaxes_are_nine_series_each_matching_its_reference(shared_data):
    base = shared_data / "dicom/transfer_syntaxes"
    scan = scan_dicom_folder(base / "In")
    series = scan.all_series()
    # One SeriesInstanceUID, nine series numbers: never stacked into one volume.
    assert len(series) == 9
    assert len({s.series_uid for s in series}) == 1
    for s in series:
        assert s.slice_count == 35 and s.time_points == 1  # one mosaic of 35 slices
        number = s.series_number
        volume = load_volume(base / "In" / f"{number}.dcm")
        _assert_matches(volume, base / "Ref" / f"{number}.nii")
