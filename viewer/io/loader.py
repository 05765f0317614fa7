"""The one public entry for opening an image: a file, a single DICOM file or a DICOM folder."""

from __future__ import annotations

import logging
import os

from viewer.errors import LoadError
from viewer.io.dicom_load import load_series
from viewer.io.dicom_scan import CancelFn, DicomScan, ProgressFn, list_files, scan_dicom_files
from viewer.io.native_output import native_output_to_log
from viewer.io.volume_files import is_volume_file, read_volume_file
from viewer.model.volume import Volume

log = logging.getLogger(__name__)


def scan_dicom_folder(
    path: str | os.PathLike, progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> DicomScan:
    """Patients / studies / series in a folder (recursive) or one DICOM file, plus skipped files."""
    path = os.fspath(path)
    if os.path.isdir(path):
        files = list_files(path)
        if not files:
            raise LoadError("folder is empty", path)
    elif os.path.lexists(path):
        files = [path]  # a FIFO or device is skipped with its reason, never opened
    else:
        raise LoadError("no such file or folder", path)
    with native_output_to_log():
        return scan_dicom_files(files, path, progress, cancel)


def load_volume(
    path: str | os.PathLike,
    series_uid: str | None = None,
    time_index: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Volume:
    """Open an image file (NIfTI, NRRD, MetaImage), a DICOM file or a DICOM folder.

    A folder with several series needs `series_uid` (a series id or SeriesInstanceUID from
    `scan_dicom_folder`); without one the error lists them. `time_index` picks the time
    point (or component) of 4D images. Raises LoadError naming the file and the reason.
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        raise LoadError("no such file or folder", path)
    # ITK, GDCM, libjpeg and MetaIO print on fd 2: to the log, not the user's terminal
    with native_output_to_log():
        if is_volume_file(path) and not os.path.isdir(path):
            volume = read_volume_file(path, time_index)
        else:
            scan = scan_dicom_folder(path, progress, cancel)
            volume = load_volume_from_scan(scan, series_uid, time_index, progress, cancel)
    log.info(
        "loaded %s: %s voxels, spacing %s, %s",
        path,
        volume.geometry.size_xyz,
        tuple(round(s, 4) for s in volume.geometry.spacing),
        volume.array.dtype,
    )
    return volume


def load_volume_from_scan(
    scan: DicomScan,
    series_uid: str | None = None,
    time_index: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Volume:
    series = scan.all_series()
    if not series:
        raise LoadError(_nothing_loadable(scan), scan.root)
    if series_uid is not None:
        chosen = scan.find(series_uid)
    elif len(series) == 1:
        chosen = series[0]
    else:
        ids = ", ".join(s.series_id for s in series)
        raise LoadError(f"{len(series)} series found; choose one with --series: {ids}", scan.root)
    with native_output_to_log():  # GDCM/libjpeg chatter on broken pixel data: to the log
        return load_series(chosen, time_index, progress, cancel)


def _nothing_loadable(scan: DicomScan) -> str:
    if os.path.isfile(scan.root) and scan.skipped:
        return scan.skipped[0].reason
    if not scan.skipped:
        return "no DICOM images found"
    reasons = sorted({s.reason for s in scan.skipped})
    shown = "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
    return f"no loadable DICOM image among {len(scan.skipped)} files ({shown})"
