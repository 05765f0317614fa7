"""Shared, cached cases for the export tests: each real study is read once per test session."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from viewer.io import load_volume
from viewer.io.labels.load_save import LoadedLabels, load_labels
from viewer.model.volume import Volume


@functools.lru_cache(maxsize=4)
def load_cached(folder: str) -> Volume:
    """The project loader, cached: each study is read once per test session."""
    return load_volume(folder)


@functools.lru_cache(maxsize=4)
def _case(image: str, label: str) -> tuple[Volume, LoadedLabels]:
    volume = load_cached(image)
    return volume, load_labels(label, volume.geometry)


@pytest.fixture
def ct_case(real_data: Path) -> tuple[Volume, LoadedLabels]:
    """ct_abdomen_dicom: DICOM series + its y-flipped NIfTI label put on the image grid."""
    d = real_data / "seg" / "ct_abdomen_dicom"
    return _case(str(d / "dicom"), str(d / "label.nii.gz"))


@pytest.fixture
def mr_case(real_data: Path) -> tuple[Volume, LoadedLabels]:
    """mr_brain_tumour: anisotropic NRRD image and label."""
    d = real_data / "seg" / "mr_brain_tumour"
    return _case(str(d / "image.nrrd"), str(d / "label.nrrd"))


@pytest.fixture
def ct3_volume(real_data: Path) -> Volume:
    """ct_abdomen_3slice: a 3-slice DICOM series with a patient name (dcmqi test data)."""
    return load_cached(str(real_data / "seg" / "ct_abdomen_3slice" / "dicom"))
