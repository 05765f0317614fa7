"""DICOM SEG objects, recognised by content whatever their name: read only here (the export,
which needs the source series, is viewer.io.dicom_seg). A SEG has no grid of its own in the
app: its frames are placed on the image by their patient coordinates (viewer.io.dicom_seg_import),
and one made on another frame of reference is refused."""

from __future__ import annotations

from pathlib import Path

from viewer.errors import LoadError
from viewer.io.labels.format import GridFit, LabelFormat
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers


def is_dicom(path: Path) -> bool:
    """The DICOM preamble's 'DICM' magic at byte 128 (or a .dcm name)."""
    if path.name.lower().endswith(".dcm"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError as e:
        raise LoadError(f"cannot read file ({e.strerror or e})", path) from None
    return len(head) == 132 and head[128:] == b"DICM"


def read_onto(
    path: Path, geometry: Geometry, series_uid: str | None, frame_of_reference_uid: str | None
) -> tuple[LabelLayers, GridFit, list[str]]:
    """The SEG's segments placed on `geometry`; how they fit it and notes."""
    # imported here: highdicom takes a while to import, and only SEG files need it
    from viewer.io.dicom_seg_import import SegPlacement, read_dicom_seg

    got = read_dicom_seg(
        path, geometry, series_uid=series_uid, frame_of_reference_uid=frame_of_reference_uid
    )
    notes = list(got.notes)
    if got.how is SegPlacement.ON_VOXEL_CENTRES:
        return got.layers, GridFit.SAME_GRID, notes
    if got.how is SegPlacement.RESAMPLED:  # its first note says from which pixel size
        return got.layers, GridFit.RESAMPLED, notes
    notes.insert(
        0, "SEG frames do not fall on the image's voxel centres: placed on the nearest voxel"
    )
    return got.layers, GridFit.NEAREST_VOXEL, notes


FORMAT = LabelFormat(
    key="dicom-seg",
    name="DICOM SEG",
    suffixes=(".dcm",),
    sniff=is_dicom,
    read_onto=read_onto,
    layers=True,
)
