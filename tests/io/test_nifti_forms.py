"""qform and sform: NIfTI-1 (read by ITK) and NIfTI-2 (read by nibabel) place one header at the
same spot, by ITK's rule, and a load whose two transforms disagree says so."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from viewer.io import load_volume

DATA = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
QFORM = np.array([[2.0, 0, 0, -10], [0, 2.0, 0, 20], [0, 0, 3.0, 30], [0, 0, 0, 1]])
SFORM = QFORM + np.array([[0, 0, 0, 15.0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])


def _write(folder, version: int, qcode: int, scode: int, sform=SFORM):
    cls = nib.Nifti1Image if version == 1 else nib.Nifti2Image
    img = cls(DATA, None)
    img.set_qform(QFORM, code=qcode)
    img.set_sform(sform, code=scode)
    path = folder / f"v{version}_q{qcode}_s{scode}.nii"
    nib.save(img, str(path))
    return str(path)


# origin x in LPS: RAS x negated; the qform puts voxel 0 at x=-10 (LPS 10), the sform at 5 (-5)
@pytest.mark.parametrize(
    ("qcode", "scode", "lps_x", "used"),
    [
        (1, 2, 10.0, "qform"),  # nibabel alone would take the sform here
        (2, 1, -5.0, "sform"),
        (1, 1, -5.0, "sform"),
        (0, 2, -5.0, None),
        (3, 0, 10.0, None),
    ],
)
@pytest.mark.parametrize("version", [1, 2])
def test_both_nifti_versions_follow_one_rule_and_warn_on_disagreement(
    tmp_path, version, qcode, scode, lps_x, used
):
    volume = load_volume(_write(tmp_path, version, qcode, scode))
    assert volume.geometry.origin == pytest.approx((lps_x, -20.0, 30.0))
    assert volume.geometry.spacing == pytest.approx((2.0, 2.0, 3.0))
    forms = [w for w in volume.metadata.get("warnings", []) if "qform and sform" in w]
    if used is None:
        assert forms == []
    else:
        other = "sform" if used == "qform" else "qform"
        assert forms == [
            f"its qform and sform disagree (by up to 15 mm): placed by the {used}, as ITK and "
            f"3D Slicer do; a program that reads the {other} shows it elsewhere"
        ]


@pytest.mark.parametrize("version", [1, 2])
def test_two_equal_transforms_say_nothing(tmp_path, version):
    volume = load_volume(_write(tmp_path, version, 1, 2, sform=QFORM))
    assert volume.geometry.origin == pytest.approx((10.0, -20.0, 30.0))
    assert not [w for w in volume.metadata.get("warnings", []) if "qform" in w]
