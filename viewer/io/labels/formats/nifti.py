"""NIfTI label maps (.nii.gz, .nii; NIfTI-1 and NIfTI-2): one whole-number value per voxel."""

from __future__ import annotations

from functools import partial

from viewer.io.labels.format import LabelFormat
from viewer.io.labels.formats.image import read_label_volume, write_label_map

FORMAT = LabelFormat(
    key="nifti",
    name="NIfTI label map",
    suffixes=(".nii.gz", ".nii"),
    read=read_label_volume,
    write=partial(write_label_map, kind="NIFTI"),
)
