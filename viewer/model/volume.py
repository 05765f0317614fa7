"""The image volume: a (z, y, x) array with its geometry and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from viewer.model.geometry import Geometry


class MetaKey(str, Enum):
    """The keys of `Volume.metadata`, one place that names them all. str-valued: a key is equal
    to (and hashes like) its text, so `metadata[MetaKey.WARNINGS]` and `metadata["warnings"]`
    are the same entry, and the dict is written to JSON as it is."""

    FORMAT = "format"  # "DICOM" for a DICOM series
    SOURCE_FILES = "source_files"  # the files read, one per z for DICOM
    WARNINGS = "warnings"  # the loader's notes for the user (status bar and log)
    RESAMPLED = "resampled"  # DICOM put onto a regular grid: z no longer indexes source_files
    TIME_POINTS = "time_points"  # 4D: how many; TIME_INDEX: which one was loaded
    TIME_INDEX = "time_index"
    RGB = "rgb"
    COMPONENTS = "components"  # multi-component images: how many; COMPONENT_INDEX: which one
    COMPONENT_INDEX = "component_index"
    NIFTI_VERSION = "nifti_version"
    PACS = "pacs"  # where a retrieved series came from (`PacsCaseRef.to_dict()`)
    SERIES_ID = "series_id"  # the DICOM loader's own id for the series
    FRAME_NUMBERS = "frame_numbers"  # multi-frame DICOM: the frame (1-based) of each z
    # the DICOM files' own values, None when absent; needed for DICOM SEG export
    STUDY_UID = "StudyInstanceUID"
    SERIES_UID = "SeriesInstanceUID"
    FRAME_OF_REFERENCE_UID = "FrameOfReferenceUID"
    SOP_CLASS_UID = "SOPClassUID"
    SOP_INSTANCE_UIDS = "SOPInstanceUIDs"
    PATIENT_NAME = "PatientName"
    PATIENT_ID = "PatientID"
    STUDY_DATE = "StudyDate"
    SERIES_DESCRIPTION = "SeriesDescription"
    SERIES_NUMBER = "SeriesNumber"
    MODALITY = "Modality"


@dataclass
class Volume:
    """An image: `array` is (z, y, x) for scalar images, (z, y, x, c) for RGB/multi-component."""

    array: np.ndarray
    geometry: Geometry
    modality: str = ""  # "CT", "MR", ... when known
    source_path: str = ""
    name: str = ""
    # what the loader knew besides the pixels, by `MetaKey` (e.g. DICOM UIDs for SEG export)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.array.shape[:3]) != self.geometry.shape_zyx:
            raise ValueError(
                f"array shape {self.array.shape} does not match geometry {self.geometry.shape_zyx}"
            )

    @property
    def is_rgb(self) -> bool:
        return self.array.ndim == 4 and self.array.shape[3] in (3, 4)

    @property
    def is_segmentable(self) -> bool:
        """Intensity-based tools and AI need a scalar image."""
        return self.array.ndim == 3

    def value_range(self) -> tuple[float, float]:
        if self.array.size == 0:
            return (0.0, 0.0)
        return float(np.min(self.array)), float(np.max(self.array))
