"""Reading a label file onto an image grid, and saving labels in the format the name asks for.

Saving writes the label on exactly the grid it lives on (the image's). Loading checks the grid
against the image with viewer.io.labels.grid: same grid as is, another grid (a y-flipped file,
other spacing) resampled with nearest neighbour, no overlap refused -- `LoadedLabels.fit` says
which (and `how` in words). Which format a file is comes from viewer.io.labels.registry. The entry the app uses is
`viewer.io.labels.open.open_labels`, built on `load_labels`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.io.labels.format import GridFit
from viewer.io.labels.grid import label_onto_grid
from viewer.io.labels.registry import read_format, save_format
from viewer.model.geometry import Geometry
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

SAME = GridFit.SAME_GRID.value


@dataclass
class LoadedLabels:
    """A label file brought onto an image grid, with how it got there.

    `format`: the registry key ('nifti', 'nrrd', 'seg-nrrd', 'metaimage', 'dicom-seg', ...);
    `named`: the segment names came from the file (or a names file beside it) rather than being
    made up; `notes`: what a user should know (resampling, overlaps flattened, names file used).
    """

    layers: LabelLayers
    fit: GridFit
    source_geometry: Geometry
    format: str = ""
    named: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def how(self) -> str:
        """The fit in words: SAME, or the note that says how the labels were placed."""
        if self.fit is GridFit.SAME_GRID:
            return SAME
        return self.notes[0] if self.notes else self.fit.value

    @property
    def labelmap(self) -> LabelMap:
        return self.layers.to_labelmap()

    def lossy_on_save_back(self) -> str:
        """Why writing the open labels back over this file would lose part of it ("" when it
        would not): labels moved onto another grid, or overlapping segments flattened."""
        if self.fit is not GridFit.SAME_GRID:
            return "its labels were placed on the image's grid"
        if self.layers.overlap_voxels():
            return "its overlapping segments were flattened"
        return ""

    @property
    def segments(self) -> SegmentTable:
        return self.layers.segment_table()


def save_labels(
    path: str | os.PathLike,
    labels: LabelMap | LabelLayers,
    segments: SegmentTable | None = None,
) -> Path:
    """Write labels in the format the file name asks for, atomically and verified (every
    format's writer goes through viewer.io.atomic_save); returns the path written.

    Overlapping segments (several layers) only fit formats that keep layers (.seg.nrrd); the
    others get one label map or, for several layers, a SaveError. A format that stores empty
    segments (.seg.nrrd) also gets the entries of `segments` that have no voxels yet.
    """
    p = Path(path)
    try:
        fmt = save_format(p)
    except LoadError as e:
        raise SaveError(e.reason, p) from None
    layers = (
        labels
        if isinstance(labels, LabelLayers)
        else LabelLayers.from_labelmap(labels, segments, keep_empty=fmt.empty_segments)
    )
    assert fmt.write is not None  # save_format returns writable formats only
    return Path(fmt.write(layers, p))


def load_labels(
    path: str | os.PathLike,
    geometry: Geometry | None = None,
    series_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
) -> LoadedLabels:
    """Read a label file; with `geometry`, bring it onto that (image) grid.

    A format without a grid of its own (DICOM SEG) needs `geometry` (its frames are placed by
    their patient coordinates); `series_uid` and `frame_of_reference_uid` are the image's, to
    note a SEG made on another series and refuse one from another frame of reference.
    """
    p = Path(path)
    fmt = read_format(p)
    if fmt.read_onto is not None:
        if geometry is None:
            raise LoadError(
                f"a {fmt.name} has no image grid of its own: open it onto the image it belongs to",
                p,
            )
        layers, fit, notes = fmt.read_onto(p, geometry, series_uid, frame_of_reference_uid)
        return LoadedLabels(layers, fit, geometry, fmt.key, True, notes)
    if fmt.read is None:
        raise LoadError(f"'{fmt.key}' files cannot be read", p)
    layers, named = fmt.read(p)
    source = layers.geometry
    fit = GridFit.SAME_GRID
    notes: list[str] = []
    if geometry is not None and not source.same_grid(geometry):
        fitted = [label_onto_grid(a, source, geometry, str(p), notes).array for a in layers.layers]
        fit = GridFit.RESAMPLED
        if not notes:
            notes.append("resampled with nearest neighbour")
        layers = LabelLayers(geometry, fitted, layers.segments)
    return LoadedLabels(layers, fit, source, fmt.key, named, notes)
