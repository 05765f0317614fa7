"""Label files: save and load NIfTI (.nii/.nii.gz), NRRD (.nrrd) and Slicer .seg.nrrd.

Saving writes the label on exactly the grid it lives on (the image's). Loading checks the grid
against the image with viewer.io.labels: same grid as is, another grid (a y-flipped file, other
spacing) resampled with nearest neighbour, no overlap refused -- `LoadedLabels.how` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.io.label_formats_layers import LabelLayers
from viewer.io.label_formats_segnrrd import read_seg_nrrd, write_seg_nrrd
from viewer.io.label_formats_sitk import read_label_image, smallest_label_dtype, write_image
from viewer.io.labels import label_onto_grid
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

SAME = "same grid"

FORMATS = ("nifti", "nrrd", "seg-nrrd")


def label_format(path: str | Path) -> str:
    """'nifti', 'nrrd' or 'seg-nrrd' from the file name; LoadError for anything else."""
    name = Path(path).name.lower()
    if name.endswith(".seg.nrrd"):
        return "seg-nrrd"
    if name.endswith((".nrrd", ".nhdr")):
        return "nrrd"
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    raise LoadError("unknown label file type (use .nii.gz, .nrrd or .seg.nrrd)", path)


@dataclass
class LoadedLabels:
    """A label file brought onto an image grid, with how it got there."""

    layers: LabelLayers
    how: str  # SAME, or viewer.io.labels' note on how it was resampled
    source_geometry: Geometry

    @property
    def labelmap(self) -> LabelMap:
        return self.layers.to_labelmap()

    @property
    def segments(self) -> SegmentTable:
        return self.layers.segment_table()


def save_labels(
    path: str | Path, labels: LabelMap | LabelLayers, segments: SegmentTable | None = None
) -> Path:
    """Write labels in the format the file name asks for; returns the path written.

    Overlapping segments (several layers) only fit .seg.nrrd; NIfTI/NRRD get one label map.
    """
    p = Path(path)
    try:
        fmt = label_format(p)
    except LoadError as e:
        raise SaveError(e.reason, p) from None
    layers = (
        labels if isinstance(labels, LabelLayers) else LabelLayers.from_labelmap(labels, segments)
    )
    if fmt == "seg-nrrd":
        return write_seg_nrrd(layers, p)
    if len(layers.layers) > 1:
        raise SaveError(
            f"{len(layers.layers)} overlapping layers cannot be stored in one "
            f"{fmt.upper()} label map: save as .seg.nrrd or DICOM SEG",
            p,
        )
    array = layers.to_labelmap().array
    return write_image(array.astype(smallest_label_dtype(array)), layers.geometry, p)


def load_labels(path: str | Path, geometry: Geometry | None = None) -> LoadedLabels:
    """Read a label file; with `geometry`, bring it onto that (image) grid."""
    p = Path(path)
    fmt = label_format(p)
    if fmt == "seg-nrrd":
        layers = read_seg_nrrd(p)
    else:
        array, src = read_label_image(p)
        layers = LabelLayers.from_labelmap(LabelMap(src, array))
    source = layers.geometry
    how = SAME
    if geometry is not None and not source.same_grid(geometry):
        notes: list[str] = []
        fitted = [label_onto_grid(a, source, geometry, str(p), notes).array for a in layers.layers]
        how = notes[0] if notes else "resampled with nearest neighbour"
        layers = LabelLayers(geometry, fitted, layers.segments)
    return LoadedLabels(layers, how, source)
