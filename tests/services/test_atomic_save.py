"""Atomic saves: the old file survives a writer that fails midway."""

from __future__ import annotations

import os

import numpy as np
import pytest

from viewer.errors import SaveError
from viewer.io.atomic_save import atomic_write, atomic_write_bytes
from viewer.io.labels.load_save import save_labels
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
    save_labels(p, LabelMap(geo, arr))
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
        save_labels(p, LabelMap(geo, arr2))
    assert p.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["seg.nii.gz"]


# --- verification before the rename (issue 20, item 1) ---------------------------------------

GEO = Geometry((6, 7, 8), spacing=(0.5, 0.6, 2.0), origin=(1, 2, 3))


def _arr(value: int = 7) -> np.ndarray:
    arr = np.zeros(GEO.shape_zyx, np.uint16)
    arr[1:5, 2:6, 1:7] = value
    arr[2, 3, 4] = value + 1
    return arr


def _old_label(tmp_path, name="seg.nii.gz"):
    p = tmp_path / name
    save_labels(p, LabelMap(GEO, _arr()))
    return p, p.read_bytes()


def _write_then(real_write, mangle):
    """A WriteImage that really writes, then damages its output and returns normally -- what
    ITK does on a full disk (it prints `** ERROR: NWAD: wrote only ...` and does not raise)."""

    def write(image, path, *a, **k):
        real_write(image, path, *a, **k)
        mangle(image, path)

    return write


def test_itk_truncating_silently_is_caught_and_the_old_label_kept(tmp_path, monkeypatch):
    import SimpleITK as sitk

    p, old = _old_label(tmp_path)

    def truncate(_image, path):
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])

    monkeypatch.setattr(sitk, "WriteImage", _write_then(sitk.WriteImage, truncate))
    with pytest.raises(SaveError, match="gzip stream is truncated") as err:
        save_labels(p, LabelMap(GEO, _arr(3)))
    assert err.value.path == str(p) and "previous file kept" in err.value.reason
    assert p.read_bytes() == old and os.listdir(tmp_path) == ["seg.nii.gz"]


def test_itk_writing_zero_bytes_silently_is_caught(tmp_path, monkeypatch):
    import SimpleITK as sitk

    p, old = _old_label(tmp_path, "seg.nii")
    monkeypatch.setattr(
        sitk, "WriteImage", _write_then(sitk.WriteImage, lambda _i, path: open(path, "wb").close())
    )
    with pytest.raises(SaveError, match="the written file is empty"):
        save_labels(p, LabelMap(GEO, _arr(3)))
    assert p.read_bytes() == old and os.listdir(tmp_path) == ["seg.nii"]


def test_read_back_catches_wrong_voxels_and_wrong_grid(tmp_path, monkeypatch):
    """An uncompressed NIfTI cut short of its last slices, and one written on another grid."""
    import SimpleITK as sitk

    p, old = _old_label(tmp_path, "seg.nii")
    real = sitk.WriteImage

    def zero_voxels(image, path, *a, **k):
        real(image * 0, path, *a, **k)

    monkeypatch.setattr(sitk, "WriteImage", zero_voxels)
    with pytest.raises(SaveError, match="voxels differ"):
        save_labels(p, LabelMap(GEO, _arr(3)))

    def other_grid(image, path, *a, **k):
        image = sitk.Image(image)
        image.SetSpacing((1.0, 1.0, 1.0))
        real(image, path, *a, **k)

    monkeypatch.setattr(sitk, "WriteImage", other_grid)
    with pytest.raises(SaveError, match="grid differs"):
        save_labels(p, LabelMap(GEO, _arr(3)))
    assert p.read_bytes() == old and os.listdir(tmp_path) == ["seg.nii"]


@pytest.mark.parametrize("name", ["x.nii.gz", "x.nrrd", "x.mha"])
def test_check_stream_finds_cut_and_corrupt_compressed_streams(tmp_path, name):
    from viewer.io.write_check import WriteCheckError, check_stream
    from viewer.io.writer import write_volume

    p = tmp_path / name
    write_volume(_arr(), GEO, p)
    check_stream(str(p))  # the intact file passes
    data = p.read_bytes()
    p.write_bytes(data[:-12])
    with pytest.raises(WriteCheckError, match="truncated|damaged"):
        check_stream(str(p))
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # inside the gzip trailer / the last deflate bytes
    p.write_bytes(bytes(flipped))
    with pytest.raises(WriteCheckError):
        check_stream(str(p))


def test_errors_name_the_target_never_the_temporary_file(tmp_path):
    p = tmp_path / "out.nrrd"

    def fail(tmp: str) -> None:
        raise RuntimeError(f"cannot open {tmp} for writing")

    with pytest.raises(SaveError) as err:
        atomic_write(p, fail)
    assert str(err.value) == f"{p}: save failed, nothing written (cannot open {p} for writing)"


