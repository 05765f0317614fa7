"""The learning loop's acceptance benchmark (issue 14): a labelling campaign on brain structures.

Structures: hippocampus, amygdala, caudate, putamen, pallidum, thalamus, left and right
(FreeSurfer 17/53, 18/54, 11/50, 12/51, 13/52, 10/49). Finished cases: images generated
(`segmentation_core.synth`, seed 0 per subject) from the SynthSeg training label maps in
`../shared/data/labelmaps/synthseg_brain`, subjects 1..10, labelled with those 12 structures
only (as a user of such a project would). After k = 1, 3, 10 finished cases the active model is
retrained (each round fine-tunes the previous round's model, as the product does) and measured
with the EVALUATION.md harness on
- the REAL T1 `../shared/data/seg/mr_brain_freesurfer` (never trained on by the project
  model; the shipped base saw its thalamus/caudate/putamen/pallidum, see its meta.json),
- two held-out generated subjects (19, 20),
and on structures outside the label set (forgetting, Dice@1): the real T1's ventricles,
cerebellum cortex and brain stem, and the base model's CT validation case's organs.
k = 0 is the shipped model. Prints one table.

  python benchmarks/bench_learning.py [--minutes 10] [--rounds 1,3,10] [--clicks 20]
      [--out out/bench_learning] [--threads 2] [--set KEY=VALUE ...] [--quick]

`--set` overrides a FinetuneConfig field (e.g. --set lr=1e-3 --set trainable=decoder).
Generated images are cached under OUT/cases; models under OUT/round_k.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "data"
LABELMAPS = SHARED / "labelmaps" / "synthseg_brain"
REAL_T1 = SHARED / "seg" / "mr_brain_freesurfer"
CT_CASE = SHARED / "seg" / "ct_abdomen_dicom"
STRUCTURES = {
    17: "hippocampus L",
    53: "hippocampus R",
    18: "amygdala L",
    54: "amygdala R",
    11: "caudate L",
    50: "caudate R",
    12: "putamen L",
    51: "putamen R",
    13: "pallidum L",
    52: "pallidum R",
    10: "thalamus L",
    49: "thalamus R",
}
TRAIN_SUBJECTS = list(range(1, 11))
TEST_SUBJECTS = [19, 20]
SEED = 0
# outside the label set: lateral ventricles, cerebellum cortex, brain stem (real T1) ...
FORGET_T1 = [4, 43, 8, 47, 16]
# ... and the base model's held-out CT case (spleen, liver, stomach, pancreas, aorta, IVC, ...)
FORGET_CT = [1, 5, 6, 7, 52, 63, 79]


def synth_case(sid: int, cache: Path):
    """(image, full label, spacing) of subject `sid`'s generated image (seed SEED), cached."""
    import numpy as np

    from viewer.io import load_label_for, load_volume

    d = cache / f"brain_s{SEED}_{sid:02d}"
    if not (d / "label.nii.gz").is_file():
        import SimpleITK as sitk

        from segmentation_core.synth import generate

        src = sitk.ReadImage(str(LABELMAPS / f"training_seg_{sid:02d}.nii.gz"))
        lab = sitk.GetArrayFromImage(src).astype(np.int32)
        spacing = tuple(float(s) for s in src.GetSpacing()[::-1])
        img, out_lab = generate(lab, spacing, np.random.default_rng([SEED, sid]))
        d.mkdir(parents=True, exist_ok=True)
        for name, arr in (("image", img), ("label", out_lab.astype(np.int16))):
            im = sitk.GetImageFromArray(arr)
            im.CopyInformation(src)
            sitk.WriteImage(im, str(d / f".{name}.nii.gz"))
            os.replace(d / f".{name}.nii.gz", d / f"{name}.nii.gz")
    vol = load_volume(str(d / "image.nii.gz"))
    lab = load_label_for(vol, str(d / "label.nii.gz"))
    return (
        np.asarray(vol.array, np.float32),
        np.asarray(lab.array, np.int32),
        vol.geometry.spacing_zyx,
        d,
    )


def finished_label_file(sid: int, cache: Path) -> tuple[Path, Path]:
    """(image, label with the 12 structures only) files of subject `sid`, for a project."""
    import numpy as np
    import SimpleITK as sitk

    _, label, _, d = synth_case(sid, cache)
    path = d / "label_structures.nii.gz"
    if not path.is_file():
        src = sitk.ReadImage(str(d / "label.nii.gz"))
        arr = sitk.GetArrayFromImage(src)
        im = sitk.GetImageFromArray(
            np.where(np.isin(arr, list(STRUCTURES)), arr, 0).astype(np.uint8)
        )
        im.CopyInformation(src)
        sitk.WriteImage(im, str(d / ".label_structures.nii.gz"))
        os.replace(d / ".label_structures.nii.gz", path)
    return d / "image.nii.gz", path


