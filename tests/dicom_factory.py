"""Small DICOM series generated in code (MR Image Storage, uncompressed) for tests that need
several series with chosen headers: description, number, time, size, orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def write_series(
    folder: Path,
    *,
    description: str,
    number: int,
    time: str = "101500.000",
    slices: int = 3,
    rows: int = 8,
    columns: int = 6,
    orientation=AXIAL,
    study_uid: str = "1.2.826.0.1.3680043.10.543.1",
    modality: str = "MR",
) -> str:
    """Write one series of `slices` files into `folder` (created); returns its SeriesInstanceUID."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    row, col = np.asarray(orientation[:3]), np.asarray(orientation[3:])
    normal = np.cross(row, col)
    for k in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MR_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = MR_STORAGE
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID = "Test^Rows", "ROWS01"
        ds.StudyInstanceUID, ds.StudyDate, ds.StudyDescription = study_uid, "20240102", "Brain"
        # type 2 attributes (present, may be empty) that DICOM SEG copies from its source
        ds.PatientBirthDate, ds.PatientSex, ds.StudyTime, ds.StudyID = "", "O", "100000", "1"
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.Manufacturer = "", "", "RadLabel tests"
        ds.SeriesInstanceUID, ds.SeriesNumber = series_uid, number
        ds.SeriesDescription, ds.SeriesDate, ds.SeriesTime = description, "20240102", time
        ds.AcquisitionTime = time
        ds.Modality, ds.FrameOfReferenceUID = modality, study_uid + ".9"
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [float(v) for v in orientation]
        ds.ImagePositionPatient = [float(v) for v in normal * 2.0 * k]
        ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 2.0
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        pixels = np.arange(rows * columns, dtype=np.uint16).reshape(rows, columns) + k * 10
        ds.PixelData = pixels.tobytes()
        ds.save_as(folder / f"{number:03d}_{k:03d}.dcm", enforce_file_format=True)
    return series_uid
