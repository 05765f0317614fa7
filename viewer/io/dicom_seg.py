"""DICOM SEG export with highdicom: a segmentation that references the series it was drawn on.

Segment numbers are 1..N in label-id order; names and colours come from the segment table.
Overlapping segments (several layers) are written as one binary frame per segment and slice.
Text is UTF-8 (Specific Character Set ISO_IR 192), so names in any script survive. A name
DICOM cannot hold as it is (a backslash separates values, a Segment Label has at most 64
characters) is changed, and a defined segment without voxels is left out (a SEG cannot hold
one well); the result's `notes` say which. `read_dicom_seg` (in `dicom_seg_import`) reads such
files back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes

from viewer import __version__
from viewer.errors import SaveError
from viewer.io.atomic_save import atomic_write
from viewer.io.dicom_seg_source import load_source_series
from viewer.io.write_check import WriteCheckError
from viewer.model.label_layers import LabelLayers
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume

log = logging.getLogger(__name__)

ALGORITHM_TYPES = ("MANUAL", "SEMIAUTOMATIC", "AUTOMATIC")
# UTF-8: segment names in any script; without it pydicom writes ISO 646 and '肝臓' becomes '??'
CHARACTER_SET = "ISO_IR 192"
MAX_LABEL = 64  # characters of a Segment Label (VR LO)


@dataclass
class DicomSegResult:
    path: Path
    sop_instance_uid: str
    series_instance_uid: str
    referenced_series_uid: str
    segments: int
    frames: int
    notes: list[str] = field(default_factory=list)


def export_dicom_seg(
    volume: Volume,
    labels: LabelMap | LabelLayers,
    path: str | Path,
    segments: SegmentTable | None = None,
    *,
    series_description: str = "RadLabel segmentation",
    series_number: int = 9901,
    algorithm_type: str = "SEMIAUTOMATIC",
) -> DicomSegResult:
    """Write `labels` (on `volume`'s grid) as a DICOM SEG referencing `volume`'s source series.

    Raises SaveError with the reason when the image is not DICOM, the label is empty or on
    another grid, or the source series cannot be matched.
    """
    p = Path(path)
    layers = (
        labels if isinstance(labels, LabelLayers) else LabelLayers.from_labelmap(labels, segments)
    )
    if not layers.geometry.same_grid(volume.geometry):
        raise SaveError("the label map is not on the image grid; put it on the image first", p)
    if algorithm_type not in ALGORITHM_TYPES:
        raise SaveError(f"algorithm type must be one of {ALGORITHM_TYPES}", p)
    segs = _segments_present(layers)
    if not segs:
        raise SaveError("the segmentation is empty: there is nothing to export", p)
    source = load_source_series(volume)
    pixels = _in_source_frame_order(_pixel_array(layers, segs), source)
    label_notes = _empty_segment_notes(layers, segments, segs)
    descriptions = _segment_descriptions(segs, algorithm_type, label_notes)
    seg = _build_segmentation(
        source,
        pixels,
        descriptions,
        series_description=series_description,
        series_number=series_number,
        path=p,
    )
    _save(seg, p)
    notes = [*source.notes, *label_notes]
    for note in notes:
        log.warning("%s: %s", p, note)
    return DicomSegResult(
        p,
        str(seg.SOPInstanceUID),
        str(seg.SeriesInstanceUID),
        source.series_uid,
        len(segs),
        int(seg.NumberOfFrames),
        notes,
    )


def _segments_present(layers: LabelLayers) -> list:
    """The segments that have at least one voxel, in label-id order (SEG numbers them 1..N).

    The values present are found in one pass per layer: a mask per segment would cost
    labels x voxels.
    """
    present = [set(np.unique(layer).tolist()) for layer in layers.layers]
    return sorted(
        (s for s in layers.segments if s.value in present[s.layer]),
        key=lambda s: s.id,
    )


def _empty_segment_notes(
    layers: LabelLayers, table: SegmentTable | None, present: list
) -> list[str]:
    """A note for each defined segment (in the layers or the table) without a voxel.

    DICOM SEG has no way to keep a segment without frames well (readers drop or reject it), so
    such a segment is left out; the note keeps that from passing unnoticed.
    """
    defined = {s.id: s.name for s in table} if table is not None else {}
    defined.update({s.id: s.name for s in layers.segments})
    written = {s.id for s in present}
    return [
        f"segment '{name}' has no voxels: not written"
        for sid, name in sorted(defined.items())
        if sid not in written
    ]


def _segment_label(name: str, notes: list[str]) -> str:
    """`name` as a Segment Label (LO): a backslash would split it into several values, so it
    becomes '/'; past 64 characters it is shortened. Each change is added to `notes`."""
    label = name.replace("\\", "/")
    if label != name:
        notes.append(f"segment '{name}' written as '{label}': DICOM names cannot hold '\\'")
    if len(label) > MAX_LABEL:
        short = label[:MAX_LABEL]
        notes.append(
            f"segment '{name}' is longer than {MAX_LABEL} characters: written as '{short}'"
        )
        label = short
    return label


def _segment_descriptions(segs: list, algorithm_type: str, notes: list[str]) -> list:
    """One highdicom SegmentDescription per segment: its number, name, colour and tracking id.

    DICOM asks for an algorithm identification only when the type is not MANUAL; then it
    names RadLabel and its version. Names changed to fit DICOM are reported in `notes`.
    """
    algorithm = None
    if algorithm_type != "MANUAL":
        algorithm = hd.AlgorithmIdentificationSequence(
            name="RadLabel", version=__version__, family=codes.DCM.ArtificialIntelligence
        )
    return [
        hd.seg.SegmentDescription(
            segment_number=n,
            segment_label=_segment_label(s.name, notes),
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=algorithm_type,
            algorithm_identification=algorithm,
            tracking_id=f"RadLabel label {s.id}",
            tracking_uid=hd.UID(),
            display_color=hd.color.CIELabColor.from_rgb(*s.colour),
        )
        for n, s in enumerate(segs, start=1)
    ]


def _in_source_frame_order(pixels: np.ndarray, source) -> np.ndarray:
    """`pixels` (one plane per slice) laid out as highdicom wants them for `source`.

    A single-frame-per-file series already matches; a multi-frame source wants one plane per
    source frame, in its order, so each slice goes to the frame it came from.
    """
    if source.frame_of_z is None:
        return pixels
    n_frames = int(source.datasets[0].NumberOfFrames)
    by_frame = np.zeros((n_frames, *pixels.shape[1:]), dtype=pixels.dtype)
    by_frame[source.frame_of_z] = pixels
    return by_frame


def _build_segmentation(
    source,
    pixels: np.ndarray,
    descriptions: list,
    *,
    series_description: str,
    series_number: int,
    path: Path,
):
    """The highdicom Segmentation object; its refusals become a SaveError naming `path`."""
    try:
        return hd.seg.Segmentation(
            source_images=source.datasets,
            pixel_array=pixels,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=hd.UID(),
            series_number=series_number,
            sop_instance_uid=hd.UID(),
            instance_number=1,
            manufacturer="RadLabel",
            manufacturer_model_name="RadLabel",
            software_versions=__version__,
            device_serial_number="0",
            series_description=series_description[:64],
            content_label="SEGMENTATION",
            content_description=series_description[:64],
            specific_character_set=CHARACTER_SET,
        )
    except (ValueError, TypeError, AttributeError) as e:
        raise SaveError(f"highdicom refused the segmentation: {e}", path) from e


def _save(seg, path: Path) -> None:
    """Write `seg` atomically to `path` (creating its folder) and check it reads back."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder ({e.strerror or e})", path) from e
    atomic_write(path, lambda tmp: seg.save_as(tmp), verify=lambda tmp: _verify_written(tmp, seg))


