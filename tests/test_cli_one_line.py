"""Bad input meets the command line as exactly one line naming the file (issue 20, item 9):
no pydicom traceback, no ITK/GDCM/MetaIO/nibabel chatter; the details go to the log file.

Each case runs `main.py` in a subprocess (with a timeout, so a hang fails instead of stalling
CI) and asserts on everything it printed, stdout and stderr together.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "io"))
from hostile_inputs import (  # noqa: E402
    dicom_bytes,
    dicom_dataset,
    mhd_header,
    nifti_bytes,
    nrrd_header,
    pixels,
    write_nifti,
)


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RADLABEL_DATA_DIR=str(data_dir), OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _gzip_garbage(d: Path) -> list[str]:
    f = d / "garbage.nii.gz"
    f.write_bytes(nifti_bytes(gz=True)[:30] + bytes(range(256)) * 4)
    return ["info", str(f)]


def _compressed_dicom_garbage(d: Path) -> list[str]:
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    ds = dicom_dataset()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([b"\xff\xd8" + bytes(range(200)) + b"\xff\xd9"])
    ds["PixelData"].VR = "OB"
    f = d / "jpeg_garbage.dcm"
    ds.save_as(f, enforce_file_format=True)
    return ["info", str(f)]


def _mha_bad_header(d: Path) -> list[str]:
    f = d / "bad.mha"
    f.write_text(mhd_header("LOCAL").replace("DimSize = 5 4 3", "DimSize = 5 x 3") + "\0" * 10)
    return ["info", str(f)]


def _nrrd_gzip_garbage(d: Path) -> list[str]:
    f = d / "bad.nrrd"
    f.write_bytes(nrrd_header(encoding="gzip").encode() + b"\x1f\x8b\x08\x00" + b"junk" * 50)
    return ["info", str(f)]


def _seg_label_value(value: str):
    def make(d: Path) -> list[str]:
        image = write_nifti(d / "image.nii")
        label = d / "labels.seg.nrrd"
        text = nrrd_header().replace("type: short", "type: unsigned char")
        label.write_bytes(
            text.rstrip("\n").encode()
            + f"\nSegment0_ID:=s\nSegment0_LabelValue:={value}\n\n".encode()
            + (pixels() % 2).astype("u1").tobytes()
        )
        out = d / "out.nii.gz"
        return ["export", "--format", "nifti", "--image", str(image), "--label", str(label)] + [
            "--out",
            str(out),
        ]

    return make


def _deep_labels_json(d: Path) -> list[str]:
    image = write_nifti(d / "image.nii")
    label = write_nifti(d / "label.nii")
    names = d / "names.json"
    names.write_text("[" * 100_000 + "]" * 100_000)
    out = d / "out.nii.gz"
    return ["export", "--format", "nifti", "--image", str(image), "--label", str(label)] + [
        "--labels-json",
        str(names),
        "--out",
        str(out),
    ]


def _sparse_dcm(d: Path) -> list[str]:
    f = d / "sparse.dcm"
    with open(f, "wb") as fh:
        fh.truncate(20 * 1024**3)
    return ["info", str(f)]


def _fifo_data_file(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.raw")
    f = d / "h.nhdr"
    f.write_text(nrrd_header("pipe.raw"))
    return ["convert", str(f), str(d / "out.nii.gz")]


def _passwd(d: Path) -> list[str]:
    f = d / "h.nhdr"
    f.write_text(nrrd_header("../../../../../../../../etc/passwd", sizes=(4, 2, 1)))
    return ["convert", str(f), str(d / "out.nii.gz")]


def _billion_frames(d: Path) -> list[str]:
    ds = dicom_dataset()
    ds.NumberOfFrames = 2147483647
    f = d / "frames.dcm"
    f.write_bytes(dicom_bytes(ds))
    return ["info", str(f)]


CASES = {
    "gzip garbage": (_gzip_garbage, "garbage.nii.gz"),
    "compressed DICOM with garbage fragments": (_compressed_dicom_garbage, "jpeg_garbage.dcm"),
    "MetaImage with a bad DimSize": (_mha_bad_header, "bad.mha"),
    "gzip NRRD with garbage data": (_nrrd_gzip_garbage, "bad.nrrd"),
    "seg.nrrd LabelValue abc": (_seg_label_value("abc"), "labels.seg.nrrd"),
    "seg.nrrd LabelValue huge": (_seg_label_value("99999999999999999999"), "labels.seg.nrrd"),
    "seg.nrrd LabelValue negative": (_seg_label_value("-3"), "labels.seg.nrrd"),
    "100,000-deep --labels-json": (_deep_labels_json, "names.json"),
    "20 GB sparse .dcm": (_sparse_dcm, "sparse.dcm"),
    "FIFO data file": (_fifo_data_file, "h.nhdr"),
    "data file /etc/passwd": (_passwd, "h.nhdr"),
    "NumberOfFrames 2147483647": (_billion_frames, "frames.dcm"),
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_exactly_one_line_naming_the_file(case, tmp_path):
    make, name = CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    r = _run(make(work), tmp_path / "user")
    output = (r.stdout + r.stderr).strip().splitlines()
    assert r.returncode == 2, output
    assert len(output) == 1, output
    assert output[0].startswith("error: ") and name in output[0], output


def test_library_chatter_goes_to_the_log_file(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    r = _run(_compressed_dicom_garbage(work), tmp_path / "user")
    assert len((r.stdout + r.stderr).strip().splitlines()) == 1
    log = (tmp_path / "user" / "logs" / "radlabel.log").read_text()
    assert "jpeg_garbage.dcm" in log


def test_multi_line_reasons_become_one_line():
    from viewer.errors import SaveError

    reason = (
        "highdicom refused the segmentation: Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: Frame of reference differs"
    )
    e = SaveError(reason, "/out/seg.dcm")
    assert e.message == (
        "/out/seg.dcm: highdicom refused the segmentation: ValueError: Frame of reference differs"
    )


def test_memory_error_while_reading_names_the_file(tmp_path, monkeypatch):
    import SimpleITK as sitk

    from viewer.errors import LoadError
    from viewer.io.volume_files import read_volume_file

    f = write_nifti(tmp_path / "big.nii.gz")

    def out_of_memory(self):
        raise MemoryError

    monkeypatch.setattr(sitk.ImageFileReader, "Execute", out_of_memory)
    with pytest.raises(LoadError) as e:
        read_volume_file(str(f))
    assert e.value.message == f"{f}: not enough memory to read the image"


def test_cli_prints_one_line_for_an_unexpected_memory_error(monkeypatch, capsys, tmp_path):
    from viewer.cli import main

    def boom(args):
        raise MemoryError()

    parser = main.build_parser()
    args = parser.parse_args(["info", str(tmp_path)])
    args.func = boom
    monkeypatch.setattr(main, "build_parser", lambda: _Fixed(parser, args))
    assert main.run_cli(["info", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: not enough memory"), err


class _Fixed:
    def __init__(self, parser, args):
        self.parser, self.args = parser, args

    def parse_args(self, _argv):
        return self.args


def test_json_output_of_info_on_a_good_file_is_unchanged(tmp_path):
    f = write_nifti(tmp_path / "ok.nii.gz")
    r = _run(["info", str(f), "--json"], tmp_path / "user")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["volume"]["size"] == [5, 4, 3]
    assert r.stderr == ""


def test_gzip_module_is_what_the_garbage_case_trips():
    # guards the case above: its bytes really are a broken gzip stream
    with pytest.raises(Exception, match="Error -3|invalid|CRC|Not a gzipped"):
        gzip.decompress(nifti_bytes(gz=True)[:30] + bytes(range(256)) * 4)


def test_console_shows_our_warnings_but_not_library_loggers():
    import logging

    from viewer.logsetup import _console_filter

    def record(name: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.WARNING, __file__, 1, "msg", None, None)

    assert [
        _console_filter(record(n))
        for n in ("viewer.io.loader", "root", "pydicom", "nibabel.global", "py.warnings")
    ] == [True, True, False, False, False]
