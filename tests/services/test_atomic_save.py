"""Atomic saves: the old file survives a writer that fails midway."""

from __future__ import annotations

import os

import numpy as np
import pytest

from viewer.errors import SaveError
from viewer.io.atomic_save import atomic_write, atomic_write_bytes, save_labels_atomic
from viewer.model import Geometry, LabelMap


def test_write_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "labels.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["labels.bin"]


def test_failure_midway_keeps_old_file(tmp_path):
    p = tmp_path / "labels.nii.gz"
    p.write_bytes(b"previous good content")

    def half_then_fail(tmp: str) -> None:
        # the writer sees the target's own name, in a hidden folder beside the target
        assert os.path.basename(tmp) == "labels.nii.gz"
        assert os.path.dirname(os.path.dirname(tmp)) == str(tmp_path)
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(SaveError) as err:
        atomic_write(p, half_then_fail)
    assert "No space left on device" in str(err.value) and "labels.nii.gz" in str(err.value)
    assert p.read_bytes() == b"previous good content"
    assert os.listdir(tmp_path) == ["labels.nii.gz"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SaveError, match="folder does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "x.bin", b"x")


def test_label_save_failing_midway_keeps_old_label_file(tmp_path, monkeypatch):
    import SimpleITK as sitk

    geo = Geometry((4, 5, 6), spacing=(0.5, 0.6, 2.0), origin=(1, 2, 3))
    arr = np.zeros((4, 5, 6), np.uint16)
    arr[1:3, 1:4, 2:5] = 7
    p = tmp_path / "seg.nii.gz"
    save_labels_atomic(p, LabelMap(geo, arr))
    back = sitk.GetArrayFromImage(sitk.ReadImage(str(p)))
    assert np.array_equal(back, arr)
    old = p.read_bytes()

    def broken(image, path, *a, **k):  # the real writer starts, then the disk fills up
        with open(path, "wb") as f:
            f.write(b"\x1f\x8b garbage")
        raise RuntimeError("disk full")

    monkeypatch.setattr(sitk, "WriteImage", broken)
    arr2 = arr.copy()
    arr2[:] = 3
    with pytest.raises(SaveError, match="disk full"):
        save_labels_atomic(p, LabelMap(geo, arr2))
    assert p.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["seg.nii.gz"]
