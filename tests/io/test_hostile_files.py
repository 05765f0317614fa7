"""Hostile files (issue 20, items 2, 5, 7, 8): truncated gzip, data files outside the header's
folder, FIFOs, sparse giants and lying sizes give a LoadError naming the file, never a hang."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hostile_inputs import (
    dicom_bytes,
    dicom_dataset,
    make_fifo,
    mhd_header,
    nifti_bytes,
    nrrd_header,
    pixels,
    write_nifti,
)

from viewer.errors import LoadError
from viewer.io import load_volume, open_labels, scan_dicom_folder
from viewer.io.labels.formats.seg_nrrd import read_seg_nrrd
from viewer.io.volume_files import read_volume_file

RAW = pixels().astype("<i2").tobytes()


# --- item 2: a gzip stream that ends early or fails its CRC ---------------------------------


def test_truncated_nii_gz_is_refused(tmp_path):
    good = nifti_bytes(gz=True)
    f = tmp_path / "cut.nii.gz"
    f.write_bytes(good[: len(good) - 30])  # the deflate stream and the trailer end early
    with pytest.raises(LoadError, match="truncated|corrupt") as e:
        read_volume_file(str(f))
    assert str(f) in e.value.message


def test_nii_gz_with_a_bad_crc_is_refused(tmp_path):
    good = bytearray(nifti_bytes(gz=True))
    good[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    f = tmp_path / "crc.nii.gz"
    f.write_bytes(bytes(good))
    with pytest.raises(LoadError, match="CRC|corrupt") as e:
        read_volume_file(str(f))
    assert str(f) in e.value.message


def test_truncated_nii_gz_label_is_refused(tmp_path):
    image = write_nifti(tmp_path / "image.nii")
    volume = load_volume(image)
    good = nifti_bytes(gz=True)
    label = tmp_path / "label.nii.gz"
    label.write_bytes(good[: len(good) - 30])  # ends early: ITK zero-fills the rest
    with pytest.raises(LoadError, match="truncated|corrupt") as e:
        open_labels(volume, str(label))
    assert str(label) in e.value.message


def test_intact_nii_gz_still_loads_exactly(tmp_path):
    f = write_nifti(tmp_path / "ok.nii.gz")
    v = read_volume_file(str(f))
    np.testing.assert_array_equal(v.array, pixels())
    assert v.geometry.spacing == pytest.approx((0.5, 0.75, 2.0))


def test_gzip_garbage_after_a_valid_header_is_refused(tmp_path):
    good = nifti_bytes(gz=True)
    f = tmp_path / "garbage.nii.gz"
    f.write_bytes(good[:40] + os.urandom(200))
    with pytest.raises(LoadError) as e:
        read_volume_file(str(f))
    assert str(f) in e.value.message
    assert "\n" not in e.value.message


# --- item 5: detached data files only inside the header's own folder -------------------------


@pytest.fixture
def outside(tmp_path) -> Path:
    """A 'secret' file beside the folder holding the headers, with exactly the bytes a 5x4x3
    short image needs, so that only the path check can stop it."""
    secret = tmp_path / "secret.raw"
    secret.write_bytes(RAW)
    (tmp_path / "case").mkdir()
    return secret


@pytest.mark.parametrize("suffix", [".nhdr", ".nrrd"])
@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_nrrd_data_file_outside_its_folder_is_refused(tmp_path, outside, suffix, how):
    case = tmp_path / "case"
    if how == "dotdot":
        ref = "../secret.raw"
    elif how == "absolute":
        ref = str(outside)
    else:
        (case / "link.raw").symlink_to(outside)
        ref = "link.raw"
    header = case / f"h{suffix}"
    header.write_text(nrrd_header(ref))
    with pytest.raises(LoadError, match="outside") as e:
        load_volume(header)
    assert str(header) in e.value.message


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_mhd_data_file_outside_its_folder_is_refused(tmp_path, outside, how):
    case = tmp_path / "case"
    if how == "dotdot":
        ref = "../secret.raw"
    elif how == "absolute":
        ref = str(outside)
    else:
        (case / "link.raw").symlink_to(outside)
        ref = "link.raw"
    header = case / "h.mhd"
    header.write_text(mhd_header(ref))
    with pytest.raises(LoadError, match="outside") as e:
        load_volume(header)
    assert str(header) in e.value.message


def test_nrrd_list_data_files_are_checked_each(tmp_path, outside):
    case = tmp_path / "case"
    (case / "a.raw").write_bytes(RAW[: len(RAW) // 3])
    header = case / "h.nhdr"
    text = nrrd_header().rstrip("\n") + "\ndata file: LIST 2\na.raw\n../secret.raw\n"
    header.write_text(text)
    with pytest.raises(LoadError, match="outside"):
        load_volume(header)


def test_mhd_list_data_files_are_checked_each(tmp_path, outside):
    case = tmp_path / "case"
    (case / "a.raw").write_bytes(RAW[:40])
    header = case / "h.mhd"
    header.write_text(mhd_header("LIST 2D") + "a.raw\n../secret.raw\n")
    with pytest.raises(LoadError, match="outside"):
        load_volume(header)


def test_seg_nrrd_label_with_an_outside_data_file_is_refused(tmp_path, outside):
    case = tmp_path / "case"
    header = case / "labels.seg.nrrd"
    header.write_text(
        nrrd_header("../secret.raw").replace("type: short", "type: unsigned char")
        + "Segment0_ID:=a\nSegment0_LabelValue:=1\n"
    )
    with pytest.raises(LoadError, match="outside") as e:
        read_seg_nrrd(header)
    assert str(header) in e.value.message


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_detached_data_file_in_the_same_folder_still_loads(tmp_path, newline):
    (tmp_path / "data.raw").write_bytes(RAW)
    nhdr = tmp_path / "a.nhdr"
    nhdr.write_bytes(nrrd_header("data.raw").replace("\n", newline).encode())
    mhd = tmp_path / "a.mhd"
    mhd.write_bytes(mhd_header("data.raw").replace("\n", newline).encode())
    for header in (nhdr, mhd):
        v = load_volume(header)
        np.testing.assert_array_equal(v.array, pixels())


def test_convert_does_not_copy_an_outside_file(tmp_path, outside):
    from viewer.cli.main import run_cli

    header = tmp_path / "case" / "h.nhdr"
    header.write_text(nrrd_header("../secret.raw"))
    out = tmp_path / "out.nii.gz"
    assert run_cli(["convert", str(header), str(out)]) == 2
    assert not out.exists()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("target", ["/dev/zero", "/proc/self/environ"])
def test_device_and_proc_files_are_refused(tmp_path, target):
    header = tmp_path / "h.nhdr"
    header.write_text(nrrd_header(target))
    with pytest.raises(LoadError, match="outside"):
        load_volume(header)


def _tricky_header(kind: str, ref: str) -> tuple[str, str]:
    """(file name, header text) whose data-file field a looser or stricter parser than the
    library's would miss: every reader that could see `ref` must be stopped."""
    nrrd = nrrd_header()
    meta_lines = mhd_header("x").splitlines()[:-1]
    meta = "\n".join(meta_lines) + "\n"
    if kind == "meta-colon":
        return "h.mhd", meta + f"ElementDataFile: {ref}\n"
    if kind == "meta-lowercase-first":
        return "h.mhd", meta + f"elementdatafile = LOCAL\nElementDataFile = {ref}\n"
    if kind == "meta-lowercase-only":
        return "h.mhd", meta + f"elementdatafile = {ref}\n"
    if kind == "nrrd-formfeed":
        return "h.nhdr", nrrd.rstrip("\n") + f"\n#\x0c\ndata file: {ref}\n"
    if kind == "nrrd-key-value":
        return "h.nhdr", nrrd.rstrip("\n") + f"\ndata file:={ref}\n"
    if kind == "nrrd-twice":
        return "h.nhdr", nrrd.rstrip("\n") + f"\ndata file: a.raw\ndata file: {ref}\n"
    if kind == "nrrd-lone-cr":
        return "h.nhdr", nrrd.rstrip("\n") + f"\nencoding: raw\rdata file: {ref}\n"
    raise ValueError(kind)


