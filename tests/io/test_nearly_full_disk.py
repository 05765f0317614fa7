"""Save, convert and export on a nearly full file system (a small tmpfs, mounted as root).

With about 8 KB or 0 bytes free every writer must fail with one line naming its target, keep
the file (or dataset) that was there byte for byte, and leave nothing temporary or partial.
Before the writes were verified, ITK's NIfTI writer left an 8 KB truncated gzip (or a 0-byte
file) in place of a good label and the command exited 0.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from viewer.cli.main import run_cli
from viewer.errors import SaveError
from viewer.io.labels.load_save import save_labels
from viewer.io.mesh_export import export_meshes
from viewer.io.writer import save_volume
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.volume import Volume

GEOMETRY = Geometry((40, 96, 96), spacing=(0.8, 0.8, 2.5), origin=(-40.0, 12.5, 100.0))


def _label(seed: int) -> np.ndarray:
    """A label that compresses to tens of KB (noisy blobs), so it cannot fit in 8 KB."""
    rng = np.random.default_rng(seed)
    a = np.zeros(GEOMETRY.shape_zyx, np.uint16)
    a[4:36, 10:86, 10:86] = rng.integers(0, 4, (32, 76, 76))
    return a


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (names relative) with the SHA-256 of its bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p.relative_to(folder)) + "/"] = ""
    return out


@pytest.fixture
def inputs(tmp_path):
    """An image and a label (NIfTI), outside the small file system."""
    d = tmp_path / "in"
    d.mkdir()
    rng = np.random.default_rng(7)
    image = rng.integers(-1000, 1000, GEOMETRY.shape_zyx).astype(np.int16)
    save_volume(image, GEOMETRY, d / "image.nii.gz")
    save_volume(_label(1).astype(np.uint8), GEOMETRY, d / "label.nii.gz")
    return d


FREE = [pytest.param(8192, id="8KB-free"), pytest.param(0, id="0B-free")]


@pytest.mark.parametrize("leave", FREE)
@pytest.mark.parametrize("name", ["old.nii.gz", "old.nrrd", "old.seg.nrrd"])
def test_gui_save_on_a_full_disk_keeps_the_old_label(small_fs, fill_disk, name, leave):
    target = small_fs / name
    save_labels(target, LabelMap(GEOMETRY, _label(1)))
    before = _snapshot(small_fs)
    filler = fill_disk(small_fs, leave)
    with pytest.raises(SaveError) as err:
        save_labels(target, LabelMap(GEOMETRY, _label(2)))
    assert err.value.path == str(target) and ".tmp" not in str(err.value)
    filler.unlink()
    assert _snapshot(small_fs) == before  # old file byte-identical, nothing else left


@pytest.mark.parametrize("leave", FREE)
@pytest.mark.parametrize(
    "fmt,name",
    [
        ("nifti", "old.nii.gz"),
        ("nrrd", "old.nrrd"),
        ("seg-nrrd", "old.seg.nrrd"),
        ("stats-csv", "old.csv"),
    ],
)
def test_export_on_a_full_disk_fails_and_keeps_the_old_file(
    small_fs, fill_disk, inputs, capfd, fmt, name, leave
):
    if fmt == "stats-csv" and leave:
        pytest.skip("the CSV of this label fits in 8 KB: only 0 bytes free fails it")
    argv = ["export", "--format", fmt, "--image", str(inputs / "image.nii.gz")]
    argv += ["--label", str(inputs / "label.nii.gz"), "--out", str(small_fs / name)]
    assert run_cli(argv) == 0
    before = _snapshot(small_fs)
    capfd.readouterr()
    filler = fill_disk(small_fs, leave)
    assert run_cli([*argv, "--overwrite"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(small_fs / name) in err[0] and ".tmp" not in err[0], err
    filler.unlink()
    assert _snapshot(small_fs) == before


@pytest.mark.parametrize("leave", FREE)
@pytest.mark.parametrize("name", ["old.nii.gz", "old.nii", "old.nrrd", "old.mha", "old.mhd"])
def test_convert_on_a_full_disk_fails_and_keeps_the_old_file(
    small_fs, fill_disk, inputs, capfd, name, leave
):
    argv = ["convert", str(inputs / "image.nii.gz"), str(small_fs / name)]
    assert run_cli(argv) == 0
    before = _snapshot(small_fs)  # for .mhd: the header and its .zraw data file
    assert len(before) == (2 if name.endswith(".mhd") else 1)
    capfd.readouterr()
    filler = fill_disk(small_fs, leave)
    assert run_cli([*argv, "--overwrite"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(small_fs / name) in err[0] and ".tmp" not in err[0], err
    filler.unlink()
    assert _snapshot(small_fs) == before


@pytest.mark.parametrize("leave", FREE)
@pytest.mark.parametrize("fmt,folder", [("nnunet", "Dataset005_Full"), ("msd", "Task05_Full")])
def test_dataset_export_on_a_full_disk_keeps_the_old_dataset(
    small_fs, fill_disk, inputs, capfd, fmt, folder, leave
):
    case = ["--case", str(inputs / "image.nii.gz"), str(inputs / "label.nii.gz")]
    argv = ["export", "--format", fmt, "--out", str(small_fs), "--dataset-id", "5"]
    argv += ["--name", "Full", "--channel-name", "CT"]
    assert run_cli([*argv, *case]) == 0
    before = _snapshot(small_fs)
    assert f"{folder}/labelsTr/case_000.nii.gz" in before
    capfd.readouterr()
    filler = fill_disk(small_fs, leave)
    assert run_cli([*argv, *case, *case, "--overwrite"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(small_fs / folder) in err[0] and ".tmp" not in err[0], err
    filler.unlink()
    assert _snapshot(small_fs) == before  # the old dataset as it was, no staging folder left


def test_mesh_export_on_a_full_disk_keeps_the_old_surface(small_fs, fill_disk):
    labels = np.zeros(GEOMETRY.shape_zyx, np.uint16)
    labels[10:30, 20:60, 30:70] = 3
    old = export_meshes(LabelMap(GEOMETRY, labels), small_fs / "mesh", None, "stl")
    before = _snapshot(small_fs)
    labels[12:20, 20:40, 30:50] = 0
    filler = fill_disk(small_fs, 0)
    with pytest.raises(SaveError) as err:
        export_meshes(LabelMap(GEOMETRY, labels), small_fs / "mesh", None, "stl")
    assert err.value.path == str(old[0]) and ".tmp" not in str(err.value)
    filler.unlink()
    assert _snapshot(small_fs) == before


def test_a_volume_fills_the_disk_exactly_then_fails(small_fs, fill_disk):
    """A new file (nothing to keep) on a full disk: an error and no file at all."""
    target = small_fs / "new.nii.gz"
    filler = fill_disk(small_fs, 8192)
    image = Volume(
        np.random.default_rng(3).integers(0, 30000, GEOMETRY.shape_zyx, np.int16), GEOMETRY
    )
    with pytest.raises(SaveError, match="nothing written"):
        save_volume(image, None, target)
    assert sorted(os.listdir(small_fs)) == [filler.name]


@pytest.mark.parametrize("leave", FREE)
def test_dicom_seg_export_on_a_full_disk_keeps_the_old_seg(
    small_fs, fill_disk, real_data, capfd, leave
):
    d = real_data / "seg" / "ct_abdomen_3slice"
    out = small_fs / "liver.dcm"
    argv = ["export", "--format", "dicom-seg", "--image", str(d / "dicom"), "--out", str(out)]
    argv += ["--label", str(d / "liver_seg.nrrd")]
    assert run_cli(argv) == 0
    before = _snapshot(small_fs)
    capfd.readouterr()
    filler = fill_disk(small_fs, leave)
    assert run_cli([*argv, "--overwrite"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out) in err[0] and ".tmp" not in err[0], err
    filler.unlink()
    assert _snapshot(small_fs) == before
