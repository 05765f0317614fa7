"""Small valid images made in code (NIfTI, NRRD, MetaImage, DICOM) and the header regions a
fuzzer may mutate; shared by the hardening tests, the fuzz test and benchmarks/bench_fuzz.py."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

SHAPE_ZYX = (3, 4, 5)
SPACING_XYZ = (0.5, 0.75, 2.0)


def pixels(shape_zyx: tuple[int, int, int] = SHAPE_ZYX, dtype=np.int16) -> np.ndarray:
    """Distinct values per voxel, so a half-read image cannot pass for the whole one."""
    return (np.arange(int(np.prod(shape_zyx))) + 1).astype(dtype).reshape(shape_zyx)


def nifti_bytes(gz: bool = False, spacing_xyz=SPACING_XYZ) -> bytes:
    import nibabel as nib

    data = np.transpose(pixels(), (2, 1, 0))  # nibabel arrays are (x, y, z)
    affine = np.diag([*spacing_xyz, 1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    raw = img.to_bytes()
    if gz:
        import gzip

        return gzip.compress(raw, mtime=0)
    return raw


def write_nifti(path: Path, gz: bool | None = None, spacing_xyz=SPACING_XYZ) -> Path:
    gz = str(path).endswith(".gz") if gz is None else gz
    path.write_bytes(nifti_bytes(gz, spacing_xyz))
    return path


def nrrd_header(
    data_file: str | None = None, sizes=(5, 4, 3), encoding: str = "raw", extra: str = ""
) -> str:
    lines = [
        "NRRD0004",
        "type: short",
        "dimension: 3",
        "space: left-posterior-superior",
        f"sizes: {' '.join(str(s) for s in sizes)}",
        "space directions: (0.5,0,0) (0,0.75,0) (0,0,2)",
        "kinds: domain domain domain",
        "endian: little",
        f"encoding: {encoding}",
        "space origin: (0,0,0)",
    ]
    if data_file is not None:
        lines.append(f"data file: {data_file}")
    return "\n".join(lines) + "\n" + extra + "\n"


def nrrd_bytes() -> bytes:
    return nrrd_header().encode() + pixels().astype("<i2").tobytes()


def mhd_header(data_file: str, sizes=(5, 4, 3)) -> str:
    return (
        "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
        "CompressedData = False\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n"
        f"ElementSpacing = 0.5 0.75 2\nDimSize = {' '.join(str(s) for s in sizes)}\n"
        f"ElementType = MET_SHORT\nElementDataFile = {data_file}\n"
    )


def dicom_dataset(rows: int = 4, cols: int = 5, frames: int = 1):
    """A minimal CT slice (explicit VR little endian) with 16-bit pixels."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["radlabel-test-sop"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["radlabel-test-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["radlabel-test-series"])
    ds.Modality = "CT"
    ds.PatientID = "X"
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.75, 0.5]
    ds.SliceThickness = 2
    ds.Rows = rows
    ds.Columns = cols
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = 1
    ds.RescaleIntercept = 0
    ds.PixelData = pixels((frames, rows, cols)).astype("<i2").tobytes()
    return ds


def dicom_bytes(ds=None) -> bytes:
    ds = dicom_dataset() if ds is None else ds
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


# Byte ranges a header fuzzer mutates: the header, not the pixel payload.
def header_region(kind: str, data: bytes) -> tuple[int, int]:
    if kind == "nifti":
        return 0, 352
    if kind == "nrrd":
        return 0, data.index(b"\n\n") + 2
    if kind == "dicom":
        return 0, data.rindex(b"\xe0\x7f\x10\x00")  # up to the PixelData tag
    raise ValueError(kind)
