"""The DICOM series a label was drawn on, as highdicom needs it for a SEG export.

Reads the source files named in `Volume.metadata["source_files"]`, orders them along the volume's
z axis by their position, checks that their pixel grid is the volume's, and fills UIDs that
de-identification left empty (SOP UIDs from the file meta header; study/series UIDs derived
deterministically from the instance UIDs, with a note saying so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from viewer.errors import SaveError
from viewer.io.dicom_checks import NotAnImage
from viewer.io.dicom_headers import header_from_dataset
from viewer.model.volume import Volume

_TOL = 1e-2  # voxels


@dataclass
class SourceSeries:
    """Source datasets in volume z order (index i holds slice z = i) plus notes for the user;
    for an enhanced multi-frame source, its one dataset and the frame (0-based) of each z."""

    datasets: list[pydicom.Dataset]
    notes: list[str] = field(default_factory=list)
    frame_of_z: list[int] | None = None

    @property
    def series_uid(self) -> str:
        return str(self.datasets[0].SeriesInstanceUID)

    @property
    def study_uid(self) -> str:
        return str(self.datasets[0].StudyInstanceUID)

    @property
    def sop_instance_uids(self) -> list[str]:
        return [str(ds.SOPInstanceUID) for ds in self.datasets]


def not_dicom_reason(volume: Volume) -> str | None:
    """Why `volume` cannot be the source of a DICOM SEG, or None when it can."""
    meta = volume.metadata or {}
    files = meta.get("source_files") or []
    fmt = str(meta.get("format", "")).upper() or _format_from_name(files or [volume.source_path])
    if fmt and fmt != "DICOM":
        return (
            f"the image was loaded from a {fmt} file, not from a DICOM series; a DICOM SEG must "
            "reference the DICOM images it was drawn on. Open the original DICOM series, or "
            "export NIfTI, NRRD or .seg.nrrd instead"
        )
    if not files:
        src = volume.source_path or "this image"
        return (
            f"{src} did not come from a DICOM series (no source DICOM files are known); a DICOM "
            "SEG must reference the DICOM images it was drawn on. Open the original DICOM "
            "series, or export NIfTI, NRRD or .seg.nrrd instead"
        )
    if volume.array.ndim != 3:
        return "DICOM SEG export needs a scalar (grey-level) image series"
    if meta.get("resampled"):
        return (
            "the series was resampled onto a regular grid when loaded (its slices are unevenly "
            "spaced or tilted), so the label's slices are not the DICOM images; a DICOM SEG "
            "must lie on them. Export NIfTI, NRRD or .seg.nrrd instead"
        )
    return None


_NON_DICOM_SUFFIXES = {
    ".nii": "NIfTI",
    ".nii.gz": "NIfTI",
    ".nrrd": "NRRD",
    ".nhdr": "NRRD",
    ".mha": "MetaImage",
    ".mhd": "MetaImage",
}


def _format_from_name(files: list) -> str:
    name = str(files[0]).lower() if files and files[0] else ""
    for suffix, fmt in _NON_DICOM_SUFFIXES.items():
        if name.endswith(suffix):
            return fmt.upper()
    return ""


def load_source_series(volume: Volume) -> SourceSeries:
    """Read and check the source datasets of `volume` (headers only)."""
    reason = not_dicom_reason(volume)
    if reason:
        raise SaveError(reason, volume.source_path or None)
    files = [str(f) for f in volume.metadata["source_files"]]
    if len(set(files)) == 1 and volume.metadata.get("frame_numbers", [None])[0] is not None:
        return _multiframe_source(volume, files[0])
    notes: list[str] = []
    by_z: dict[int, pydicom.Dataset] = {}
    g = volume.geometry
    for f in dict.fromkeys(files):  # keep order, drop repeats
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except (OSError, pydicom.errors.InvalidDicomError) as e:
            raise SaveError(f"cannot re-read the source DICOM file ({e})", f) from e
        if "PerFrameFunctionalGroupsSequence" in ds or int(ds.get("NumberOfFrames", 1) or 1) > 1:
            raise SaveError(
                "the source series mixes multi-frame and single-frame files; DICOM SEG export "
                "needs one or the other",
                f,
            )
        _fill_sop_uids(ds, f)
        _drop_blank_attributes(ds)
        by_z[_slice_index(ds, volume, f)] = ds
    missing = [z for z in range(g.shape_zyx[0]) if z not in by_z]
    if missing:
        raise SaveError(
            f"no source DICOM file for slices {missing[:5]} of {g.shape_zyx[0]}: the series on "
            "disk no longer matches the open image",
            volume.source_path or None,
        )
    datasets = [by_z[z] for z in range(g.shape_zyx[0])]
    _fill_series_uids(datasets, notes)
    return SourceSeries(datasets, notes)


def _multiframe_source(volume: Volume, path: str) -> SourceSeries:
    """One enhanced multi-frame file: each volume slice z must be one of its frames, on the
    volume's grid (per-frame PlanePositionSequence); the SEG then references those frames."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, pydicom.errors.InvalidDicomError) as e:
        raise SaveError(f"cannot re-read the source DICOM file ({e})", path) from e
    if "PerFrameFunctionalGroupsSequence" not in ds:
        raise SaveError(
            "the source is a multi-frame image without per-frame positions (not an enhanced "
            "image); a DICOM SEG cannot reference its frames",
            path,
        )
    try:
        frames = header_from_dataset(ds, path).frames
    except NotAnImage as e:
        raise SaveError(f"cannot read the source frames ({e.reason})", path) from e
    g = volume.geometry
    numbers = list(volume.metadata["frame_numbers"])
    if len(numbers) != g.shape_zyx[0]:
        raise SaveError("the open image no longer matches its source frames", path)
    frame_of_z = []
    for z, number in enumerate(numbers):
        k = int(number) - 1
        if not 0 <= k < len(frames) or frames[k].position is None:
            raise SaveError(f"frame {number} is missing from the source image", path)
        f = frames[k]
        _check_on_slice(f.position, f.orientation, int(ds.Rows), int(ds.Columns), z, volume, path)
        frame_of_z.append(k)
    _fill_sop_uids(ds, path)
    _drop_blank_attributes(ds)
    notes: list[str] = []
    _fill_series_uids([ds], notes)
    _fill_slice_thickness(ds, g.spacing[2], notes)
    return SourceSeries([ds], notes, frame_of_z)


