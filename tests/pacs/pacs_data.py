"""What the PACS tests upload to their Orthanc (small real files from tests/data/dicom)."""

from __future__ import annotations

from pathlib import Path

DICOM = Path(__file__).resolve().parents[1] / "data" / "dicom"
SERIES_FILES = sorted((DICOM / "non_isotropic").glob("*.dcm"))  # 4-slice MR (dicom2nifti)
OTHER_FILES = [DICOM / "CT_small.dcm", DICOM / "MR_small_RLE.dcm"]  # one slice each
MR_STUDY = "1.2.826.0.1.3680043.8.498.23477864085948632650742658710904094210"
MR_SERIES = "1.2.826.0.1.3680043.8.498.69597760006836175184016920326015805567"
