"""Which of a NIfTI header's two transforms (qform, sform) places the image, one rule for
NIfTI-1 and NIfTI-2, and the warning when the two disagree.

NIfTI-1 is read by ITK, NIfTI-2 by nibabel, and the two libraries choose differently when both
transforms are set (nibabel prefers any sform, ITK only a scanner-anatomical one), so one
header could land at two places. ITK's rule is the one kept for both, because 3D Slicer and
ITK-SNAP read NIfTI through ITK: the sform when its code is SCANNER_ANAT (1) or there is no
qform, else the qform. Two transforms that disagree mean that another program may show the
image elsewhere, so the load says so.
"""

from __future__ import annotations

import numpy as np

SCANNER_ANAT = 1
DISAGREE_MM = 1e-3  # affines equal to header rounding are one transform written twice


def chosen_form(header) -> tuple[str, np.ndarray | None]:
    """('sform' | 'qform', 4x4 RAS affine) per ITK's rule, or ('none', None) when neither
    transform is set. `header`: a nibabel Nifti1Header or Nifti2Header."""
    qcode, scode = int(header["qform_code"]), int(header["sform_code"])
    if scode > 0 and (scode == SCANNER_ANAT or qcode == 0):
        return "sform", header.get_sform()
    if qcode > 0:
        return "qform", header.get_qform()
    return "none", None


def disagreement(header) -> str | None:
    """One line when both transforms are set and differ, naming the one used; else None."""
    if int(header["qform_code"]) <= 0 or int(header["sform_code"]) <= 0:
        return None
    try:
        q, s = header.get_qform(), header.get_sform()
    except Exception:  # a damaged quaternion: the reader's own checks report it
        return None
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(s))):
        return None
    gap = float(np.max(np.abs(q[:3, :] - s[:3, :])))
    if gap <= DISAGREE_MM:
        return None
    used, _ = chosen_form(header)
    other = "qform" if used == "sform" else "sform"
    return (
        f"its qform and sform disagree (by up to {gap:.3g} mm): placed by the {used}, as ITK "
        f"and 3D Slicer do; a program that reads the {other} shows it elsewhere"
    )


def nifti1_disagreement(path: str) -> str | None:
    """`disagreement` for a NIfTI-1 file (header only); None when nibabel cannot read it (the
    ITK read that follows reports what is wrong)."""
    import nibabel as nib

    try:
        return disagreement(nib.load(path).header)
    except Exception:
        return None
