"""Case discovery and loading for training (viewer.io.training_cases), used by train-base and
the project retrain."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from segmentation_core.training.dataset import find_targets
from viewer.errors import RadLabelError
from viewer.io.training_cases import find_cases, load_training_case


def _write(path, arr, spacing=(2.0, 1.5, 1.0), origin=(3.0, -4.0, 5.0)):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    sitk.WriteImage(img, str(path))


def _case(folder, image_name="image.nii.gz", label_name="label.nii.gz", shape=(10, 12, 14)):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    image = rng.normal(100.0, 10.0, shape).astype(np.float32)
    label = np.zeros(shape, np.uint8)
    label[2:6, 3:9, 4:12] = 3
    label[6:9, 2:5, 1:4] = 7
    _write(folder / image_name, image)
    _write(folder / label_name, label)
    return image, label


def test_find_cases_takes_the_folder_itself_and_its_sub_folders_in_name_order(tmp_path):
    _case(tmp_path / "b_case", "image.nrrd", "label.nrrd")
    _case(tmp_path / "a_case")
    (tmp_path / "not_a_case").mkdir()
    (tmp_path / "not_a_case" / "image.nii.gz").write_bytes(b"")
    found = find_cases([tmp_path])
    assert found == [
        ("a_case", tmp_path / "a_case" / "image.nii.gz", tmp_path / "a_case" / "label.nii.gz"),
        ("b_case", tmp_path / "b_case" / "image.nrrd", tmp_path / "b_case" / "label.nrrd"),
    ]
    assert find_cases([str(tmp_path / "a_case")]) == [found[0]]


def test_find_cases_refuses_a_missing_folder_and_one_without_cases(tmp_path):
    with pytest.raises(RadLabelError) as e:
        find_cases([tmp_path / "missing"])
    assert e.value.message == f"{tmp_path / 'missing'}: no such folder"
    with pytest.raises(RadLabelError) as e:
        find_cases([tmp_path])
    assert e.value.message == f"{tmp_path}: no image + label case folders found"


def test_load_training_case_keeps_voxels_spacing_and_excluded_values(tmp_path):
    image, label = _case(tmp_path / "c")
    case = load_training_case(
        "c", tmp_path / "c" / "image.nii.gz", tmp_path / "c" / "label.nii.gz", (7,)
    )
    assert case.name == "c"
    assert case.image.dtype == np.float32 and np.array_equal(case.image, image)
    assert case.label.dtype == np.int32 and np.array_equal(case.label, label)
    assert case.spacing_zyx == (1.0, 1.5, 2.0)
    assert case.exclude_values == (7,)
    assert case.lo < case.hi
    # the excluded structure is no target; the other one is (4*6*8 voxels of 3 mm³)
    targets = find_targets(case, min_ml=0.0)
    assert [(t.value, round(t.volume_ml, 3)) for t in targets] == [(3, 0.576)]


def test_a_label_on_another_grid_is_refused_naming_the_label(tmp_path):
    _case(tmp_path / "c")
    _write(
        tmp_path / "c" / "label.nii.gz", np.ones((5, 5, 5), np.uint8), origin=(900.0, 900.0, 900.0)
    )
    with pytest.raises(RadLabelError) as e:
        load_training_case("c", tmp_path / "c" / "image.nii.gz", tmp_path / "c" / "label.nii.gz")
    assert e.value.path == str(tmp_path / "c" / "label.nii.gz")
    assert "\n" not in e.value.message
