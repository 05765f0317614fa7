"""Tool-test fixtures: real image + label pairs (tests/data/real) loaded into Documents.

Uses the project's loaders when viewer.io provides them; otherwise reads with SimpleITK here
(tests may import it) so the editing tests do not wait on the I/O work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document


def _read_sitk(path: Path):
    import SimpleITK as sitk

    im = sitk.ReadImage(str(path))
    geo = Geometry(
        sitk.GetArrayViewFromImage(im).shape,
        im.GetSpacing(),
        im.GetOrigin(),
        np.array(im.GetDirection()).reshape(3, 3),
    )
    return sitk.GetArrayFromImage(im), geo


def load_document(image: Path, label: Path | None = None) -> Document:
    try:
        from viewer.io import load_label_for, load_volume  # type: ignore[attr-defined]
    except ImportError:
        load_volume = load_label_for = None
    if load_volume is not None:
        vol = load_volume(str(image))
        labels = load_label_for(vol, str(label)) if label is not None else None
        return Document(vol, labels)
    arr, geo = _read_sitk(image)
    vol = Volume(arr, geo, source_path=str(image))
    labels = None
    if label is not None:
        larr, _ = _read_sitk(label)
        labels = LabelMap(geo, larr.astype(np.uint16))
    return Document(vol, labels)


@pytest.fixture
def ct(real_data) -> Document:
    d = real_data / "seg" / "ct_abdomen_small"
    return load_document(d / "image.nii.gz", d / "label.nii.gz")


@pytest.fixture
def brain_tumour(real_data) -> Document:
    d = real_data / "seg" / "mr_brain_tumour"
    return load_document(d / "image.nrrd", d / "label.nrrd")
