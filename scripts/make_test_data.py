"""Rebuild the small real test data in tests/data/real from the full scans in ../shared/data.

The suite must run in a fresh clone (no ../shared beside it), so it carries small cuts of the
real scans: whole files where they are already small, crops or strided copies (geometry kept:
the affine follows the cut) where they are not. Run once by hand; tests/data/README.md names
each file's origin and licence. Usage: python scripts/make_test_data.py [SHARED_DATA]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nibabel as nib
import SimpleITK as sitk

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "data" / "real"

# ct_abdomen_dicom: four middle slices (label slices 9..12 lie on them: the label is stored
# y-flipped with z rising, the DICOM files run from z=-766.5 down in 2 mm steps).
CT_DICOM_FILES = [
    f"CT.1.3.12.2.1107.5.1.4.60064.300000221208081134280000165{n}" for n in range(80, 84)
]
CT_DICOM_LABEL_Z = slice(9, 13)
# mr_brain_tumour: the tumour lies in y 84..153, x 162..208 of 256x256; keep every slice (the
# 6.5 mm spacing is the point of this case) and a margin around the tumour in-plane.
TUMOUR_Y = slice(72, 168)
TUMOUR_X = slice(148, 224)
# orientations_48: 64x79x67 each; (n - 1) divisible by 3 on every axis, so a stride of 3 picks
# the same voxels whether an axis is stored flipped or not.
ORIENTATION_STRIDE = 3
# pydicom test files: all but the large colour/multiframe examples (the named bad inputs stay).
PYDICOM_MAX_BYTES = 10_000
LICENCES = [
    ("seg/LICENSE-TotalSegmentator", "LICENSE-TotalSegmentator"),
    ("seg/LICENSE-pyradiomics", "LICENSE-pyradiomics"),
    ("seg/LICENSE-dcmqi", "LICENSE-dcmqi"),
    ("volumes/LICENSE-niivue", "LICENSE-niivue"),
    ("dicom/pydicom_data/LICENSE", "LICENSE-pydicom"),
]
PYDICOM_ALSO = ["waveform_ecg.dcm", "liver_1frame.dcm", "README.txt", "CT_small.dcm"]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _crop_nrrd(src: Path, dst: Path) -> None:
    im = sitk.ReadImage(str(src))
    size = [TUMOUR_X.stop - TUMOUR_X.start, TUMOUR_Y.stop - TUMOUR_Y.start, im.GetSize()[2]]
    cut = sitk.RegionOfInterest(im, size, [TUMOUR_X.start, TUMOUR_Y.start, 0])
    dst.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(cut, str(dst), useCompression=True)


def _nifti_cut(src: Path, dst: Path, index) -> None:
    """nibabel's slicer keeps the header and moves the affine with the cut."""
    img = nib.load(str(src))
    dst.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img.slicer[index], str(dst))


def main(shared: Path) -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    seg, out_seg = shared / "seg", OUT / "seg"
    for case in ("ct_abdomen_small", "mr_abdomen_small", "mr_prostate_phantom"):
        for f in sorted((seg / case).iterdir()):
            if f.name.startswith(("image.", "label.", "labels.")):
                _copy(f, out_seg / case / f.name)
    for name in ("image.nrrd", "label.nrrd"):
        _crop_nrrd(seg / "mr_brain_tumour" / name, out_seg / "mr_brain_tumour" / name)
    for f in sorted((seg / "ct_abdomen_3slice").rglob("*")):
        if f.is_file():
            _copy(f, out_seg / "ct_abdomen_3slice" / f.relative_to(seg / "ct_abdomen_3slice"))
    for name in CT_DICOM_FILES:
        _copy(seg / "ct_abdomen_dicom/dicom" / name, out_seg / "ct_abdomen_dicom/dicom" / name)
    _copy(seg / "ct_abdomen_dicom/labels.json", out_seg / "ct_abdomen_dicom/labels.json")
    _nifti_cut(
        seg / "ct_abdomen_dicom/label.nii.gz",
        out_seg / "ct_abdomen_dicom/label.nii.gz",
        (slice(None), slice(None), CT_DICOM_LABEL_Z),
    )
    s = ORIENTATION_STRIDE
    for f in sorted((shared / "volumes/orientations_48").glob("*.nii.gz")):
        _nifti_cut(f, OUT / "volumes/orientations_48" / f.name, (slice(None, None, s),) * 3)
    _nifti_cut(
        shared / "volumes/non_orthonormal_affine.nii.gz",
        OUT / "volumes/non_orthonormal_affine.nii.gz",
        (slice(0, 8), slice(0, 8), slice(0, 4)),
    )
    pyd = shared / "dicom/pydicom_test_files"
    for f in sorted(pyd.iterdir()):
        if f.is_file() and (f.stat().st_size <= PYDICOM_MAX_BYTES or f.name in PYDICOM_ALSO):
            _copy(f, OUT / "dicom/pydicom_test_files" / f.name)
    for licence, name in LICENCES:
        _copy(shared / licence, OUT / name)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"{OUT}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data")