TRICKY = [
    "meta-colon",
    "meta-lowercase-first",
    "meta-lowercase-only",
    "nrrd-formfeed",
    "nrrd-key-value",
    "nrrd-twice",
    "nrrd-lone-cr",
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", TRICKY)
@pytest.mark.parametrize("target", ["outside", "fifo"])
def test_data_file_fields_written_to_slip_past_a_parser_are_refused(
    tmp_path, outside, kind, target
):
    case = tmp_path / "case"
    (case / "a.raw").write_bytes(RAW)
    ref = str(outside) if target == "outside" else str(make_fifo(case / "pipe.raw").name)
    name, text = _tricky_header(kind, ref)
    header = case / name
    header.write_bytes(text.encode("latin-1"))
    with pytest.raises(LoadError) as e:
        load_volume(header)
    assert str(header) in e.value.message
    assert "\n" not in e.value.message


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["nrrd-key-value", "nrrd-formfeed"])
def test_seg_nrrd_data_file_fields_written_to_slip_past_a_parser_are_refused(
    tmp_path, outside, kind
):
    outside.write_bytes(bytes(5 * 4 * 3))  # exactly what a 5x4x3 uchar label needs
    _, text = _tricky_header(kind, str(outside))
    header = tmp_path / "case" / "labels.seg.nrrd"
    header.write_bytes(text.replace("type: short", "type: unsigned char").encode("latin-1"))
    with pytest.raises(LoadError, match="data file") as e:
        read_seg_nrrd(header)
    assert str(header) in e.value.message


