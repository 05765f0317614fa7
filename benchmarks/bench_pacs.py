"""Opening a 120-slice MR series from a PACS over loopback DICOMweb vs reading it from disk.

Starts a private Orthanc with its DICOMweb plugin (as the tests do), stores the series with
STOW-RS, then times, best of REPEATS:
  disk        load_volume(folder)                         (the DICOM-folder loader)
  pacs cold   WADO-RS retrieval into an empty cache + the same loader
  pacs warm   the same series again (complete in the cache: no download)
and, for the GUI, the longest stall of a 10 ms Qt timer while the cold open runs in the
background job the study browser uses (the window must not freeze).
Uses ../shared/data/dicom/mr_head_120_slices when present, else generates a 120-slice
512x512 MR series. Skips (exit 0) when Orthanc or its DICOMweb plugin is not installed.
Run: .venv/bin/python benchmarks/bench_pacs.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERIES = REPO.parent / "shared" / "data" / "dicom" / "mr_head_120_slices"
REPEATS = 3
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "pacs"))


def generated_series(folder: Path, n: int = 120, size: int = 512) -> Path:
    """A synthetic n-slice MR series (uint16, 0.5 x 0.5 x 1.5 mm) written with pydicom."""
    import numpy as np
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    yy, xx = np.mgrid[:size, :size]
    rng = np.random.default_rng(0)
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientID, ds.PatientName, ds.Modality = "bench-pacs", "Bench^PACS", "MR"
        ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20250101", 1, k + 1
        ds.ImagePositionPatient = [0.0, 0.0, 1.5 * k]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 1.5
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        r = np.hypot(yy - size / 2, xx - size / 2)
        img = np.clip(2000 - 6 * r + rng.normal(0, 30, r.shape) - 4 * abs(k - n / 2), 0, 4095)
        ds.PixelData = img.astype(np.uint16).tobytes()
        ds.save_as(folder / f"{k + 1:04d}.dcm", enforce_file_format=True)
    return folder


def stall_during(job_fn) -> tuple[float, float]:
    """(seconds the job took, longest gap between 10 ms timer ticks) with the job in a QThread."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5 import QtCore

    from viewer.qt.app import ensure_app
    from viewer.qt.study_browser import _Job

    app = ensure_app()
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    job = _Job(job_fn)
    t = time.perf_counter()
    job.start()
    while not job.isFinished():
        app.processEvents()
        time.sleep(0.001)
    took = time.perf_counter() - t
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return took, max(gaps) if gaps else float("nan")


def main() -> int:
    from pacs_orthanc import PASSWORD, USER, OrthancServer, find_orthanc

    found = find_orthanc()
    if isinstance(found, str):
        print(f"bench_pacs: skipped: {found}")
        return 0
    os.environ["RADLABEL_DATA_DIR"] = tmp = tempfile.mkdtemp(prefix="radlabel-bench-pacs-")
    from viewer.io import load_volume
    from viewer.io.pacs import Credentials, PacsClient, PacsConnection
    from viewer.io.pacs.jobs import open_series

    try:
        if SERIES.is_dir():
            folder, origin = SERIES, "mr_head_120_slices (../shared/data)"
        else:
            folder = generated_series(Path(tempfile.mkdtemp(dir=tmp)))
            origin = "generated 120 x 512 x 512 MR"
        files = sorted(p for p in folder.iterdir() if p.is_file())
        mb = sum(p.stat().st_size for p in files) / 2**20
        server = OrthancServer().start()
        try:
            conn = PacsConnection("bench", server.dicomweb_url, "basic", USER, timeout_s=60)
            client = PacsClient(conn, Credentials(USER, PASSWORD))
            t = time.perf_counter()
            import pydicom

            for i in range(0, len(files), 20):  # STOW-RS in batches of 20 instances
                client.store_datasets([pydicom.dcmread(p) for p in files[i : i + 20]])
            stow = time.perf_counter() - t
            studies = client.search(patient_id=pydicom.dcmread(files[0]).PatientID)
            series = next(s for st in studies for s in st.series if s.instances == len(files))
            disk, cold, warm, shape = [], [], [], None
            for _ in range(REPEATS):
                t = time.perf_counter()
                shape = load_volume(folder).array.shape
                disk.append(time.perf_counter() - t)
                shutil.rmtree(Path(tmp) / "pacs-cache", ignore_errors=True)
                t = time.perf_counter()
                v = open_series(client, series)
                cold.append(time.perf_counter() - t)
                assert v.array.shape == shape
                t = time.perf_counter()
                open_series(client, series)
                warm.append(time.perf_counter() - t)
            shutil.rmtree(Path(tmp) / "pacs-cache", ignore_errors=True)
            took, stall = stall_during(lambda p, c: open_series(client, series, p, c))
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"series: {origin}: {len(files)} files, {mb:.0f} MB, volume {shape}")
    print(f"STOW-RS upload (once)            {stow:7.2f} s")
    print(f"disk: load_volume(folder)        {min(disk):7.2f} s")
    print(
        f"PACS cold: WADO-RS + same loader {min(cold):7.2f} s  ({min(cold) / min(disk):.1f}x disk)"
    )
    print(f"PACS warm: from the cache        {min(warm):7.2f} s")
    print(
        f"GUI: cold open in the background job {took:.2f} s, longest 10 ms timer gap {stall * 1000:.0f} ms"
    )
    print(f"(best of {REPEATS}; loopback HTTP to a private Orthanc 1.x with the DICOMweb plugin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
