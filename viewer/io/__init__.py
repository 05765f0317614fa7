"""File I/O: the only package that imports SimpleITK, pydicom, highdicom, nibabel or nrrd.

Public entries: `load_volume`, `scan_dicom_folder`, `open_labels` (every label format, with
names and colours; `load_label_for` is its label-map-only shorthand), `save_labels` (the format
the name asks for, atomic and verified), `save_volume` (atomic, verified) and `write_volume` (the
plain primitive). Label formats live in viewer.io.labels (one module each, one registry).
"""

from viewer.io.dicom_scan import (
    DicomPatient,
    DicomScan,
    DicomSeries,
    DicomStudy,
    LoadCancelled,
    SkippedFile,
)
from viewer.io.labels.grid import label_onto_grid
from viewer.io.labels.load_save import save_labels
from viewer.io.labels.open import load_label_for, open_labels
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
    "save_labels",
    "save_volume",
    "scan_dicom_folder",
    "write_volume",
]
