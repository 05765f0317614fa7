"""The loader's one-line note reaches the GUI: a DICOM series with a missing slice is resampled
onto a regular grid and the status bar says so (issue 20, item 14)."""

from __future__ import annotations

import shutil
from pathlib import Path

SERIES = Path(__file__).resolve().parent.parent / "data" / "dicom" / "non_isotropic"


def test_resampled_series_note_in_the_status_bar(window, tmp_path):
    folder = tmp_path / "gap"
    folder.mkdir()
    for name in ("001.dcm", "003.dcm", "004.dcm"):  # 002 missing: a gap in the stack
        shutil.copy(SERIES / name, folder / name)
    from viewer.io import scan_dicom_folder

    (series,) = scan_dicom_folder(str(folder)).all_series()
    assert window.open_path(str(folder), series_uid=series.series_id)
    assert window.document.geometry.shape_zyx == (4, 28, 64)
    message = window.statusBar().currentMessage()
    assert message.startswith("gap: uneven slice spacing (0.500 to 1.000 mm): resampled onto")
    assert window.errors == []
