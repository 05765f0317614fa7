"""Series that are not a regular stack are resampled in patient space (issue 20, item 14).

Made from the real 4-slice oblique MR in tests/data/dicom/non_isotropic: (a) a middle slice
removed, (b) a gantry-tilt-like shear (each slice moved along the column direction in
proportion to its index, ImageOrientationPatient kept). Every source pixel is looked up at its
own world position in the loaded volume, independently of the loader's maths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from viewer.errors import SaveError
from viewer.io import load_volume, scan_dicom_folder
from viewer.io.dicom_seg_source import not_dicom_reason
from viewer.io.labels.load_save import load_labels, save_labels
from viewer.model.labelmap import LabelMap

SERIES = Path(__file__).resolve().parent.parent / "data" / "dicom" / "non_isotropic"


def _slices() -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(SERIES.glob("*.dcm"))]


def _pixels(ds: pydicom.Dataset) -> np.ndarray:
    """The slice's values as the loader reports them: rescaled in float32 (its slope is not
    an integer)."""
    values = ds.pixel_array.astype(np.float32)
    values *= float(ds.get("RescaleSlope", 1) or 1)
    values += float(ds.get("RescaleIntercept", 0) or 0)
    return values


def _world(ds: pydicom.Dataset) -> np.ndarray:
    """World (LPS) position of every pixel (rows, cols, 3), straight from the header."""
    ipp = np.array([float(v) for v in ds.ImagePositionPatient])
    iop = np.array([float(v) for v in ds.ImageOrientationPatient])
    dr, dc = (float(v) for v in ds.PixelSpacing)
    r, c = np.mgrid[: ds.Rows, : ds.Columns]
    return ipp + c[..., None] * dc * iop[:3] + r[..., None] * dr * iop[3:]


def _write(datasets: list[pydicom.Dataset], folder: Path) -> Path:
    folder.mkdir()
    for k, ds in enumerate(datasets):
        ds.save_as(folder / f"{k:03d}.dcm")
    return folder


def _values_at(volume, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(continuous grid index of each world point, the volume's value at the rounded index)."""
    idx = volume.geometry.world_to_index(world.reshape(-1, 3))
    near = np.rint(idx).astype(int)
    return idx, volume.array[tuple(near.T)].reshape(world.shape[:-1])


def test_regular_series_is_unchanged():
    """The untouched series: no resampling, the decoded slices as they are, old geometry."""
    slices = _slices()
    v = load_volume(str(SERIES))
    assert "resampled" not in v.metadata and v.metadata["warnings"] == []
    np.testing.assert_array_equal(v.array, np.stack([_pixels(ds) for ds in slices]))
    assert v.geometry.origin == tuple(float(x) for x in slices[0].ImagePositionPatient)
    assert v.geometry.shape_zyx == (4, 28, 64)


def test_missing_slice_is_interpolated_at_its_true_place(tmp_path):
    slices = _slices()
    v = load_volume(str(_write(slices[:1] + slices[2:], tmp_path / "gap")))
    note = v.metadata["resampled"]
    assert note.startswith("uneven slice spacing (0.500 to 1.000 mm): resampled")
    assert note in v.metadata["warnings"]
    assert v.geometry.shape_zyx == (4, 28, 64)
    spacing = v.geometry.spacing[2]
    assert spacing == pytest.approx(0.5, abs=1e-6)  # uniform, the series' own step
    for k in (0, 2, 3):  # untouched slices: at their own position, values exact
        idx, got = _values_at(v, _world(slices[k]))
        np.testing.assert_allclose(idx, np.rint(idx), atol=1e-6)
        np.testing.assert_array_equal(got, _pixels(slices[k]).astype(v.array.dtype))
    # the removed slice's place: linear between its neighbours (it lies half-way)
    idx, got = _values_at(v, _world(slices[1]))
    np.testing.assert_allclose(idx, np.rint(idx), atol=1e-6)
    expected = (_pixels(slices[0]) + _pixels(slices[2])) / 2
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def _sheared(tmp_path: Path, pixels_per_slice: float) -> tuple[Path, list[pydicom.Dataset]]:
    slices = _slices()
    for k, ds in enumerate(slices):
        col = np.array([float(x) for x in ds.ImageOrientationPatient[3:]])
        ipp = np.array([float(x) for x in ds.ImagePositionPatient])
        shift = k * pixels_per_slice * float(ds.PixelSpacing[0]) * col
        ds.ImagePositionPatient = [f"{x:.6f}" for x in ipp + shift]
    return _write(slices, tmp_path / f"tilt{pixels_per_slice}"), slices


