"""`train-auto` and `predict-auto` on the command line: the label keeps the image's grid
exactly, the plan is printed and written, and bad input is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from auto_synthetic import sphere_case

REPO = Path(__file__).resolve().parents[2]


def main(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def oblique_geometry(shape_zyx, spacing_xyz):
    from viewer.model.geometry import Geometry

    a = np.deg2rad(20)
    direction = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, -1.0]])
    return Geometry(shape_zyx, spacing_xyz, (-12.5, 30.25, 7.0), direction)


def write_case(folder: Path, i: int) -> None:
    from viewer.io import save_volume

    case = sphere_case(i)
    geometry = oblique_geometry(case.image.shape, case.spacing_zyx[::-1])
    folder.mkdir(parents=True)
    save_volume(case.image, geometry, folder / "image.nii.gz")
    save_volume(case.label.astype(np.uint16), geometry, folder / "label.nii.gz")
    (folder / "labels.json").write_text(json.dumps({"labels": {"5": "core", "9": "shell"}}))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("auto_cli")
    for i in range(2):
        write_case(root / "cases" / f"case{i}", i)
    r = main(
        "train-auto", "--data", str(root / "cases"), "--fold", "all", "--steps", "3",
        "--minutes", "0", "--max-patch", "16", "--threads", "1", "--out", str(root / "model"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return root, r.stdout


def test_train_auto_prints_and_writes_the_plan(trained):
    root, out = trained
    assert "2 cases: case0, case1" in out
    # 16^3 patches: the 24x40x36 volume is coarsened to at most 16 patches, and as it is still
    # more than 4 patches, a low-resolution stage feeds the full-resolution one
    assert "\nstage lowres: spacing [" in out and "\nstage fullres: spacing [" in out
    assert f"plan written to {root / 'model' / 'plan.json'}" in out
    plan = json.loads((root / "model" / "plan.json").read_text())
    assert plan["label_names"] == {"5": "core", "9": "shell"}
    assert [s["name"] for s in plan["stages"]] == ["lowres", "fullres"]
    assert plan["stages"][1]["patch_zyx"] == [16, 16, 16]
    assert plan["stages"][1]["extra_channels"] == 3
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["inference_folds"] == ["all"]


def test_predict_auto_keeps_the_image_geometry_exactly(trained):
    from viewer.io import load_volume

    root, _ = trained
    image = root / "cases" / "case0" / "image.nii.gz"
    out = root / "pred.nii.gz"
    r = main("predict-auto", "--model", str(root / "model"), str(image), "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"{out}: labels ")
    vol = load_volume(image)
    label = load_volume(out)
    assert label.geometry.shape_zyx == vol.geometry.shape_zyx
    assert label.geometry.spacing == pytest.approx(vol.geometry.spacing, abs=1e-6)
    assert label.geometry.origin == pytest.approx(vol.geometry.origin, abs=1e-5)
    np.testing.assert_allclose(label.geometry.direction, vol.geometry.direction, atol=1e-6)
    assert set(np.unique(label.array)) <= {0, 5, 9}


def test_predict_auto_writes_the_model_label_names(trained):
    from viewer.io import load_volume
    from viewer.io.labels.open import open_labels

    root, _ = trained
    image = root / "cases" / "case1" / "image.nii.gz"
    out = root / "pred.seg.nrrd"
    r = main("predict-auto", "--model", str(root / "model"), str(image), "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    loaded = open_labels(load_volume(image), out)
    assert {s.id: s.name for s in loaded.segments} == {5: "core", 9: "shell"}


@pytest.mark.parametrize(
    "args, expected",
    [
        (["predict-auto", "--model", "{tmp}/nothing", "{img}", "--out", "{tmp}/x.nii.gz"],
         "{tmp}/nothing: no such model folder"),
        (["predict-auto", "--model", "{tmp}", "{img}", "--out", "{tmp}/x.nii.gz"],
         "{tmp}: not an automatic segmentation model (no auto_model.json)"),
        (["train-auto", "--dataset", "{tmp}", "--out", "{tmp}/m"],
         "{tmp}: not an nnU-Net raw dataset (no dataset.json)"),
        (["train-auto", "--data", "{tmp}/none", "--out", "{tmp}/m"], "{tmp}/none: no such folder"),
        (["train-auto", "--data", "{tmp}", "--labels", "a,b", "--out", "{tmp}/m"],
         "bad --labels value 'a,b'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(tmp_path, trained, args, expected):
    root, _ = trained
    img = root / "cases" / "case0" / "image.nii.gz"
    fmt = {"tmp": str(tmp_path), "img": str(img)}
    r = main(*[a.format(**fmt) for a in args])
    text = (r.stdout + r.stderr).strip()
    assert r.returncode == 2, text
    assert len(text.splitlines()) == 1, text
    assert expected.format(**fmt) in text


def test_train_auto_reads_what_export_nnunet_writes(trained, tmp_path):
    root, _ = trained
    r = main(
        "export", "--format", "nnunet", "--out", str(tmp_path / "raw"), "--dataset-id", "7",
        "--name", "Spheres", "--cases-dir", str(root / "cases"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    (dataset,) = (tmp_path / "raw").iterdir()
    r = main(
        "train-auto", "--dataset", str(dataset), "--fold", "all", "--steps", "2", "--minutes",
        "0", "--max-patch", "16", "--threads", "1", "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 cases: case_000, case_001" in r.stdout
    plan = json.loads((tmp_path / "m" / "plan.json").read_text())
    # the export renumbers labels by name: core 5 -> 1, shell 9 -> 2
    assert plan["label_names"] == {"1": "core", "2": "shell"}
    assert plan["label_values"] == [1, 2]


def test_predict_auto_labels_the_same_anatomy_in_any_stored_orientation(trained, tmp_path):
    from segmentation_core.auto import orientation as ori
    from viewer.io import load_volume, save_volume
    from viewer.model.geometry import Geometry

    root, _ = trained
    case = sphere_case(3)
    lps = Geometry(case.image.shape, case.spacing_zyx[::-1], (0.0, 0.0, 0.0), np.eye(3))
    save_volume(case.image, lps, tmp_path / "lps.nii.gz")
    # the same voxels stored in FreeSurfer's LIA order: x -> L, y -> I, z -> A
    lia = np.array([[1.0, 0, 0], [0, 0, -1], [0, -1, 0]])
    r = ori.reorientation(lia)
    stored = ori.from_canonical(case.image, r)
    spacing_xyz = tuple(case.spacing_zyx[int(np.argsort(r.order)[k])] for k in range(3))[::-1]
    save_volume(stored, Geometry(stored.shape, spacing_xyz, (0.0, 0.0, 0.0), lia),
                tmp_path / "lia.nii.gz")  # fmt: skip
    labels = {}
    for name in ("lps", "lia"):
        out = tmp_path / f"{name}_labels.nii.gz"
        args = ("predict-auto", "--model", str(root / "model"), str(tmp_path / f"{name}.nii.gz"))
        r2 = main(*args, "--out", str(out))
        assert r2.returncode == 0, r2.stdout + r2.stderr
        labels[name] = load_volume(out)
    assert labels["lia"].array.shape == stored.shape
    turned = ori.to_canonical(
        labels["lia"].array, ori.reorientation(labels["lia"].geometry.direction)
    )
    np.testing.assert_array_equal(turned, labels["lps"].array)
    assert set(np.unique(labels["lps"].array)) == {0, 5, 9}


def test_predict_auto_says_when_mirror_is_not_used(trained, tmp_path):
    root, _ = trained  # core/shell: no left/right partners, so the plan trains unmirrored
    image = root / "cases" / "case0" / "image.nii.gz"
    out = tmp_path / "m.nii.gz"
    r = main("predict-auto", "--model", str(root / "model"), str(image), "--out", str(out),
             "--mirror")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == (
        "--mirror: not used (this model trains without mirroring: one-sided structures)"
    )


def test_base_width_sets_the_first_level_and_is_recorded_in_the_plan(tmp_path):
    write_case(tmp_path / "cases" / "case0", 0)
    r = main(
        "train-auto", "--data", str(tmp_path / "cases"), "--fold", "all", "--steps", "1",
        "--minutes", "0", "--max-patch", "16", "--threads", "1", "--base-width", "12",
        "--out", str(tmp_path / "model"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    plan = json.loads((tmp_path / "model" / "plan.json").read_text())
    for stage in plan["stages"]:
        n = len(stage["pool_kernels"]) + 1
        assert stage["widths"] == [min(12 * 2**i, 128) for i in range(n)]
    assert plan["budget"]["base_width"] == 12


def test_base_width_out_of_range_is_one_line(tmp_path):
    r = main("train-auto", "--data", str(tmp_path), "--base-width", "100", "--out", str(tmp_path))
    assert r.returncode != 0
    assert (
        r.stderr.strip().splitlines()[-1] == "error: --base-width must be between 4 and 64, not 100"
    )
    assert "Traceback" not in r.stderr
