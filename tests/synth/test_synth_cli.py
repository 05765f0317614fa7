"""`python main.py synth`: case folders `train-base` reads, on the label map's exact grid,
the same bytes for the same seed, and one line naming the file for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from synth_maps import tiny_head

from viewer.cli.main import run_cli
from viewer.io import load_volume, save_volume
from viewer.io.training_cases import find_cases
from viewer.model.geometry import Geometry

REPO = Path(__file__).resolve().parents[2]

# oblique, anisotropic, off-origin: every part of the grid must survive
ANGLE = np.deg2rad(20)
GRID = Geometry(
    shape_zyx=(24, 24, 24),
    spacing=(0.9, 1.1, 1.7),
    origin=(-12.5, 30.25, 7.0),
    direction=np.array(
        [[np.cos(ANGLE), -np.sin(ANGLE), 0.0], [np.sin(ANGLE), np.cos(ANGLE), 0.0], [0, 0, 1]]
    ),
)


def _maps(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        m = tiny_head(24)
        if i:
            m[m == 17] = 18  # a second subject with another structure
        paths.append(
            Path(save_volume(m.astype(np.int16), GRID, folder / f"seg_{i + 1:02d}.nii.gz"))
        )
    return paths


def _bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.nii.gz"))}


def test_writes_case_folders_train_base_reads_on_the_exact_grid(tmp_path):
    maps = tmp_path / "maps"
    _maps(maps)
    out = tmp_path / "out"
    assert run_cli(["synth", "--labelmaps", str(maps), "--out", str(out), "--per-map", "2"]) == 0
    cases = find_cases([str(out)])
    assert [c[0] for c in cases] == ["seg_01_0", "seg_01_1", "seg_02_0", "seg_02_1"]
    for name, image_path, label_path in cases:
        image, label = load_volume(str(image_path)), load_volume(str(label_path))
        for vol in (image, label):
            g = vol.geometry
            assert g.shape_zyx == GRID.shape_zyx
            assert g.spacing == pytest.approx(GRID.spacing, abs=1e-6)
            assert g.origin == pytest.approx(GRID.origin, abs=1e-5)
            np.testing.assert_allclose(g.direction, GRID.direction, atol=1e-6)
        assert image.array.dtype == np.float32
        assert float(image.array.min()) == 0.0 and float(image.array.max()) == 1.0
        assert label.array.dtype == np.uint16
        nucleus = 17 if name.startswith("seg_01") else 18
        assert np.unique(label.array).tolist() == [0, 2, 3, nucleus, 53]  # 510 dropped


def test_same_seed_same_bytes_whatever_else_is_generated(tmp_path):
    maps = tmp_path / "maps"
    _maps(maps)
    a, b, c, d = (tmp_path / x for x in "abcd")
    args = ["synth", "--labelmaps", str(maps), "--seed", "3"]
    assert run_cli([*args, "--out", str(a)]) == 0
    assert run_cli([*args, "--out", str(b)]) == 0
    assert run_cli([*args, "--out", str(c), "--subjects", "2"]) == 0
    assert run_cli(["synth", "--labelmaps", str(maps), "--seed", "4", "--out", str(d)]) == 0
    first = _bytes(a)
    assert sorted(first) == ["seg_01_0/image.nii.gz", "seg_01_0/label.nii.gz"] + [
        "seg_02_0/image.nii.gz",
        "seg_02_0/label.nii.gz",
    ]
    assert first == _bytes(b)
    only_second = _bytes(c)
    assert sorted(only_second) == ["seg_02_0/image.nii.gz", "seg_02_0/label.nii.gz"]
    assert only_second["seg_02_0/image.nii.gz"] == first["seg_02_0/image.nii.gz"]
    assert _bytes(d)["seg_01_0/image.nii.gz"] != first["seg_01_0/image.nii.gz"]


def test_threads_give_the_same_bytes(tmp_path):
    maps = tmp_path / "maps"
    _maps(maps)
    one, two = tmp_path / "one", tmp_path / "two"
    base = ["synth", "--labelmaps", str(maps), "--per-map", "2"]
    assert run_cli([*base, "--out", str(one)]) == 0
    assert run_cli([*base, "--out", str(two), "--threads", "2"]) == 0
    assert _bytes(one) == _bytes(two)


def test_crop_margin_keeps_world_positions(tmp_path):
    maps = tmp_path / "maps"
    (m,) = _maps(maps, 1)
    out = tmp_path / "out"
    assert run_cli(["synth", "--labelmaps", str(m), "--out", str(out), "--crop-margin", "1"]) == 0
    label = load_volume(str(out / "seg_01_0" / "label.nii.gz"))
    source = tiny_head(24)
    nz = np.nonzero(source)
    margin = [int(np.ceil(1 / s)) for s in GRID.spacing_zyx]
    start = [max(0, int(a.min()) - k) for a, k in zip(nz, margin, strict=True)]
    stop = [min(24, int(a.max()) + 1 + k) for a, k in zip(nz, margin, strict=True)]
    assert label.geometry.shape_zyx == tuple(b - a for a, b in zip(start, stop, strict=True))
    assert label.geometry.origin == pytest.approx(tuple(GRID.index_to_world(start)), abs=1e-5)


def test_existing_case_refused_unless_overwrite(tmp_path, capsys):
    maps = tmp_path / "maps"
    _maps(maps, 1)
    out = tmp_path / "out"
    args = ["synth", "--labelmaps", str(maps), "--out", str(out)]
    assert run_cli(args) == 0
    assert run_cli(args) == 2
    assert "case folder exists" in capsys.readouterr().err
    assert run_cli([*args, "--overwrite"]) == 0


def _cli_lines(args: list[str], tmp_path: Path) -> tuple[int, list[str]]:
    env = dict(os.environ, RADLABEL_DATA_DIR=str(tmp_path / "data"), OMP_NUM_THREADS="1")
    r = subprocess.run(
        [sys.executable, "main.py", "synth", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, (r.stdout + r.stderr).strip().splitlines()


def test_bad_input_one_line_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere"
    fractional = tmp_path / "frac.nii.gz"
    a = tiny_head(8).astype(np.float32)
    a[0, 0, 0] = 0.5
    save_volume(a, Geometry(shape_zyx=(8, 8, 8)), fractional)
    four_d = tmp_path / "fourd.nii.gz"
    import SimpleITK as sitk

    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((2, 4, 4, 4), np.int16), False), four_d)
    sitk.WriteImage(
        sitk.JoinSeries([sitk.GetImageFromArray(np.zeros((4, 4, 4), np.int16))] * 2), four_d
    )
    out = tmp_path / "out"
    for path, reason in (
        (missing, "no such file or folder"),
        (fractional, "not whole numbers"),
        (four_d, "not a 3D label map"),
    ):
        rc, lines = _cli_lines(["--labelmaps", str(path), "--out", str(out)], tmp_path)
        assert rc == 2, lines
        assert len(lines) == 1, lines
        assert lines[0].startswith("error: ") and str(path) in lines[0] and reason in lines[0]
    assert not out.exists()  # nothing written


def test_two_maps_with_one_name_and_bad_numbers_are_refused_before_writing(tmp_path, capsys):
    (first,) = _maps(tmp_path / "site_a", 1)
    (second,) = _maps(tmp_path / "site_b", 1)  # the same file name in another folder
    out = tmp_path / "out"
    base = ["synth", "--labelmaps", str(first), str(second), "--out", str(out)]
    assert run_cli(base) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {second}: two label maps are named 'seg_01' (also {first})"
    )
    for flag, value, reason in (
        ("--seed", "-1", "'-1' is not a seed (0 or more)"),
        ("--crop-margin", "nan", "'nan' is not a length in mm (0 or more)"),
        ("--crop-margin", "-5", "'-5' is not a length in mm (0 or more)"),
    ):
        with pytest.raises(SystemExit) as e:
            run_cli(["synth", "--labelmaps", str(first), "--out", str(out), flag, value])
        assert e.value.code == 2
        assert capsys.readouterr().err.strip().endswith(f"argument {flag}: {reason}")
    assert not out.exists()


@pytest.mark.shared_data
@pytest.mark.slow
def test_one_real_label_map(shared_data, tmp_path):
    m = shared_data / "labelmaps" / "synthseg_brain" / "training_seg_01.nii.gz"
    if not m.is_file():
        pytest.skip("synthseg_brain label maps absent")
    out = tmp_path / "out"
    assert run_cli(["synth", "--labelmaps", str(m), "--out", str(out)]) == 0
    source = load_volume(str(m))
    label = load_volume(str(out / "training_seg_01_0" / "label.nii.gz"))
    assert label.geometry.same_grid(source.geometry)
    kept = {int(v) for v in np.unique(source.array) if v < 500}
    assert {int(v) for v in np.unique(label.array)} == kept
