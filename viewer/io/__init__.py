"""File I/O: the only package that imports SimpleITK, pydicom, highdicom, nibabel or nrrd.

Public entries: `load_volume`, `scan_dicom_folder`, `open_labels` (every label format, with
names and colours; `load_label_for` is its label-map-only shorthand), `save_volume` (atomic, verified) and
`write_volume` (the plain primitive).
"""

from viewer.io.dicom_scan import (
    DicomPatient,
    DicomScan,
    DicomSeries,
    DicomStudy,
    LoadCancelled,
    SkippedFile,
)
from viewer.io.label_formats_open import open_labels
from viewer.io.labels import label_onto_grid, load_label_for
from viewer.io.loader import load_volume, load_volume_from_scan, scan_dicom_folder
from viewer.io.writer import save_volume, write_volume

__all__ = [
    "DicomPatient",
    "DicomScan",
    "DicomSeries",
    "DicomStudy",
    "LoadCancelled",
    "SkippedFile",
    "label_onto_grid",
    "load_label_for",
    "load_volume",
    "load_volume_from_scan",
    "open_labels",
    "save_volume",
    "scan_dicom_folder",
    "write_volume",
]