def test_gantry_tilt_keeps_every_pixel_at_its_world_position(tmp_path):
    folder, slices = _sheared(tmp_path, 1.0)
    v = load_volume(str(folder))
    assert "slices sheared by" in v.metadata["resampled"]
    assert "gantry tilt" in v.metadata["resampled"]
    assert v.geometry.shape_zyx == (4, 28 + 3, 64)  # grown to hold every shifted slice
    background = v.array.min()
    covered = np.zeros(v.array.shape, bool)
    for ds in slices:
        idx, got = _values_at(v, _world(ds))
        np.testing.assert_allclose(idx, np.rint(idx), atol=1e-4)
        np.testing.assert_array_equal(got, _pixels(ds).astype(v.array.dtype))
        covered[tuple(np.rint(idx).astype(int).T)] = True
    assert (v.array[~covered] == background).all()  # outside the scanned planes: fill only


def test_half_pixel_tilt_is_bilinear(tmp_path):
    folder, slices = _sheared(tmp_path, 0.5)
    v = load_volume(str(folder))
    assert v.geometry.shape_zyx == (4, 28 + 2, 64)
    # slice 1 lies half a row further on: the grid row between two of its rows is their mean
    idx, _ = _values_at(v, _world(slices[1]))
    z = int(np.rint(idx[0, 0]))
    src = _pixels(slices[1])
    row0 = int(np.ceil(idx[0, 1]))  # first grid row inside the slice
    np.testing.assert_allclose(v.array[z, row0 : row0 + 27], (src[:-1] + src[1:]) / 2, rtol=1e-6)


def test_scan_reports_the_regular_grid_and_a_label_keeps_it(tmp_path):
    slices = _slices()
    folder = _write(slices[:1] + slices[2:], tmp_path / "gap")
    series = scan_dicom_folder(str(folder)).all_series()[0]
    v = load_volume(str(folder))
    assert series.geometry.same_grid(v.geometry) and series.regularised == v.metadata["resampled"]
    labels = np.zeros(v.geometry.shape_zyx, np.uint16)
    labels[1, 5:9, 10:20] = 3  # on the interpolated plane
    path = save_labels(tmp_path / "label.nii.gz", LabelMap(v.geometry, labels))
    back = load_labels(path, v.geometry)
    assert back.labelmap.geometry.same_grid(v.geometry)
    np.testing.assert_array_equal(back.labelmap.array, labels)


def test_dicom_seg_export_of_a_resampled_series_is_refused_clearly(tmp_path):
    slices = _slices()
    v = load_volume(str(_write(slices[:1] + slices[2:], tmp_path / "gap")))
    reason = not_dicom_reason(v)
    assert reason is not None and "resampled onto a regular grid" in reason
    from viewer.io.dicom_seg import export_dicom_seg

    labels = np.zeros(v.geometry.shape_zyx, np.uint16)
    labels[1, 5:9, 10:20] = 1
    with pytest.raises(SaveError, match="resampled onto a regular grid"):
        export_dicom_seg(v, LabelMap(v.geometry, labels), tmp_path / "seg.dcm")


def test_variable_spacing_is_linear_between_the_true_neighbours(tmp_path):
    """Slice 2 moved 0.2 mm along the normal (steps 0.5, 0.7, 0.3 mm): each grid plane holds
    the linear mix of the two source slices around it, by their true distances."""
    slices = _slices()
    iop = np.array([float(x) for x in slices[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    ipp = np.array([float(x) for x in slices[2].ImagePositionPatient]) + 0.2 * normal
    slices[2].ImagePositionPatient = [f"{x:.9f}" for x in ipp]
    v = load_volume(str(_write(slices, tmp_path / "variable")))
    assert v.metadata["resampled"].startswith("uneven slice spacing (0.300 to 0.700 mm)")
    g = v.geometry
    d = np.array([np.dot([float(x) for x in ds.ImagePositionPatient], normal) for ds in slices])
    assert g.index_to_world([0, 0, 0]) == pytest.approx(list(slices[0].ImagePositionPatient))
    last = g.index_to_world([g.shape_zyx[0] - 1, 0, 0])
    assert last == pytest.approx([float(x) for x in slices[3].ImagePositionPatient], abs=1e-6)
    planes = d[0] + np.arange(g.shape_zyx[0]) * g.spacing[2]
    for z, t in enumerate(planes):
        i = min(int(np.searchsorted(d, t, side="right")) - 1, len(d) - 2)
        w = (t - d[i]) / (d[i + 1] - d[i])
        expected = (1 - w) * _pixels(slices[i]) + w * _pixels(slices[i + 1])
        np.testing.assert_allclose(v.array[z], expected, rtol=1e-5, atol=1e-4)
