"""Plain NRRD label maps (.nrrd, .nhdr with its data file). A NRRD whose header carries Slicer
segment fields or a layer axis is a Slicer segmentation (formats/seg_nrrd.py) whatever its name."""

from __future__ import annotations

from functools import partial

from viewer.io.labels.format import LabelFormat
from viewer.io.labels.formats.image import read_label_volume, write_label_map

FORMAT = LabelFormat(
    key="nrrd",
    name="NRRD label map",
    suffixes=(".nrrd", ".nhdr"),
    read=read_label_volume,
    write=partial(write_label_map, kind="NRRD"),
    read_only_suffixes=(".nhdr",),  # the image writer makes one attached file, never a pair
)
