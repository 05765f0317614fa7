"""Real volumes and seg pairs (tests/data/real): 48 orientations give one image in world space, labels
line up with their images (the y-flipped ct_abdomen_dicom label included)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from io_world_helpers import read_reference, reference_on_grid

from viewer.io import load_label_for, load_volume


def test_all_48_orientations_are_the_same_image_in_world_space(real_data):
    folder = real_data / "volumes/orientations_48"
    files = sorted(folder.glob("*.nii.gz"))
    assert len(files) == 48
    base = load_volume(folder / "LPS.nii.gz")
    ref_lps, aff_lps = read_reference(folder / "LPS.nii.gz")
    codes = set()
    for f in files:
        v = load_volume(f)
        codes.add(v.geometry.orientation_code())
        # Independent reading (nibabel) mapped onto our grid equals what we loaded...
        ref, affine = read_reference(f)
        np.testing.assert_allclose(v.array, reference_on_grid(v.geometry, ref, affine), rtol=1e-5)
        # ...and the LPS copy, seen through world coordinates, is the same image.
        expected = reference_on_grid(v.geometry, ref_lps, aff_lps)
        np.testing.assert_allclose(v.array, expected, rtol=1e-5)
        assert v.array.size == base.array.size
    assert len(codes) == 48


@pytest.mark.parametrize(
    "image,label",
    [
        ("ct_abdomen_small/image.nii.gz", "ct_abdomen_small/label.nii.gz"),
        ("mr_abdomen_small/image.nii.gz", "mr_abdomen_small/label.nii.gz"),
        ("mr_brain_tumour/image.nrrd", "mr_brain_tumour/label.nrrd"),
        ("mr_prostate_phantom/image.nrrd", "mr_prostate_phantom/label.nrrd"),
        ("ct_abdomen_3slice/dicom", "ct_abdomen_3slice/liver_seg.nrrd"),
    ],
)
def test_seg_labels_load_onto_their_images(real_data, image, label):
    volume = load_volume(real_data / "seg" / image)
    lab = load_label_for(volume, real_data / "seg" / label)
    assert lab.geometry.same_grid(volume.geometry)
    assert lab.values()


def test_flipped_ct_dicom_label_lines_up(real_data):
    base = real_data / "seg/ct_abdomen_dicom"
    ct = load_volume(base / "dicom")
    assert ct.modality == "CT" and ct.array.shape == (4, 512, 512)
    notes: list[str] = []
    labels = load_label_for(ct, base / "label.nii.gz", notes)
    assert notes and "resampled" in notes[0]  # stored LAS on the same physical grid
    ref, affine = read_reference(base / "label.nii.gz")
    np.testing.assert_array_equal(labels.array, reference_on_grid(ct.geometry, ref, affine))
    names = {v: k for k, v in _names(base / "labels.json").items()}
    liver = labels.array == names["liver"]
    # Aligned: the liver label covers soft tissue (about 40-70 HU), not air or bone.
    assert 0 < float(np.median(ct.array[liver])) < 150


def _names(path) -> dict[int, str]:
    return {int(k): str(v) for k, v in json.loads(path.read_text())["labels"].items()}