def _pixel_array(layers: LabelLayers, segs: list) -> np.ndarray:
    """(slices, rows, cols) of segment numbers for one layer, else (..., segments) booleans."""
    if len(layers.layers) == 1:
        layer = layers.layers[0]
        top = max(s.value for s in segs)
        lut = np.zeros(max(int(layer.max()), top) + 1, dtype=np.uint16)
        for n, s in enumerate(segs, start=1):
            lut[s.value] = n
        numbers = lut[layer]
        return numbers.astype(np.uint8) if len(segs) < 256 else numbers
    out = np.zeros((*layers.geometry.shape_zyx, len(segs)), dtype=bool)
    for n, s in enumerate(segs):
        out[..., n] = layers.mask(s)
    return out


def _verify_written(tmp: str, seg) -> None:
    """The written SEG parses and carries this object's UID and all of its pixel data."""
    import pydicom

    try:
        back = pydicom.dcmread(tmp)
        same = str(back.SOPInstanceUID) == str(seg.SOPInstanceUID)
        same = same and len(back.PixelData) == len(seg.PixelData)
    except Exception as e:  # pydicom raises many kinds on a cut file
        raise WriteCheckError(f"the written file does not read back ({e})") from None
    if not same:
        raise WriteCheckError("the written file does not read back as written")
