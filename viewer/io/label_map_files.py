"""Label map files for image generation: finding them in folders, reading one as an integer
(z, y, x) array with its grid (refusing files that are not 3D maps of whole numbers), and the
structure names kept beside them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.errors import LoadError
from viewer.io.loader import load_volume
from viewer.model.geometry import Geometry

MAP_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd")


def map_stem(path: str | Path) -> str:
    """The file name without its image suffix (`training_seg_01.nii.gz` -> `training_seg_01`)."""
    path = Path(path)
    name = path.name
    for suffix in MAP_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def find_label_maps(items: list[str | Path]) -> list[Path]:
    """The label map files named, or found (sorted by name) in the folders named."""
    maps: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                f for f in p.iterdir() if f.is_file() and f.name.lower().endswith(MAP_SUFFIXES)
            )
            if not found:
                raise LoadError("no label maps (.nii.gz, .nii, .nrrd, .mha, .mhd) in folder", p)
            maps.extend(found)
        elif p.is_file():
            maps.append(p)
        else:
            raise LoadError("no such file or folder", p)
    return maps


# names files looked for beside label maps, in this order (JSON is ours; the tables are
# SynthSeg's, ITK-SNAP's or plain rows, and FreeSurfer's)
NAMES_FILES = ("labels.json", "labels_table.txt", "labels.txt", "FreeSurferColorLUT.txt")


def label_names_beside(items: list[str | Path]) -> dict[int, str]:
    """{value: name} from the first names file in the folders named (or beside the files
    named); {} when there is none. LoadError for a names file that cannot be read."""
    from viewer.model.segment_io import read_names_table

    for item in items:
        p = Path(item)
        folder = p if p.is_dir() else p.parent
        for name in NAMES_FILES:
            f = folder / name
            if f.is_file():
                return {s.id: s.name for s in read_names_table(f)}
    return {}


def load_label_map(path: str | Path) -> tuple[np.ndarray, Geometry]:
    """(int32 array, Geometry) of a label map file; LoadError for a map that is not a 3D
    volume of whole numbers."""
    vol = load_volume(str(path))
    meta = vol.metadata
    if vol.array.ndim != 3 or meta.get("time_points") or meta.get("components"):
        raise LoadError("not a 3D label map (4D, RGB or multi-component image)", path)
    arr = vol.array
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise LoadError("not a label map: its values are not whole numbers", path)
    if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
        raise LoadError("label values out of the 32-bit integer range", path)
    return np.asarray(arr, dtype=np.int32), vol.geometry
