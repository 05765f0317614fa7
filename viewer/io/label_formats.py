"""Label files: save NIfTI (.nii/.nii.gz), NRRD (.nrrd) and Slicer .seg.nrrd; read those plus
MetaImage (.mha/.mhd) and DICOM SEG.

Saving writes the label on exactly the grid it lives on (the image's). Loading checks the grid
against the image with viewer.io.labels: same grid as is, another grid (a y-flipped file, other
spacing) resampled with nearest neighbour, no overlap refused -- `LoadedLabels.how` says which.
The entry the app uses is `viewer.io.open_labels` (label_formats_open), built on `load_labels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.io.label_formats_layers import LabelLayers
from viewer.io.label_formats_read import read_format, read_label_file
from viewer.io.label_formats_segnrrd import write_seg_nrrd
from viewer.io.label_formats_sitk import smallest_label_dtype, write_image
from viewer.io.labels import label_onto_grid
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

SAME = "same grid"

FORMATS = ("nifti", "nrrd", "seg-nrrd")


def label_format(path: str | Path) -> str:
    """'nifti', 'nrrd' or 'seg-nrrd' (the formats labels are saved in) from the file name;
    LoadError for anything else."""
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
    """A label file brought onto an image grid, with how it got there.

    `format`: 'nifti', 'nrrd', 'seg-nrrd', 'metaimage' or 'dicom-seg'; `named`: the segment
    names came from the file (or a names file beside it) rather than being made up;
    `notes`: what a user should know (resampling, overlaps flattened, names file used).
    """

    layers: LabelLayers
    how: str  # SAME, or viewer.io.labels' note on how it was resampled
    source_geometry: Geometry
    format: str = ""
    named: bool = False
    notes: list[str] = field(default_factory=list)

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


def load_labels(
    path: str | Path,
    geometry: Geometry | None = None,
    series_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
) -> LoadedLabels:
    """Read a label file; with `geometry`, bring it onto that (image) grid.

    A DICOM SEG has no grid of its own here: it needs `geometry` (its frames are placed by
    their patient coordinates); `series_uid` and `frame_of_reference_uid` are the image's, to
    note a SEG made on another series and refuse one from another frame of reference.
    """
    p = Path(path)
    fmt = read_format(p)
    if fmt == "dicom-seg":
        return _load_dicom_seg(p, geometry, series_uid, frame_of_reference_uid)
    layers, named = read_label_file(p, fmt)
    source = layers.geometry
    how = SAME
    notes: list[str] = []
    if geometry is not None and not source.same_grid(geometry):
        fitted = [label_onto_grid(a, source, geometry, str(p), notes).array for a in layers.layers]
        how = notes[0] if notes else "resampled with nearest neighbour"
        layers = LabelLayers(geometry, fitted, layers.segments)
    return LoadedLabels(layers, how, source, fmt, named, notes)


def _load_dicom_seg(
    p: Path, geometry: Geometry | None, series_uid: str | None, frame_of_reference_uid: str | None
) -> LoadedLabels:
    from viewer.io.dicom_seg_import import read_dicom_seg

    if geometry is None:
        raise LoadError(
            "a DICOM SEG has no image grid of its own: open it onto the image it belongs to", p
        )
    got = read_dicom_seg(
        p, geometry, series_uid=series_uid, frame_of_reference_uid=frame_of_reference_uid
    )
    how = SAME
    notes = list(got.notes)
    if got.how != "on voxel centres":
        how = "SEG frames do not fall on the image's voxel centres: placed on the nearest voxel"
        notes.insert(0, how)
    return LoadedLabels(got.layers, how, geometry, "dicom-seg", True, notes)
