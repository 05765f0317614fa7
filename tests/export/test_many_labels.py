"""A label map whose every voxel has its own value (65,535 segments) exports in seconds.

Issue 20 item 7: `export --format nifti` of such a label ran for more than 400 s, because the
segment table searched its list for every segment it added (labels x labels), and the statistics
CSV failed outright (scipy wraps `65535 + 1` in uint16). Each export runs in a subprocess under a
timeout so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from viewer.model.segments import Segment, SegmentTable

REPO = Path(__file__).resolve().parents[2]
SHAPE = (16, 64, 64)  # 65,536 voxels: values 0..65535, so 65,535 segments
TIMEOUT_S = 60


def _write_case(folder: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    image = (np.arange(65536, dtype=np.int32).reshape(SHAPE) % 1000 - 500).astype(np.int16)
    label = np.arange(65536, dtype=np.uint16).reshape(SHAPE)
    img = sitk.GetImageFromArray(image)
    img.SetSpacing((0.5, 0.5, 2.0))
    img.SetOrigin((10.0, -20.0, 30.0))
    lab = sitk.GetImageFromArray(label)
    lab.CopyInformation(img)
    sitk.WriteImage(img, str(folder / "image.nii.gz"))
    sitk.WriteImage(lab, str(folder / "label.nii.gz"))
    return folder / "image.nii.gz", folder / "label.nii.gz", image, label


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return _write_case(tmp_path_factory.mktemp("many-labels"))


def _export(fmt: str, image: Path, label: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(REPO / "main.py"), "export", "--format", fmt]
    cmd += ["--image", str(image), "--label", str(label), "--out", str(out)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.mark.timeout(TIMEOUT_S + 30)
@pytest.mark.parametrize("fmt,name", [("nifti", "out.nii.gz"), ("nrrd", "out.nrrd")])
def test_65535_segment_label_exports_within_a_minute(case, tmp_path, fmt, name):
    image, label, _, expected = case
    out = tmp_path / name
    r = _export(fmt, image, label, out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"wrote {out}: 65535 segments on [64, 64, 16]"
    back = sitk.ReadImage(str(out))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), expected)
    assert back.GetSpacing() == (0.5, 0.5, 2.0)
    assert back.GetOrigin() == (10.0, -20.0, 30.0)


@pytest.mark.timeout(TIMEOUT_S + 30)
def test_65535_segment_seg_nrrd_has_every_segment_with_its_extent(case, tmp_path):
    """Slicer's per-segment extents come from one find_objects pass, not a mask per segment."""
    import nrrd

    image, label, _, expected = case
    out = tmp_path / "out.seg.nrrd"
    r = _export("seg-nrrd", image, label, out)
    assert r.returncode == 0, r.stdout + r.stderr
    data, header = nrrd.read(str(out), index_order="C")
    np.testing.assert_array_equal(data, expected)
    for i in (0, 1, 63, 64, 4095, 65534):
        value = i + 1
        z, rest = divmod(value, 64 * 64)
        y, x = divmod(rest, 64)
        assert header[f"Segment{i}_LabelValue"] == str(value)
        assert header[f"Segment{i}_Extent"] == f"{x} {x} {y} {y} {z} {z}"
    assert "Segment65535_LabelValue" not in header


@pytest.mark.timeout(TIMEOUT_S + 30)
def test_65535_segment_statistics_csv(case, tmp_path):
    image, label, intensities, _ = case
    out = tmp_path / "stats.csv"
    r = _export("stats-csv", image, label, out)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 65535
    flat = intensities.ravel()
    for value in (1, 2, 999, 1000, 32768, 65535):
        row = rows[value - 1]
        v = float(flat[value])
        assert row["segment_id"] == str(value)
        assert row["voxels"] == "1"
        assert row["volume_ml"] == "0.0005"  # 0.5 x 0.5 x 2 mm^3
        assert (float(row["mean"]), float(row["min"]), float(row["max"])) == (v, v, v)
        assert float(row["std"]) == 0.0


def test_segment_table_index_follows_direct_list_changes():
    """Commands reorder and replace `table.segments` in place; `get` must follow them."""
    table = SegmentTable()
    for sid in (3, 1, 2):
        table.add(segment_id=sid)
    assert table.get(1).id == 1 and table.get(4) is None
    seg = table.get(3)
    table.segments.remove(seg)
    assert table.get(3) is None
    table.segments.insert(0, seg)
    assert table.get(3) is seg
    table.segments[:] = [Segment(7, "seven", (1, 2, 3))]
    assert (table.get(1), table.get(7).name) == (None, "seven")
    table.segments = [Segment(5, "five", (1, 2, 3))]
    assert (table.get(7), table.get(5).name) == (None, "five")
    table.segments.append(Segment(6, "six", (1, 2, 3)))
    assert table.get(6).name == "six"
    assert table.next_free_id() == 1
    with pytest.raises(ValueError, match="already exists"):
        table.add(segment_id=6)
    table.ensure(range(1, 65536))  # every id: proportional to the number of segments
    assert table.ids() == list(range(1, 65536))
    assert table.get(65535).name == "Segment 65535"


@pytest.mark.timeout(TIMEOUT_S + 30)
def test_65535_segment_seg_nrrd_opens_again(case, tmp_path):
    """Its header is ~25 MB: RadLabel must read back what it writes."""
    from viewer.io.labels.load_save import load_labels

    image, label, _, expected = case
    out = tmp_path / "out.seg.nrrd"
    assert _export("seg-nrrd", image, label, out).returncode == 0
    loaded = load_labels(out)
    np.testing.assert_array_equal(loaded.labelmap.array, expected)
    assert len(loaded.segments) == 65535
