"""Label maps stored as plain images (NIfTI, NRRD, MetaImage): reading with the label checks and
atomic, verified writing, shared by those formats and the dataset exports.

Reading goes through the image reader (viewer.io.volume_files: file checks, header size checks,
orientation) and adds what a label needs: one 3D volume with one whole-number value in 0..65535
per voxel. Writing is viewer.io.writer's `save_volume` (atomic, verified by a read-back).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.errors import LoadError, SaveError
from viewer.io.labels.grid import as_label_values
from viewer.io.volume_files import read_volume_file
from viewer.io.writer import save_volume
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap


def read_label_volume(path: Path) -> tuple[LabelLayers, bool]:
    """(one layer on the file's own grid, False: a plain image names no segments)."""
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


def write_label_map(layers: LabelLayers, path: Path, kind: str = "") -> Path:
    """Write one label map (uint8 when every value fits); SaveError for overlapping layers,
    which one `kind` ('NIFTI', 'NRRD') label map cannot hold."""
    if len(layers.layers) > 1:
        raise SaveError(
            f"{len(layers.layers)} overlapping layers cannot be stored in one "
            f"{kind + ' ' if kind else ''}label map: "
            "save as .seg.nrrd or DICOM SEG",
            path,
        )
    array = layers.to_labelmap().array
    return write_image(array.astype(smallest_label_dtype(array)), layers.geometry, path)


def write_image(array: np.ndarray, geometry: Geometry, path: str | Path) -> Path:
    """Write `array` on `geometry` with SimpleITK (format from the file name, gzip on), atomically
    and verified by a read-back (viewer.io.writer.save_volume)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder ({e.strerror or e})", p) from e
    save_volume(array, geometry, p)
    return p


def smallest_label_dtype(array: np.ndarray) -> type:
    """uint8 when every value fits (smaller files, what training tools expect), else uint16."""
    return np.uint8 if (array.size == 0 or int(array.max()) < 256) else np.uint16
