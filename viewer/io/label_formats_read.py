"""Reading a label file on its own grid: which format a file is, and its label layers.

NIfTI (incl. NIfTI-2), NRRD and MetaImage go through the image reader (viewer.io.volume_files:
header size checks, orientation) and must hold one whole-number value per voxel; .seg.nrrd
(and any NRRD with Slicer segment fields or a layer axis) keeps its layers, names and colours.
DICOM files are recognised by content, whatever their name; they are read as DICOM SEG by
viewer.io.dicom_seg_import, which needs the image grid.
"""

from __future__ import annotations

from pathlib import Path

import nrrd

from viewer.errors import LoadError
from viewer.io.file_checks import regular_file_size
from viewer.io.label_formats_layers import LabelLayers
from viewer.io.label_formats_segnrrd import read_seg_nrrd
from viewer.io.labels import as_label_values
from viewer.io.volume_files import read_volume_file
from viewer.model.labelmap import LabelMap

READABLE = (
    "NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), 3D Slicer .seg.nrrd, MetaImage (.mha, .mhd) "
    "or DICOM SEG"
)


def read_format(path: Path) -> str:
    """'nifti', 'nrrd', 'seg-nrrd', 'metaimage' or 'dicom-seg'; LoadError for anything else."""
    if not path.exists():
        raise LoadError("no such file", path)
    if path.is_dir():
        raise LoadError(f"a folder is not a label file: choose one {READABLE} file", path)
    if regular_file_size(str(path)) == 0:  # a FIFO would block the reads below forever
        raise LoadError("file is empty", path)
    name = path.name.lower()
    if name.endswith(".dcm") or _is_dicom(path):
        return "dicom-seg"
    if name.endswith(".seg.nrrd"):
        return "seg-nrrd"
    if name.endswith((".nrrd", ".nhdr")):
        return "seg-nrrd" if _nrrd_has_segments(path) else "nrrd"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith((".mha", ".mhd")):
        return "metaimage"
    raise LoadError(f"unknown label file type: RadLabel reads labels from {READABLE} files", path)


def read_label_file(path: Path, fmt: str) -> tuple[LabelLayers, bool]:
    """(layers on the file's own grid, whether the file named its segments)."""
    if fmt == "seg-nrrd":
        return read_seg_nrrd(path), _nrrd_has_segments(path)
    if fmt not in ("nifti", "nrrd", "metaimage"):
        raise LoadError(f"'{fmt}' files cannot be read on their own grid", path)
    volume = read_volume_file(str(path))
    meta = volume.metadata
    if meta.get("time_points"):
        raise LoadError(
            f"a label file must hold one 3D volume, this one holds {meta['time_points']} (4D)",
            path,
        )
    if meta.get("components") or meta.get("rgb") or volume.array.ndim != 3:
        raise LoadError(
            "a label file must hold one integer value per voxel, not several components or colour",
            path,
        )
    array = as_label_values(volume.array, str(path))
    return LabelLayers.from_labelmap(LabelMap(volume.geometry, array)), False


def _is_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError as e:
        raise LoadError(f"cannot read file ({e.strerror or e})", path) from None
    return len(head) == 132 and head[128:] == b"DICM"


def _nrrd_has_segments(path: Path) -> bool:
    """Slicer segment fields, or a layer ('list'/'vector') axis, in the NRRD header."""
    try:
        header = nrrd.read_header(str(path))
    except (nrrd.NRRDError, OSError, ValueError, UnicodeDecodeError) as e:
        raise LoadError(f"cannot read the NRRD header ({e})", path) from None
    if any(str(k).startswith("Segment0_") for k in header):
        return True
    kinds = [str(k) for k in header.get("kinds", [])]
    return int(header.get("dimension", 3)) == 4 and any(k in ("list", "vector") for k in kinds)
