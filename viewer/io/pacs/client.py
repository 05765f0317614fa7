"""A thin client over `dicomweb_client.api.DICOMwebClient`: search (QIDO-RS), retrieve (WADO-RS)
into the cache, rendered thumbnails, and store (STOW-RS); every failure is one clear line.

The HTTP session carries the authentication (basic or bearer), TLS verification (on by default,
or a CA bundle) and a timeout; the client's automatic retries are off, so a failing server
answers the user within one timeout instead of after minutes of back-off.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
import requests

from viewer.errors import LoadError, RadLabelError, SaveError
from viewer.io.dicom_scan import CancelFn, LoadCancelled, ProgressFn
from viewer.io.pacs import cache
from viewer.io.pacs.connection import PacsConnection
from viewer.io.pacs.credentials import Credentials

log = logging.getLogger(__name__)

STUDY_FIELDS = ("StudyDescription", "ModalitiesInStudy", "AccessionNumber", "StudyTime")
SERIES_FIELDS = ("SeriesDescription", "SeriesNumber", "NumberOfSeriesRelatedInstances")
SEARCH_LIMIT = 200  # studies per search: a broad query must not pull the whole archive


@dataclass
class PacsSeries:
    study_uid: str
    series_uid: str
    modality: str = ""
    description: str = ""
    number: int | None = None
    instances: int | None = None


@dataclass
class PacsStudy:
    study_uid: str
    patient_name: str = ""
    patient_id: str = ""
    date: str = ""
    description: str = ""
    accession: str = ""
    series: list[PacsSeries] = field(default_factory=list)


@dataclass
class StoreResult:
    stored: list[str]  # SOPInstanceUIDs the server accepted
    failed: list[str]  # "uid: reason" for each it refused


def _http_reason(e: requests.HTTPError) -> str:
    r = e.response
    code = r.status_code if r is not None else 0
    if code in (401, 403):
        return f"the server refused the user name, password or token (HTTP {code})"
    if code == 404:
        return "not found on the server (HTTP 404): it may have been deleted; search again"
    reason = (r.reason or "").strip() if r is not None else ""
    return f"the server answered HTTP {code}" + (f" {reason}" if reason else "")


@contextmanager
def server_errors(
    url: str, what: str, error: type[RadLabelError] = LoadError, timeout: float = 0
) -> Iterator[None]:
    """Turn any failure of a request to `url` into `error` with one line saying why."""
    try:
        yield
    except RadLabelError:
        raise
    except requests.HTTPError as e:
        raise error(f"{what}: {_http_reason(e)}", url) from None
    except requests.exceptions.SSLError as e:
        log.info("TLS failure at %s: %s", url, e)
        raise error(
            f"{what}: the server's TLS certificate could not be verified "
            "(give the hospital's CA bundle in the connection settings)",
            url,
        ) from None
    except requests.Timeout:
        raise error(f"{what}: the server did not answer within {timeout:g} s", url) from None
    except requests.ConnectionError as e:
        log.info("connection failure at %s: %s", url, e)
        if "timed out" in str(e).lower():
            raise error(f"{what}: the server did not answer within {timeout:g} s", url) from None
        raise error(
            f"{what}: cannot reach the server (is the address right and the server running?)", url
        ) from None
    except (ValueError, KeyError, TypeError, OSError, requests.RequestException) as e:
        log.warning("unexpected answer from %s", url, exc_info=True)
        raise error(f"{what}: unexpected answer from the server ({e})", url) from None


def _text(ds: pydicom.Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value) if value is not None else ""


def _int(ds: pydicom.Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date_range(date_from: str, date_to: str) -> str:
    a, b = date_from.replace("-", ""), date_to.replace("-", "")
    for d in (a, b):
        if d and (len(d) != 8 or not d.isdigit()):
            raise LoadError(f"dates must be YYYYMMDD or YYYY-MM-DD, got {d!r}")
    return f"{a}-{b}" if (a or b) and a != b else a


def _study_filters(
    patient_id: str,
    patient_name: str,
    accession: str,
    study_uid: str,
    date_from: str,
    date_to: str,
) -> dict[str, str]:
    """The QIDO-RS study query for the non-empty criteria. A patient name without `*` or `?`
    gets a trailing `*`: users type the start of a name, and DICOM matching is exact."""
    filters: dict[str, str] = {}
    if patient_id.strip():
        filters["PatientID"] = patient_id.strip()
    if patient_name.strip():
        name = patient_name.strip()
        filters["PatientName"] = name if ("*" in name or "?" in name) else name + "*"
    if accession.strip():
        filters["AccessionNumber"] = accession.strip()
    if study_uid.strip():
        filters["StudyInstanceUID"] = study_uid.strip()
    dates = _date_range(date_from.strip(), date_to.strip())
    if dates:
        filters["StudyDate"] = dates
    return filters


def _study_from_json(item: dict) -> PacsStudy:
    """A QIDO-RS study result (DICOM JSON) as a PacsStudy without its series."""
    ds = pydicom.Dataset.from_json(item)
    return PacsStudy(
        study_uid=str(ds.StudyInstanceUID),
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        date=_text(ds, "StudyDate"),
        description=_text(ds, "StudyDescription"),
        accession=_text(ds, "AccessionNumber"),
    )


def _series_from_json(study_uid: str, item: dict) -> PacsSeries:
    """A QIDO-RS series result (DICOM JSON) of study `study_uid` as a PacsSeries."""
    sd = pydicom.Dataset.from_json(item)
    return PacsSeries(
        study_uid=study_uid,
        series_uid=str(sd.SeriesInstanceUID),
        modality=_text(sd, "Modality"),
        description=_text(sd, "SeriesDescription"),
        number=_int(sd, "SeriesNumber"),
        instances=_int(sd, "NumberOfSeriesRelatedInstances"),
    )


class _Session(requests.Session):
    """`dicomweb_client` percent-encodes the QIDO wildcard `*` as %2A, which is equivalent in a
    query string, but some servers (Orthanc's DICOMweb plugin 1.7) then match it literally and
    find nothing: send the wildcard as the plain character."""

    def send(self, request, **kwargs):
        base, sep, query = (request.url or "").partition("?")
        if sep:
            request.url = base + sep + query.replace("%2A", "*").replace("%2a", "*")
        return super().send(request, **kwargs)


class PacsClient:
    """One server, one authenticated session."""

    def __init__(self, connection: PacsConnection, credentials: Credentials | None = None) -> None:
        from dicomweb_client.api import DICOMwebClient

        connection.validate()
        self.connection = connection
        self.url = connection.url
        session = _Session()
        creds = credentials or Credentials()
        if connection.auth == "basic":
            session.auth = (creds.username or connection.username, creds.password)
        elif connection.auth == "bearer":
            session.headers["Authorization"] = f"Bearer {creds.token}"
        session.verify = connection.ca_bundle or connection.verify_tls
        self.session = session
        self.timeout = connection.timeout_s
        self.client = DICOMwebClient(self.url, session=session, timeout=self.timeout)
        self.client.set_http_retry_params(retry=False)

    def _errors(self, what: str, error: type[RadLabelError] = LoadError):
        return server_errors(self.url, what, error, self.timeout)

    # --- QIDO-RS --------------------------------------------------------------------------------
    def search(
        self,
        patient_id: str = "",
        patient_name: str = "",
        modality: str = "",
        accession: str = "",
        date_from: str = "",
        date_to: str = "",
        study_uid: str = "",
        limit: int = SEARCH_LIMIT,
    ) -> list[PacsStudy]:
        """Studies matching every given criterion, each with its series (of `modality` when
        given). A name without wildcards matches names that start with it."""
        filters = _study_filters(patient_id, patient_name, accession, study_uid, date_from, date_to)
        series_filters = {"Modality": modality.strip().upper()} if modality.strip() else {}
        with self._errors("search"):
            found = self.client.search_for_studies(
                search_filters=filters, fields=list(STUDY_FIELDS), limit=limit
            )
            studies = []
            for item in found:
                study = _study_from_json(item)
                study.series = self._series_of(study.study_uid, series_filters)
                # with a modality, a study without a series of it is not a match
                if study.series or not series_filters:
                    studies.append(study)
        return studies

    def _series_of(self, study_uid: str, series_filters: dict[str, str]) -> list[PacsSeries]:
        """The study's series matching `series_filters`, by series number (unnumbered last)."""
        series = [
            _series_from_json(study_uid, item)
            for item in self.client.search_for_series(
                study_uid, search_filters=series_filters, fields=list(SERIES_FIELDS)
            )
        ]
        series.sort(key=lambda s: (s.number is None, s.number or 0, s.series_uid))
        return series

    def instance_uids(self, series: PacsSeries) -> list[str]:
        """SOPInstanceUIDs of the series, in instance-number order."""
        with self._errors("search"):
            found = self.client.search_for_instances(
                series.study_uid, series.series_uid, fields=["InstanceNumber"]
            )
            items = [pydicom.Dataset.from_json(i) for i in found]
        items.sort(
            key=lambda d: (_int(d, "InstanceNumber") is None, _int(d, "InstanceNumber") or 0)
        )
        return [str(d.SOPInstanceUID) for d in items]

    def thumbnail(self, series: PacsSeries) -> bytes | None:
        """The middle instance rendered by the server (PNG or JPEG bytes); None when the server
        does not render (it is optional in DICOMweb) or anything else goes wrong."""
        try:
            uids = self.instance_uids(series)
            if not uids:
                return None
            with self._errors("thumbnail"):
                return self.client.retrieve_instance_rendered(
                    series.study_uid,
                    series.series_uid,
                    uids[len(uids) // 2],
                    media_types=("image/png", "image/jpeg"),
                )
        except RadLabelError as e:
            log.info("no thumbnail for %s: %s", series.series_uid, e.message)
            return None

    # --- WADO-RS --------------------------------------------------------------------------------
    def retrieve_series(
        self,
        series: PacsSeries,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        root: Path | None = None,
    ) -> Path:
        """Download every instance of `series` into the cache (or reuse a complete copy there);
        returns its folder. Raises LoadError, or LoadCancelled when `cancel()` turns true."""
        root = root or cache.cache_root()
        try:
            folder = cache.series_dir(root, self.url, series.study_uid, series.series_uid)
        except ValueError as e:
            raise LoadError(str(e), self.url) from None
        if cache.cached_series(folder):
            log.info("PACS cache hit: %s", folder)
            return folder
        uids = self.instance_uids(series)
        if not uids:
            raise self._series_gone()
        # Download beside the cache entry and move it in only when complete, so that an
        # interrupted retrieval never looks like a cached series.
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}.partial-", dir=folder.parent))
        try:
            count = self._download(series, partial, len(uids), progress, cancel)
            if count == 0:
                raise self._series_gone()
            if count < len(uids):  # a partial answer (206, a cut stream) is not the series
                raise LoadError(
                    f"the server sent {count} of the series' {len(uids)} instances; "
                    "nothing was kept (try again)",
                    self.url,
                )
            cache.commit_series(partial, folder, count)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        cache.evict(root, cache.cache_limit_bytes(), keep=folder)
        return folder

    def _download(
        self,
        series: PacsSeries,
        into: Path,
        expected: int,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> int:
        """Stream the series' instances into `into` as 00001.dcm, 00002.dcm...; returns how
        many came. `expected` (the instances the server listed) scales the progress."""
        with self._errors("retrieve"):
            stream = self.client.iter_series(
                series.study_uid,
                series.series_uid,
                media_types=(("application/dicom", "*"),),  # as stored: no transcoding
            )
            count = 0
            try:
                for ds in stream:
                    if cancel is not None and cancel():
                        raise LoadCancelled("retrieval cancelled", self.url)
                    count += 1
                    ds.save_as(into / f"{count:05d}.dcm", enforce_file_format=True)
                    if progress is not None:
                        progress(count / expected, f"retrieving {count}/{expected}")
            finally:
                stream.close()  # closes the HTTP response when we stop early
        return count

    def _series_gone(self) -> LoadError:
        """The series was found by a search but the server no longer has it."""
        return LoadError(
            "retrieve: the series is no longer on the server (deleted since the search?); "
            "search again",
            self.url,
        )

    # --- STOW-RS --------------------------------------------------------------------------------
    def store_files(self, paths: list[str | os.PathLike]) -> StoreResult:
        """Send DICOM files to the server; raises SaveError when it refuses all of them."""
        datasets = []
        for p in paths:
            try:
                datasets.append(pydicom.dcmread(p))
            except Exception as e:
                raise SaveError(f"not a DICOM file ({type(e).__name__})", p) from None
        return self.store_datasets(datasets)

    def store_datasets(self, datasets: list[pydicom.Dataset]) -> StoreResult:
        if not datasets:
            raise SaveError("store: nothing to send", self.url)
        with self._errors("store", SaveError):
            answer = self.client.store_instances(datasets)
        stored = [
            str(item.get("ReferencedSOPInstanceUID", ""))
            for item in answer.get("ReferencedSOPSequence", [])
        ]
        failed = [
            f"{item.get('ReferencedSOPInstanceUID', '?')}: failure reason "
            f"{item.get('FailureReason', '?')}"
            for item in answer.get("FailedSOPSequence", [])
        ]
        if not stored:
            why = "; ".join(failed) if failed else "no instance was accepted"
            raise SaveError(f"store: the server refused the data ({why})", self.url)
        return StoreResult(stored=stored, failed=failed)