def finished_case(sid: int, cache: Path):
    """Subject `sid` as a project's finished case: only the 12 structures are labelled."""
    import numpy as np

    from segmentation_core.encoding import robust_range
    from segmentation_core.training.dataset import TrainingCase

    image, label, spacing, d = synth_case(sid, cache)
    label = np.where(np.isin(label, list(STRUCTURES)), label, 0).astype(np.int32)
    lo, hi = robust_range(image)
    return TrainingCase(d.name, image, label, spacing, "MR", lo=lo, hi=hi)


def load_real(folder: Path, image_name: str, label_name: str = "label.nii.gz"):
    from viewer.cli.evaluate import load_case

    image, spacing, label, _ = load_case(str(folder / image_name), str(folder / label_name))
    return image, label, spacing


def evaluate_model(model_dir: Path, tests: dict, clicks: int, threads: int) -> dict:
    """Harness metrics per test set: {name: {"dice@1", ..., "noc@85", "per_value"}}."""
    import numpy as np

    from segmentation_core import open_session
    from segmentation_core.evaluation.harness import evaluate_case

    out = {}
    session = open_session("paddle", model_dir=model_dir, in_process=True, threads=threads)
    try:
        for name, (image, label, spacing, values, n) in tests.items():
            r = evaluate_case(session, image, label, spacing, values, min(n, clicks))
            ts = r.targets
            res = {f"dice@{k}": float(np.mean([t.dice_at(k) for t in ts])) for k in (1, 3, 5)}
            res["noc@85"] = float(np.mean([t.noc["noc@85"] for t in ts]))
            res["per_value"] = {t.value: round(t.dice_at(1), 3) for t in ts}
            res["n"] = len(ts)
            out[name] = res
    finally:
        session.close()
    return out