def _fill_slice_thickness(ds: pydicom.Dataset, spacing: float, notes: list[str]) -> None:
    """The SEG copies the source's Pixel Measures, where SliceThickness is required (highdicom
    will not read a SEG without it); a source lacking it gets the slice spacing, said so."""
    shared = ds.get("SharedFunctionalGroupsSequence")
    measures = shared[0].get("PixelMeasuresSequence") if shared else None
    if measures and "SliceThickness" not in measures[0]:
        measures[0].SliceThickness = f"{spacing:.6g}"
        notes.append(
            f"the source image has no SliceThickness; the slice spacing {spacing:.6g} mm "
            "was written in the SEG"
        )


def _fill_sop_uids(ds: pydicom.Dataset, path: str) -> None:
    meta = getattr(ds, "file_meta", None)
    for key, meta_key in (
        ("SOPInstanceUID", "MediaStorageSOPInstanceUID"),
        ("SOPClassUID", "MediaStorageSOPClassUID"),
    ):
        if not str(ds.get(key, "") or ""):
            value = str(meta.get(meta_key, "") or "") if meta is not None else ""
            if not value:
                raise SaveError(f"the source image has no {key}", path)
            setattr(ds, key, value)


def _drop_blank_attributes(ds: pydicom.Dataset) -> None:
    """Blank values that highdicom would copy but rejects (seen: SpecificCharacterSet '')."""
    for key in ("SpecificCharacterSet",):
        if key in ds and not ds.get(key):
            del ds[key]
    # One code-extension term alone ('ISO 2022 IR 13', seen in real MR files) means the same
    # as its plain term, which highdicom accepts ('ISO 2022 IR 6' alone: the default set).
    charset = ds.get("SpecificCharacterSet")
    if isinstance(charset, str) and charset.startswith("ISO 2022 IR "):
        number = charset.removeprefix("ISO 2022 IR ").strip()
        if number == "6":
            del ds["SpecificCharacterSet"]
        else:
            ds.SpecificCharacterSet = f"ISO_IR {number}"


def _fill_series_uids(datasets: list[pydicom.Dataset], notes: list[str]) -> None:
    """Study/series UIDs are shared by the series; derive them once if de-identification blanked
    them, from the (stable) instance UIDs so repeated exports agree."""
    sops = [str(ds.SOPInstanceUID) for ds in datasets]
    for key, tag in (("StudyInstanceUID", "study"), ("SeriesInstanceUID", "series")):
        values = {str(ds.get(key, "") or "") for ds in datasets}
        if values == {""}:
            uid = generate_uid(entropy_srcs=[f"radlabel-{tag}", *sops])
            for ds in datasets:
                setattr(ds, key, uid)
            notes.append(f"source images have no {key}; derived {uid} from their SOP instance UIDs")
        elif "" in values or len(values) > 1:
            raise SaveError(f"the source images disagree on {key}: {sorted(values)[:3]}")
    if not str(datasets[0].get("FrameOfReferenceUID", "") or ""):
        raise SaveError("the source images have no FrameOfReferenceUID; a SEG cannot be placed")


def _slice_index(ds: pydicom.Dataset, volume: Volume, path: str) -> int:
    """z index of this slice in the volume; checks its pixel grid lies on the volume's grid."""
    g = volume.geometry
    try:
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (AttributeError, ValueError, TypeError) as e:
        raise SaveError("source image lacks position/orientation/size attributes", path) from e
    z = int(round(g.world_to_index(ipp)[0]))
    _check_on_slice(ipp, iop, rows, cols, z, volume, path)
    return z


def _check_on_slice(ipp, iop, rows: int, cols: int, z: int, volume: Volume, path: str) -> None:
    """SaveError unless this image plane is slice z of the volume's grid."""
    g = volume.geometry
    idx = g.world_to_index(np.asarray(ipp, dtype=float))
    iop = np.asarray(iop, dtype=float) if iop is not None else np.zeros(6)
    same_axes = np.allclose(iop[:3], g.direction[:, 0], atol=1e-3) and np.allclose(
        iop[3:], g.direction[:, 1], atol=1e-3
    )
    if (
        not same_axes
        or (rows, cols) != g.shape_zyx[1:]
        or not np.allclose(idx, [z, 0, 0], atol=_TOL)
        or not 0 <= z < g.shape_zyx[0]
    ):
        raise SaveError(
            "the source image's pixel grid is not a slice of the open volume (was the image "
            "reoriented or resampled after loading?)",
            path,
        )