def test_a_header_that_never_ends_within_the_limit_is_refused(tmp_path, outside, monkeypatch):
    from viewer.io import file_checks
    from viewer.io.file_checks import HEADER_LIMIT

    header = tmp_path / "case" / "h.nhdr"
    comments = "#" + "x" * 99 + "\n"
    padding = comments * (HEADER_LIMIT // len(comments) + 1)
    header.write_text(nrrd_header().rstrip("\n") + "\n" + padding + f"data file: {outside}\n")
    # past the first megabyte (NRRD headers may be long: a .seg.nrrd's segment fields) the
    # data file field is still read, and checked
    with pytest.raises(LoadError, match="is outside the header's folder") as e:
        load_volume(header)
    assert str(header) in e.value.message
    # past the NRRD limit nothing is read, and the file is refused
    monkeypatch.setattr(file_checks, "NRRD_HEADER_LIMIT", HEADER_LIMIT)
    with pytest.raises(LoadError, match="does not end within") as e:
        load_volume(header)
    assert str(header) in e.value.message


def test_dicom_folder_link_to_a_file_outside_is_skipped(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "slice.dcm").write_bytes(dicom_bytes())
    other = tmp_path / "other_patient"
    other.mkdir()
    (other / "x.dcm").write_bytes(dicom_bytes())
    (folder / "link.dcm").symlink_to(other / "x.dcm")
    scan = scan_dicom_folder(folder)
    assert [(Path(s.path).name, s.reason) for s in scan.skipped] == [
        ("link.dcm", "a link to a file outside the folder")
    ]
    (series,) = scan.all_series()
    assert [Path(h.path).name for h in series.headers] == ["slice.dcm"]


def _write_seg(path: Path, data: np.ndarray, **header) -> Path:
    import nrrd

    fields = {
        "space": "left-posterior-superior",
        "space directions": np.diag([0.5, 0.75, 2.0]),
        "space origin": np.zeros(3),
        "kinds": ["domain"] * 3,
    }
    fields.update(header)
    fields = {k: v for k, v in fields.items() if v is not None}
    nrrd.write(str(path), data, fields, index_order="C")
    return path


@pytest.mark.parametrize(
    "data, header, match",
    [
        (np.full((3, 4, 5), 70000, np.uint32), {}, "0..65535"),
        (
            np.ones((3, 4, 5), np.uint8),
            {"space directions": np.array([[0.5, 0.3, 0], [0, 0.75, 0], [0, 0, 2.0]])},
            "non-orthonormal",
        ),
        (np.ones((3, 4, 5), np.uint8), {"space directions": None}, "space directions"),
        (np.ones((3, 4, 5), np.uint8), {"space directions": np.diag([1e-9, 1, 1])}, "voxel size"),
        (
            np.ones((3, 4, 5), np.uint8),
            {"space origin": np.array([np.nan, 0, 0])},
            "origin",
        ),
    ],
    ids=["value-over-65535", "sheared", "no-directions", "tiny-spacing", "nan-origin"],
)
def test_seg_nrrd_with_unusable_values_or_grid_is_refused(tmp_path, data, header, match):
    path = _write_seg(tmp_path / "bad.seg.nrrd", data, **header)
    with pytest.raises(LoadError, match=match) as e:
        read_seg_nrrd(path)
    assert str(path) in e.value.message


# --- item 7: nothing hangs ----------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["nhdr", "mhd"])
def test_detached_data_file_that_is_a_fifo_is_refused(tmp_path, kind):
    make_fifo(tmp_path / "pipe.raw")
    header = tmp_path / f"h.{kind}"
    header.write_text(nrrd_header("pipe.raw") if kind == "nhdr" else mhd_header("pipe.raw"))
    with pytest.raises(LoadError, match="not a regular file") as e:
        load_volume(header)
    assert str(header) in e.value.message


@pytest.mark.timeout(30)
def test_fifo_in_a_dicom_folder_is_skipped(tmp_path):
    (tmp_path / "slice.dcm").write_bytes(dicom_bytes())
    make_fifo(tmp_path / "pipe.dcm")
    scan = scan_dicom_folder(tmp_path)
    assert len(scan.all_series()) == 1
    assert [(Path(s.path).name, s.reason) for s in scan.skipped] == [
        ("pipe.dcm", "not a regular file (FIFO)")
    ]


@pytest.mark.timeout(30)
def test_fifo_as_a_label_file_is_refused(tmp_path):
    volume = load_volume(write_nifti(tmp_path / "image.nii"))
    fifo = make_fifo(tmp_path / "label.nii.gz")
    with pytest.raises(LoadError, match="not a regular file"):
        open_labels(volume, str(fifo))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("size", [200 * 1024**2, 20 * 1024**3])
def test_sparse_file_named_dcm_is_refused_quickly(tmp_path, size):
    f = tmp_path / "big.dcm"
    with open(f, "wb") as fh:
        fh.truncate(size)  # sparse: no disk used, all zeros
    with pytest.raises(LoadError, match="not a DICOM file") as e:
        load_volume(f)
    assert str(f) in e.value.message


@pytest.mark.timeout(30)
def test_dicm_preamble_followed_by_zeros_is_refused_quickly(tmp_path):
    f = tmp_path / "zeros.dcm"
    with open(f, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM")
        fh.truncate(2 * 1024**3)
    with pytest.raises(LoadError):
        load_volume(f)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("frames", [2147483647, 80_000_000])
def test_dicom_claiming_billions_of_frames_is_refused_quickly(tmp_path, frames):
    ds = dicom_dataset()
    ds.NumberOfFrames = frames
    f = tmp_path / "frames.dcm"
    f.write_bytes(dicom_bytes(ds))
    with pytest.raises(LoadError, match="frames") as e:
        load_volume(f)
    assert str(f) in e.value.message


# --- item 8: sizes in Python integers, the guard on every reader -------------------------------


def test_mhd_dimsize_overflowing_int64_is_refused(tmp_path):
    (tmp_path / "d.raw").write_bytes(RAW)
    header = tmp_path / "h.mhd"
    header.write_text(mhd_header("d.raw", sizes=(4294967296, 4294967296, 16)))
    with pytest.raises(LoadError, match="claims"):
        load_volume(header)


def test_detached_header_bigger_than_its_data_file_is_refused(tmp_path):
    (tmp_path / "d.raw").write_bytes(RAW)
    header = tmp_path / "h.nhdr"
    header.write_text(nrrd_header("d.raw", sizes=(500, 400, 300)))
    with pytest.raises(LoadError, match="truncated|holds only"):
        load_volume(header)


@pytest.mark.timeout(60)
def test_huge_sparse_detached_data_file_is_refused_by_the_memory_guard(tmp_path, monkeypatch):
    monkeypatch.setenv("RADLABEL_MAX_IMAGE_BYTES", str(1024**3))
    with open(tmp_path / "d.raw", "wb") as fh:
        fh.truncate(2048 * 1024 * 1024 * 2)
    header = tmp_path / "h.nhdr"
    header.write_text(nrrd_header("d.raw", sizes=(2048, 1024, 1024)))
    with pytest.raises(LoadError, match="more than"):
        load_volume(header)


def test_seg_nrrd_with_a_huge_claimed_size_is_refused_before_reading(tmp_path):
    header = tmp_path / "l.seg.nrrd"
    header.write_bytes(
        nrrd_header(sizes=(4294967296, 4294967296, 16), encoding="gzip")
        .replace("type: short", "type: unsigned char")
        .encode()
        + gzip.compress(b"\0" * 100)
    )
    with pytest.raises(LoadError, match="claims"):
        read_seg_nrrd(header)


def test_default_memory_limit_is_a_quarter_of_ram(monkeypatch):
    from viewer.io import size_guard

    monkeypatch.delenv("RADLABEL_MAX_IMAGE_BYTES", raising=False)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert size_guard.memory_limit_bytes() == total // 4
    monkeypatch.setenv("RADLABEL_MAX_IMAGE_BYTES", "12345")
    assert size_guard.memory_limit_bytes() == 12345
    monkeypatch.setenv("RADLABEL_MAX_IMAGE_BYTES", "lots")  # unusable: the default, not a crash
    assert size_guard.memory_limit_bytes() == total // 4


def _nifti_with_vox_offset(offset: float) -> bytes:
    raw = bytearray(nifti_bytes())
    struct.pack_into("<f", raw, 108, offset)
    return bytes(raw)


@pytest.mark.parametrize("gz", [False, True])
def test_vox_offset_past_the_end_is_refused(tmp_path, gz):
    raw = _nifti_with_vox_offset(10_000.0)
    f = tmp_path / ("off.nii.gz" if gz else "off.nii")
    f.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(LoadError, match="truncated|past the end"):
        load_volume(f)


def test_label_reader_on_its_own_grid_refuses_outside_data_files_and_truncated_gzip(
    tmp_path, outside
):
    from viewer.io.labels.load_save import load_labels

    header = tmp_path / "case" / "l.mhd"
    header.write_text(mhd_header("../secret.raw"))
    with pytest.raises(LoadError, match="outside"):
        load_labels(header)
    good = nifti_bytes(gz=True)
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(good[: len(good) - 30])
    with pytest.raises(LoadError, match="truncated"):
        load_labels(cut)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["gzip", "bzip2"])
@pytest.mark.parametrize("attached", [True, False], ids=["attached", "detached"])
def test_seg_nrrd_gzip_inflating_past_its_claimed_size_is_refused(
    tmp_path, monkeypatch, attached, kind
):
    """A small gzip (or bzip2) stream of 32 MB of zeros under a header claiming 2x2x2 bytes is
    stopped once the claim (+ 1 MB) has come out, before pynrrd inflates all of it."""
    import bz2

    import nrrd

    compress = gzip.compress if kind == "gzip" else bz2.compress
    bomb = compress(b"\0" * (32 << 20), 9)
    header = tmp_path / "bomb.seg.nrrd"
    head = nrrd_header(
        None if attached else "bomb.raw.gz",
        sizes=(2, 2, 2),
        encoding=kind,
        extra="Segment0_ID:=Segment_1\nSegment0_Name:=a\nSegment0_LabelValue:=1\n",
    ).replace("type: short", "type: unsigned char")
    if attached:
        header.write_bytes(head.encode() + bomb)
    else:
        header.write_text(head)
        (tmp_path / "bomb.raw.gz").write_bytes(bomb)

    def inflate_all(*args, **kwargs):
        raise AssertionError("pynrrd was asked to inflate the stream")

    monkeypatch.setattr(nrrd, "read_data", inflate_all)
    with pytest.raises(LoadError) as e:
        read_seg_nrrd(header)
    assert e.value.message == (
        f"{header}: the {kind} data inflates to more than the 8 bytes the header claims "
        "(a corrupt or hostile file)"
    )


def test_a_bzip2_seg_nrrd_within_its_claim_reads(tmp_path):
    import bz2

    voxels = np.arange(8, dtype=np.uint8).reshape(2, 2, 2) % 2
    path = tmp_path / "small.seg.nrrd"
    head = nrrd_header(
        sizes=(2, 2, 2),
        encoding="bzip2",
        extra="Segment0_ID:=Segment_1\nSegment0_Name:=a\nSegment0_LabelValue:=1\n",
    ).replace("type: short", "type: unsigned char")
    path.write_bytes(head.encode() + bz2.compress(voxels.tobytes()))
    np.testing.assert_array_equal(read_seg_nrrd(path).layers[0], voxels)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("encoding", ["raw", "gzip"])
def test_seg_nrrd_line_skip_is_followed_and_one_past_the_data_refused(tmp_path, encoding):
    """pynrrd skips 'line skip' lines one readline at a time: a skip of 10^12 lines would
    spin for hours at the end of the file; a real skip still reads (also under gzip)."""
    voxels = np.arange(8, dtype=np.uint8)
    payload = voxels.tobytes() if encoding == "raw" else gzip.compress(voxels.tobytes())
    path = tmp_path / "skip.seg.nrrd"
    for skip, between in ((2, b"a line\nanother\n"), (10**12, b"")):
        head = nrrd_header(sizes=(2, 2, 2), encoding=encoding, extra=f"line skip: {skip}\n")
        path.write_bytes(
            head.replace("type: short", "type: unsigned char").encode() + between + payload
        )
        if skip == 2:
            np.testing.assert_array_equal(read_seg_nrrd(path).layers[0].ravel(), voxels)
    with pytest.raises(LoadError) as e:
        read_seg_nrrd(path)
    assert e.value.message == f"{path}: NRRD line skip {10**12} is beyond the end of the data"
