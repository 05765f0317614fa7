"""Shared, cached cases for the export tests: each real study is read once per test session.

`load_dicom_folder` is a minimal stand-in loader: one classic DICOM series read with SimpleITK,
`Volume.metadata` filled with the keys viewer.io's loader uses (format, UIDs, source_files).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from viewer.io.label_formats import LoadedLabels, load_labels
from viewer.io.label_formats_sitk import geometry_of
from viewer.model.volume import Volume


@functools.lru_cache(maxsize=4)
def load_dicom_folder(folder: str) -> Volume:
    files = sorted(str(p) for p in Path(folder).iterdir() if p.is_file())
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    iop = np.array([float(v) for v in headers[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    order = np.argsort(
        [float(np.dot(normal, [float(v) for v in h.ImagePositionPatient])) for h in headers]
    )
    files = [files[i] for i in order]
    headers = [headers[i] for i in order]
    image = sitk.ReadImage(files)
    h0 = headers[0]
    meta = {
        "format": "DICOM",
        "StudyInstanceUID": str(h0.get("StudyInstanceUID", "")),
        "SeriesInstanceUID": str(h0.get("SeriesInstanceUID", "")),
        "FrameOfReferenceUID": str(h0.get("FrameOfReferenceUID", "")),
        "SOPInstanceUIDs": [str(h.get("SOPInstanceUID", "")) for h in headers],
        "PatientName": str(h0.get("PatientName", "")),
        "PatientID": str(h0.get("PatientID", "")),
        "Modality": str(h0.get("Modality", "")),
        "source_files": files,
    }
    return Volume(
        sitk.GetArrayFromImage(image),
        geometry_of(image),
        modality=meta["Modality"],
        source_path=folder,
        name="test series",
        metadata=meta,
    )


@functools.lru_cache(maxsize=4)
def load_image_file(path: str) -> Volume:
    image = sitk.ReadImage(path)
    return Volume(
        sitk.GetArrayFromImage(image),
        geometry_of(image),
        modality="MR",
        source_path=path,
        name=Path(path).name,
        metadata={"format": "NRRD" if path.endswith(".nrrd") else "NIfTI", "source_files": [path]},
    )


@functools.lru_cache(maxsize=4)
def _case(image: str, label: str) -> tuple[Volume, LoadedLabels]:
    volume = load_dicom_folder(image) if Path(image).is_dir() else load_image_file(image)
    return volume, load_labels(label, volume.geometry)


@pytest.fixture
def ct_case(shared_data: Path) -> tuple[Volume, LoadedLabels]:
    """ct_abdomen_dicom: DICOM series + its y-flipped NIfTI label put on the image grid."""
    d = shared_data / "seg" / "ct_abdomen_dicom"
    return _case(str(d / "dicom"), str(d / "label.nii.gz"))


@pytest.fixture
def mr_case(shared_data: Path) -> tuple[Volume, LoadedLabels]:
    """mr_brain_tumour: anisotropic NRRD image and label."""
    d = shared_data / "seg" / "mr_brain_tumour"
    return _case(str(d / "image.nrrd"), str(d / "label.nrrd"))


@pytest.fixture
def ct3_volume(shared_data: Path) -> Volume:
    """ct_abdomen_3slice: a 3-slice DICOM series with a patient name (dcmqi test data)."""
    return load_dicom_folder(str(shared_data / "seg" / "ct_abdomen_3slice" / "dicom"))
