"""`open_labels`: the one entry for opening a label file onto an image, used by the GUI and the
command line (`load_label_for` is its label-map-only shorthand).

Reads every format of viewer.io.labels.registry -- NIfTI, NRRD, MetaImage, 3D Slicer .seg.nrrd
(names, colours, layers) and DICOM SEG (placed on the image by patient coordinates; refused when
it belongs to another frame of reference); puts the result on the image grid
(viewer.io.labels.grid), picks up segment names from a
names file beside a plain label file (`labels.json`, `<label>s.json`, `<label>_labels.json`)
and notes what a user should know: resampling, and overlapping segments that one label map
cannot hold.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from viewer.errors import LoadError
from viewer.io.labels.load_save import LoadedLabels, load_labels
from viewer.io.native_output import native_output_to_log
from viewer.io.volume_files import FILE_SUFFIXES
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.model.segment_io import read_json_map
from viewer.model.volume import Volume

log = logging.getLogger(__name__)


def open_labels(
    volume: Volume, path: str | os.PathLike, notes: list[str] | None = None
) -> LoadedLabels:
    """Read the label file at `path` onto `volume`'s grid.

    Returns the layers (several only when segments overlap), segment names and colours when
    the file (or a names file beside it) carries them, and notes; the notes are also appended
    to `notes`. Raises LoadError (unreadable, unknown type) or GeometryError (no overlap,
    another frame of reference) naming the file and the reason.
    """
    p = Path(os.fspath(path))
    meta = volume.metadata or {}
    with native_output_to_log():  # ITK/MetaIO chatter to the log, not the terminal
        loaded = load_labels(
            p,
            volume.geometry,
            series_uid=meta.get("SeriesInstanceUID"),
            frame_of_reference_uid=meta.get("FrameOfReferenceUID"),
        )
    if loaded.format == "dicom-seg":
        if meta.get("format") != "DICOM":
            loaded.notes.append(
                "the image is not DICOM: the SEG was placed by patient coordinates alone (its "
                "referenced series and frame of reference could not be checked)"
            )
    elif not loaded.named:
        _apply_names_file(p, loaded)
    overlap = overlap_note(loaded.layers)
    if overlap:
        loaded.notes.append(overlap)
    for note in loaded.notes:
        log.info("%s: %s", p, note)
    if notes is not None:
        notes.extend(loaded.notes)
    return loaded


def load_label_for(
    volume: Volume, path: str | os.PathLike, notes: list[str] | None = None
) -> LabelMap:
    """Read a label file (any format `open_labels` reads) onto `volume`'s grid as one label map;
    notes about resampling and flattened overlaps go to `notes`."""
    return open_labels(volume, path, notes).labelmap


def overlap_note(layers: LabelLayers) -> str:
    """How flattening overlapping segments into one label map changes them; '' when none do."""
    if len(layers.layers) < 2 or not layers.overlap_voxels():
        return ""
    flat = layers.to_labelmap().array
    lost = []
    for s in layers.segments:
        n = int(np.count_nonzero(layers.mask(s) & (flat != s.id)))
        if n:
            lost.append(f"{s.name} {n}")
    return (
        f"{layers.overlap_voxels()} voxels belong to more than one segment: one label map (the "
        "viewer, NIfTI, NRRD) keeps the segment listed later there, so these lose voxels: "
        + ", ".join(lost)
        + " (.seg.nrrd and DICOM SEG exports keep the overlapping layers)"
    )


def names_file_for(label_path: Path) -> Path | None:
    """The segment names file beside a plain label file, if there is one."""
    name = label_path.name
    stem = name
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            break
    for candidate in (f"{stem}s.json", f"{stem}_labels.json", "labels.json"):
        p = label_path.with_name(candidate)
        if p.is_file():
            return p
    return None


def _apply_names_file(label_path: Path, loaded: LoadedLabels) -> None:
    names_path = names_file_for(label_path)
    if names_path is None:
        return
    try:
        imported = {s.id: s for s in read_json_map(names_path)}
    except LoadError as e:
        loaded.notes.append(f"segment names not taken from {names_path.name}: {e.reason}")
        return
    used = 0
    for s in loaded.layers.segments:
        if s.id in imported:
            s.name, s.colour = imported[s.id].name, imported[s.id].colour
            used += 1
    if used:
        loaded.named = True
        loaded.notes.append(f"segment names from {names_path.name}")
