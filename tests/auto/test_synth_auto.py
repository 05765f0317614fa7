"""`train-auto --synth-labelmaps`: the automatic trainer's patches come from images generated
afresh (SynthSeg's remedy for learning a few fixed contrasts), the labels are reduced to the
plan's classes exactly, folds run over the maps, and bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation_core.auto import synth_source
from segmentation_core.auto.fingerprint import fingerprint
from segmentation_core.auto.folds import assign_folds, split
from segmentation_core.auto.patches import PatchSampler
from segmentation_core.auto.plan import Budget, make_plan
from segmentation_core.auto.train import AutoTrainConfig, prepare_stage_case, train_auto
from segmentation_core.synth.compact import CompactMap
from segmentation_core.training.synth_pool import SynthSpec
from viewer.cli.main import run_cli
from viewer.io import load_volume, save_volume
from viewer.model.geometry import Geometry

SPACING = (2.0, 2.0, 2.0)  # 2 mm voxels: every structure is >= 0.5 mL (a pool target)


def _head(n: int = 28, inner: int = 2) -> np.ndarray:
    """Background 0, skin 510 (dropped by the generator), brain 3, a core `inner`, block 17."""
    z, y, x = np.indices((n, n, n), dtype=np.float64)
    r = np.sqrt(sum((a - (n - 1) / 2) ** 2 for a in (z, y, x)))
    m = np.zeros((n, n, n), np.int32)
    m[r < 0.42 * n] = 510
    m[r < 0.36 * n] = 3
    m[r < 0.2 * n] = inner
    m[n // 2 : n // 2 + 5, n // 2 - 9 : n // 2 - 4, n // 2 - 2 : n // 2 + 3] = 17
    return m


def _spec(n_maps: int = 2, **kw) -> SynthSpec:
    inners = [2, 41, 2, 41]
    maps = tuple(
        CompactMap.from_labels(f"s{i}", _head(inner=inners[i]), SPACING) for i in range(n_maps)
    )
    return SynthSpec(maps=maps, share=1.0, **kw)


def _plan(spec: SynthSpec, values):
    cases = synth_source.fixed_cases(spec, synth_source.map_names(spec))
    budget = Budget.cpu(max_patch_voxels=16**3, allow_cascade=False)
    return make_plan(fingerprint(cases, values), budget)


def test_sampler_draws_fresh_generated_patches_with_exact_classes():
    spec = _spec(pool_size=1, uses=2)
    plan = _plan(spec, [2, 17])
    (stage,) = plan["stages"]
    assert stage["spacing_zyx"] == [2.0, 2.0, 2.0]  # no resampling: classes compare voxelwise
    rng = np.random.default_rng(0)
    gen = synth_source.GeneratedStageCases(spec, lambda c: prepare_stage_case(c, plan, stage), rng)
    sampler = PatchSampler([], stage["patch_zyx"], 3, 0, rng, synth=gen)
    seen = []  # (prepared stage case, the pool image it came from) per draw
    original = sampler.next_case

    def recording():
        case = original()
        seen.append((case, gen.pool.cases[0]))  # pool of one: the image just drawn from
        return case

    sampler.next_case = recording  # type: ignore[method-assign]
    for _ in range(3):
        x, y = sampler.batch(4)
        assert x.shape == (4, 1, *stage["patch_zyx"]) and y.dtype == np.int64
    assert len(seen) == 12
    assert gen.draws == 12  # every patch from a generated image
    assert gen.pool.generated == 6  # one pool image, replaced after 2 draws each
    images = [s for i, (s, _) in enumerate(seen) if i % 2 == 0]
    assert len({id(s) for s in images}) == 6
    for a, b in zip(images, images[1:], strict=False):  # each refresh is a different image
        assert not np.array_equal(a.image, b.image)
    for stage_case, pooled in seen:
        # 2 -> class 1, 17 -> class 2; brain 3, core 41 and everything else -> background
        want = np.where(pooled.label == 2, 1, np.where(pooled.label == 17, 2, 0))
        np.testing.assert_array_equal(stage_case.classes, want.astype(np.uint8))


def test_sampler_mixes_real_and_generated_by_share():
    spec = _spec()
    plan = _plan(spec, [2, 17])
    (stage,) = plan["stages"]
    prep = lambda c: prepare_stage_case(c, plan, stage)  # noqa: E731
    real = [prep(c) for c in synth_source.fixed_cases(spec, ["s0"])]
    rng = np.random.default_rng(1)
    gen = synth_source.GeneratedStageCases(spec, prep, rng)
    sampler = PatchSampler(real, stage["patch_zyx"], 3, 0, rng, synth=gen, synth_share=0.25)
    n = 400
    picked = [sampler.next_case() for _ in range(n)]
    assert gen.draws == sum(c is not real[0] for c in picked)
    assert 0.18 < gen.draws / n < 0.32  # binomial(400, 0.25): 6 standard deviations wide


def test_default_values_are_the_kept_values_of_the_maps():
    assert synth_source.default_values(_spec()) == [2, 3, 17, 41]  # 510 is dropped
    with pytest.raises(ValueError, match=r"label value\(s\) 99,510 are in none"):
        synth_source.check_values(_spec(), [2, 99, 510])


def test_train_auto_generated_only_folds_over_maps(tmp_path):
    spec = _spec(n_maps=4)
    config = AutoTrainConfig(
        minutes=0, max_steps=2, fold="0", n_folds=2, threads=1, val_every_steps=1,
        label_values=[2, 17], budget=Budget.cpu(max_patch_voxels=16**3),
    )  # fmt: skip
    card = train_auto([], tmp_path / "m", config, synth=spec)
    plan = card["plan"]
    assert plan["label_values"] == [2, 17]
    assert plan["cases"] == ["synth:s0", "synth:s1", "synth:s2", "synth:s3"]
    assert [s["name"] for s in plan["stages"]] == ["fullres"]
    names = ["s0", "s1", "s2", "s3"]
    _, va = split(assign_folds(names, 2, 0), 0)
    validation = json.loads((tmp_path / "m" / "fold_0" / "validation.json").read_text())
    assert validation["cases"] == [f"{names[i]}~generated" for i in va]
    assert card["inference_folds"] == [0]


def _write_maps(folder, n=3):
    folder.mkdir()
    grid = Geometry(shape_zyx=(28, 28, 28), spacing=SPACING, origin=(1.0, 2.0, 3.0))
    for i in range(n):
        save_volume(_head(inner=[2, 41, 2][i]).astype(np.int16), grid, folder / f"m{i + 1}.nii.gz")


def test_cli_train_auto_from_label_maps_only(tmp_path, capsys):
    maps = tmp_path / "maps"
    _write_maps(maps)
    out = tmp_path / "out"
    argv = [
        "train-auto", "--synth-labelmaps", str(maps), "--synth-subjects", "1-2", "--out", str(out),
        "--steps", "2", "--minutes", "0", "--fold", "all", "--max-patch", "16", "--threads", "1",
        "--labels", "17,2",
    ]  # fmt: skip
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert "generated images from 2 label maps (m1, m2), 100% of the patches" in printed
    plan = json.loads((out / "plan.json").read_text())
    assert plan["label_values"] == [2, 17]
    assert plan["cases"] == ["synth:m1", "synth:m2"]
    assert plan["label_names"] == {"2": "label 2", "17": "label 17"}  # no names file beside


def test_cli_train_auto_takes_the_names_kept_beside_the_maps(tmp_path, capsys):
    maps = tmp_path / "maps"
    _write_maps(maps, n=2)
    (maps / "labels_table.txt").write_text("labels structures\n2 left core\n17 right core\n")
    out = tmp_path / "out"
    argv = [
        "train-auto", "--synth-labelmaps", str(maps), "--out", str(out), "--steps", "1",
        "--minutes", "0", "--fold", "all", "--max-patch", "16", "--threads", "1",
        "--labels", "17,2",
    ]  # fmt: skip
    assert run_cli(argv) == 0
    plan = json.loads((out / "plan.json").read_text())
    assert plan["label_names"] == {"2": "left core", "17": "right core"}
    assert plan["mirror_axes"] == [2] and plan["mirror_pairs"] == [[1, 2]]

    # a model that trained with mirroring predicts with test-time mirroring unless told not to
    image = tmp_path / "image.nii.gz"
    grid = Geometry(shape_zyx=(28, 28, 28), spacing=SPACING, origin=(1.0, 2.0, 3.0))
    save_volume((_head() % 97).astype(np.float32), grid, image)
    lines, arrays = {}, {}
    for how in ("default", "--mirror", "--no-mirror"):
        capsys.readouterr()
        label = tmp_path / f"{how.strip('-')}.nii.gz"
        argv = ["predict-auto", "--model", str(out), str(image), "--out", str(label)]
        assert run_cli(argv + ([] if how == "default" else [how])) == 0
        lines[how] = capsys.readouterr().out.strip().splitlines()[-1]
        arrays[how] = load_volume(label).array
    assert "test-time mirroring" in lines["default"] and "test-time mirroring" in lines["--mirror"]
    assert "mirroring" not in lines["--no-mirror"]
    np.testing.assert_array_equal(arrays["default"], arrays["--mirror"])


def test_synth_contrast_sets_the_prior_and_its_share(tmp_path):
    from segmentation_core.synth.priors import prior_table
    from viewer.cli.train_synth import load_synth_spec

    maps = tmp_path / "maps"
    _write_maps(maps)
    spec = load_synth_spec([str(maps)], 1.0, contrast="t1:0.5")
    assert spec.params.prior == prior_table("t1") and spec.params.prior_probability == 0.5
    assert load_synth_spec([str(maps)], 1.0, contrast="t1").params.prior_probability == 0.8
    assert load_synth_spec([str(maps)], 1.0).params.prior == ()


def test_synth_stripped_sets_the_skull_stripped_share(tmp_path):
    from viewer.cli.train_synth import load_synth_spec

    maps = tmp_path / "maps"
    _write_maps(maps)
    assert load_synth_spec([str(maps)], 1.0).params.stripped_probability == 0.0
    spec = load_synth_spec([str(maps)], 1.0, stripped=0.25)
    assert spec.params.stripped_probability == 0.25


def test_synth_uses_sets_the_patches_per_generated_image(tmp_path):
    from viewer.cli.train_synth import load_synth_spec

    maps = tmp_path / "maps"
    _write_maps(maps)
    assert load_synth_spec([str(maps)], 1.0).uses == 16
    assert load_synth_spec([str(maps)], 1.0, uses=32).uses == 32


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--synth-labelmaps", "MISSING"], "MISSING: no such file or folder"),
        (
            ["--synth-labelmaps", "MAPS", "--labels", "2,99"],
            "label value(s) 99 are in none of the label maps (or are dropped by the generator)",
        ),
        (["--synth-labelmaps", "MAPS", "--labels", "2,x"], "bad --labels value '2,x' "),
        (
            ["--synth-labelmaps", "MAPS", "--synth-subjects", "2-5"],
            "bad --synth-subjects '2-5' (positions 1..3 among the label maps, e.g. 1-3)",
        ),
        ([], "give --project, --dataset, --data or --synth-labelmaps"),
        (["--synth-labelmaps", "MAPS", "--lr", "-1"], "bad --lr -1.0 (a positive learning rate)"),
        (
            ["--synth-labelmaps", "MAPS", "--foreground", "2"],
            "the foreground share must be in [0, 1], got 2.0",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--synth-contrast", "flair"],
            "bad --synth-contrast 'flair': unknown intensity prior 'flair' (known: t1)",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--synth-contrast", "t1:1.5"],
            "bad --synth-contrast 't1:1.5': the share must be in (0, 1]",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--synth-uses", "0"],
            "--synth-uses must be at least 1, got 0",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--synth-stripped", "nan"],
            "--synth-stripped must be in [0, 1], got nan",
        ),
        (
            ["--synth-labelmaps", "MAPS", "--synth-stripped", "1.5"],
            "--synth-stripped must be in [0, 1], got 1.5",
        ),
    ],
)
def test_cli_train_auto_synth_bad_input_one_line(tmp_path, capsys, extra, message):
    maps = tmp_path / "maps"
    _write_maps(maps)
    extra = [
        str(tmp_path / e) if e == "MISSING" else str(maps) if e == "MAPS" else e for e in extra
    ]
    message = message.replace("MISSING", str(tmp_path / "MISSING"))
    argv = ["train-auto", "--out", str(tmp_path / "out"), "--steps", "1", "--minutes", "0"]
    assert run_cli([*argv, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {message}")
