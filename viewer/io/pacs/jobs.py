"""The two PACS jobs the app runs in the background: open a series (retrieve it into the cache,
then read it with the same loader as a DICOM folder) and store labels back as a DICOM SEG.

`PacsCaseRef` names a case on a server (URL + StudyInstanceUID + SeriesInstanceUID) so that a
project can point at it instead of at a file path.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass

from viewer.errors import LoadError, SaveError
from viewer.io.dicom_scan import CancelFn, ProgressFn
from viewer.io.pacs.client import PacsClient, PacsSeries, StoreResult
from viewer.model.volume import Volume

RETRIEVE_SHARE = 0.8  # of the progress bar: the download, the rest is reading the files


@dataclass(frozen=True)
class PacsCaseRef:
    url: str
    study_uid: str
    series_uid: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PacsCaseRef:
        return cls(str(data["url"]), str(data["study_uid"]), str(data["series_uid"]))

    @classmethod
    def of(cls, volume: Volume) -> PacsCaseRef | None:
        """The PACS case a volume was opened from (None for a local file)."""
        ref = volume.metadata.get("pacs")
        return cls.from_dict(ref) if isinstance(ref, dict) else None


def open_series(
    client: PacsClient,
    series: PacsSeries,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Volume:
    """Retrieve `series` (or take it from the cache) and load it like a DICOM folder."""
    from viewer.io.loader import load_volume

    def retrieving(f: float, text: str) -> None:
        if progress is not None:
            progress(f * RETRIEVE_SHARE, text)

    def reading(f: float, text: str) -> None:
        if progress is not None:
            progress(RETRIEVE_SHARE + f * (1 - RETRIEVE_SHARE), text)

    folder = client.retrieve_series(series, retrieving, cancel)
    volume = load_volume(folder, None, 0, reading, cancel)
    volume.metadata["pacs"] = PacsCaseRef(client.url, series.study_uid, series.series_uid).to_dict()
    return volume


def store_seg(
    client: PacsClient,
    volume: Volume,
    labels,
    segments=None,
    progress: ProgressFn | None = None,
) -> StoreResult:
    """Export `labels` as a DICOM SEG referencing `volume`'s series and send it (STOW-RS)."""
    from viewer.io.dicom_seg import export_dicom_seg

    if progress is not None:
        progress(0.1, "writing the DICOM SEG")
    with tempfile.TemporaryDirectory(prefix="radlabel-seg-") as tmp:
        path = os.path.join(tmp, "labels_seg.dcm")
        try:
            export_dicom_seg(volume, labels, path, segments)
        except (LoadError, SaveError) as e:  # name the image, not the temporary file
            raise SaveError(f"DICOM SEG: {e.reason}", volume.source_path or client.url) from None
        if progress is not None:
            progress(0.5, "sending to the PACS")
        result = client.store_files([path])
    if progress is not None:
        progress(1.0, "stored")
    return result
