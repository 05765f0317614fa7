"""MetaImage label maps (.mha, .mhd with its data file): read only (labels are saved as NIfTI,
NRRD or .seg.nrrd)."""

from __future__ import annotations

from viewer.io.labels.format import LabelFormat
from viewer.io.labels.formats.image import read_label_volume

FORMAT = LabelFormat(
    key="metaimage",
    name="MetaImage label map",
    suffixes=(".mha", ".mhd"),
    read=read_label_volume,
)