def test_metaimage_header_and_data_file_are_written_together(tmp_path):
    """A .mhd names its data file: written beside under the final names, both moved in."""
    from viewer.io.loader import load_volume
    from viewer.io.writer import save_volume

    p = tmp_path / "ct.mhd"
    save_volume(_arr(), GEO, p)
    assert sorted(os.listdir(tmp_path)) == ["ct.mhd", "ct.zraw"]
    assert "ElementDataFile = ct.zraw" in p.read_text(errors="replace")
    back = load_volume(p)
    np.testing.assert_array_equal(back.array, _arr())
    assert back.geometry.same_grid(GEO)


# --- file modes (issue 20, item 12) ------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o077, 0o002], ids=["022", "077", "002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(p) -> int:
    return os.stat(p).st_mode & 0o777


def test_files_get_the_mode_of_the_umask_not_0600(tmp_path, umask):
    from viewer.io.atomic_save import current_umask
    from viewer.io.writer import save_volume

    assert current_umask() == umask and os.umask(umask) == umask  # read without changing it
    want = 0o666 & ~umask
    atomic_write_bytes(tmp_path / "a.bin", b"x")
    save_labels(tmp_path / "l.nii.gz", LabelMap(GEO, _arr()))
    save_labels(tmp_path / "l.seg.nrrd", LabelMap(GEO, _arr()))
    save_volume(_arr(), GEO, tmp_path / "v.mhd")
    modes = {p.name: _mode(p) for p in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["a.bin", "l.nii.gz", "l.seg.nrrd", "v.mhd", "v.zraw"], want)


def test_dataset_folders_and_files_follow_the_umask(tmp_path, umask):
    from viewer.io.dataset_export import ExportCase, export_nnunet
    from viewer.model.segments import SegmentTable
    from viewer.model.volume import Volume

    table = SegmentTable()
    table.add("a", segment_id=7)
    table.add("b", segment_id=8)
    case = ExportCase(Volume(_arr().astype(np.int16), GEO, modality="CT"), LabelMap(GEO, _arr()))
    r = export_nnunet([case], tmp_path, 3, "Modes", table)
    files = [p for p in r.folder.rglob("*") if p.is_file()]
    folders = [r.folder, *(p for p in r.folder.rglob("*") if p.is_dir())]
    assert len(files) == 3 and len(folders) == 4
    assert {_mode(p) for p in files} == {0o666 & ~umask}
    assert {_mode(p) for p in folders} == {0o777 & ~umask}


@pytest.mark.parametrize("name", ["f.nii.gz", "f.nii", "f.nrrd", "f.mha"])
def test_float_images_with_nan_and_inf_save_and_verify(tmp_path, name):
    """ITK's NIfTI reader turns the NaN/Inf a file holds into 0: not a failed write."""
    from viewer.io.writer import save_volume

    f = np.linspace(-2, 2, int(np.prod(GEO.shape_zyx)), dtype=np.float32).reshape(GEO.shape_zyx)
    f[0, 0, :3] = [np.nan, np.inf, -np.inf]
    save_volume(f, GEO, tmp_path / name)
    assert os.listdir(tmp_path) == [name]


def test_saving_through_a_symlink_updates_the_file_it_points_to(tmp_path):
    from viewer.io.labels.load_save import load_labels

    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "labels.nii.gz"
    g = Geometry((3, 4, 5))
    save_labels(real, LabelMap(g, np.zeros(g.shape_zyx, np.uint16)))
    link = tmp_path / "my_labels.nii.gz"
    link.symlink_to(real)
    new = np.zeros(g.shape_zyx, np.uint16)
    new[1, 2, 3] = 7
    save_labels(link, LabelMap(g, new))
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    np.testing.assert_array_equal(load_labels(real).labelmap.array, new)
    assert sorted(p.name for p in shared.iterdir()) == ["labels.nii.gz"]  # no temp left


def test_a_copy_is_whole_or_absent_and_a_failed_one_keeps_the_old_file(tmp_path, monkeypatch):
    import errno
    import shutil

    from viewer.io.atomic_save import atomic_copy_file

    source = tmp_path / "instance.dcm"
    source.write_bytes(bytes(range(256)) * 40)
    target = tmp_path / "out" / "instance.dcm"
    target.parent.mkdir()
    assert atomic_copy_file(source, target) == target
    assert target.read_bytes() == source.read_bytes()

    target.write_bytes(b"the earlier copy")

    def half_then_full_disk(src, dst):
        with open(dst, "wb") as f:
            f.write(open(src, "rb").read()[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half_then_full_disk)
    with pytest.raises(SaveError) as e:
        atomic_copy_file(source, target)
    assert e.value.message == (
        f"{target}: save failed, previous file kept (No space left on device)"
    )
    assert target.read_bytes() == b"the earlier copy"
    assert sorted(p.name for p in target.parent.iterdir()) == ["instance.dcm"]
