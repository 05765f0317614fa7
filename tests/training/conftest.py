"""Fixtures shared by the training tests: a tiny case folder for the `train-base` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from test_training import _sphere_case


@pytest.fixture
def case_dir(tmp_path) -> Path:
    """One case folder (image + label, 2 mm) holding the spheres of `_sphere_case`."""
    case = _sphere_case()
    d = tmp_path / "cases" / "spheres"
    d.mkdir(parents=True)
    for name, arr in (("image", case.image), ("label", case.label.astype(np.uint8))):
        img = sitk.GetImageFromArray(arr)
        img.SetSpacing((2.0, 2.0, 2.0))
        sitk.WriteImage(img, str(d / f"{name}.nii.gz"))
    return d