def parse_sets(items: list[str]) -> dict:
    from segmentation_core.training.finetune import FinetuneConfig

    types = {f.name: f.type for f in fields(FinetuneConfig)}
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in types:
            raise SystemExit(f"--set: FinetuneConfig has no field {key!r}")
        t = types[key] if not isinstance(types[key], str) else eval(types[key])  # noqa: S307
        out[key] = (value.lower() in ("1", "true", "yes")) if t is bool else t(value)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="budget per retrain round")
    ap.add_argument("--rounds", default="1,3,10", help="finished cases before each retrain")
    ap.add_argument("--clicks", type=int, default=20, help="clicks per target (NoC needs 20)")
    ap.add_argument("--out", default=str(REPO / "out" / "bench_learning"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--no-forgetting", action="store_true", help="skip the forgetting columns")
    ap.add_argument("--no-real", action="store_true", help="skip the real T1 (recipe tuning)")
    ap.add_argument("--base", default="", help="start model (default: the shipped base)")
    ap.add_argument("--skip-k0", action="store_true", help="do not measure the start model")
    ap.add_argument(
        "--direct",
        action="store_true",
        help="call finetune() directly (with --set) instead of the product's project retrain",
    )
    args = ap.parse_args()
    if not LABELMAPS.is_dir() or not REAL_T1.is_dir():
        print(f"skipped: {LABELMAPS} or {REAL_T1} is absent")
        return 0
    import importlib.util

    if importlib.util.find_spec("segmentation_core.synth") is None:
        print("skipped: segmentation_core.synth (the image generator) is not there")
        return 0
    from segmentation_core.model_store import default_model_dir
    from segmentation_core.training.finetune import FinetuneConfig, finetune

    out = Path(args.out)
    cache = REPO / "out" / "bench_learning_cases"
    rounds = [int(k) for k in args.rounds.split(",") if k]
    cfg = FinetuneConfig(minutes=args.minutes, threads=args.threads, **parse_sets(args.set))
    print(f"cores: {os.cpu_count()}, config: {cfg}", flush=True)

    values = list(STRUCTURES)
    tests = {}
    if not args.no_real:
        img, lab, sp = load_real(REAL_T1, "image.nii.gz")
        tests["real T1"] = (img, lab, sp, values, args.clicks)
    for sid in TEST_SUBJECTS:
        img, lab, sp, _ = synth_case(sid, cache)
        tests[f"synth {sid}"] = (img, lab, sp, values, args.clicks)
    forget = {}
    if not args.no_forgetting:
        img, lab, sp = load_real(REAL_T1, "image.nii.gz")
        forget["T1 other"] = (img, lab, sp, FORGET_T1, 1)
        img, lab, sp = load_real(CT_CASE, "dicom")
        forget["CT organs"] = (img, lab, sp, FORGET_CT, 1)

    active = Path(args.base) if args.base else default_model_dir()
    rows = []

    def measure(k: int, model: Path, train_s, steps) -> None:
        t0 = time.monotonic()
        m = evaluate_model(model, tests, args.clicks, args.threads)
        f = evaluate_model(model, forget, 1, args.threads) if forget else {}
        rows.append((k, train_s, steps, m, f))
        print(f"k={k}: measured in {time.monotonic() - t0:.0f} s", flush=True)
        print(json.dumps({"k": k, "metrics": m, "forgetting": f}), flush=True)

    if not args.skip_k0:
        measure(0, active, None, None)
    project = None
    if not args.direct:
        import shutil

        from viewer.project.records import LabelDef
        from viewer.project.workspace import Project

        shutil.rmtree(out / "project", ignore_errors=True)
        labels = [
            LabelDef(v, n, (40 + 15 * i, 200 - 10 * i, 90))
            for i, (v, n) in enumerate(STRUCTURES.items())
        ]
        project = Project.create(out / "project", "bench_learning", labels)
        if args.set:
            raise SystemExit(
                "--set needs --direct (the product retrain uses FinetuneConfig's defaults)"
            )
    added = 0
    for k in rounds:
        t0 = time.monotonic()
        if project is not None:
            for sid in TRAIN_SUBJECTS[added:k]:
                image, label = finished_label_file(sid, cache)
                project.add_case(image, label, final=True, patient_id=f"subject{sid:02d}")
            added = k
            res = run_product_round(out / "project", args)
            active = Project.open(out / "project").active_model_dir()
            steps, secs = res["steps"], res["seconds"]
        else:
            cases = [finished_case(s, cache) for s in TRAIN_SUBJECTS[:k]]
            r = finetune(cases, active, out / f"round_{k}", cfg, progress=_print_progress)
            active, steps, secs = r.model_dir, r.steps, r.seconds
        wall = time.monotonic() - t0
        print(
            f"round k={k}: {steps} steps in {secs:.0f} s ({steps / max(secs, 1e-9):.2f} steps/s;"
            f" {wall:.0f} s with loading, gate and publishing); active: {active}",
            flush=True,
        )
        measure(k, active, secs, steps)
    print_table(rows, list(tests), list(forget))
    return 0


def _print_progress(i: dict) -> None:
    if i.get("type", "progress") == "progress":
        print(
            f"  step {i['step']:4d} loss {i['loss']:.3f} lr {i['lr']:.1e} "
            f"{i['elapsed_s']:.0f}/{i['budget_s']:.0f} s",
            flush=True,
        )
    else:
        print(f"  {i}", flush=True)


def run_product_round(folder: Path, args) -> dict:
    """One retrain through the product (`viewer.project.retrain.retrain_blocking`): fine-tune
    the active model, gate the candidate on the project's validation (or training) cases,
    publish; the candidate becomes active only if better."""
    from viewer.project.retrain import retrain_blocking

    done = retrain_blocking(
        folder, minutes=args.minutes, threads=args.threads, progress=_print_progress
    )
    if done.get("type") != "done":
        raise SystemExit(f"retrain ended with {done}")
    print(
        f"  gate: candidate {done['candidate']} active {done['active']} "
        f"activated={done['activated']}",
        flush=True,
    )
    return done


def print_table(rows, test_names, forget_names) -> None:
    head = f"{'k':>3}{'train s':>8}{'steps':>6}{'st/s':>6}"
    for t in test_names:
        head += f" | {t:<10}{'D@1':>6}{'D@3':>6}{'D@5':>6}{'NoC85':>6}"
    for f in forget_names:
        head += f" | {f + ' D@1':>14}"
    print()
    print(head)
    for k, secs, steps, m, f in rows:
        line = f"{k:>3}" + (
            f"{secs:8.0f}{steps:6d}{steps / max(secs, 1e-9):6.2f}"
            if secs is not None
            else f"{'-':>8}{'-':>6}{'-':>6}"
        )
        for t in test_names:
            r = m[t]
            line += f" | {'':<10}{r['dice@1']:6.3f}{r['dice@3']:6.3f}{r['dice@5']:6.3f}"
            line += f"{r['noc@85']:6.1f}"
        for name in forget_names:
            line += f" | {f[name]['dice@1']:14.3f}"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
