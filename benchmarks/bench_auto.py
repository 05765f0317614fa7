"""Automatic segmentation (issue 15): train on generated brains and a CT, score zero-click Dice.

Brain: images generated (segmentation_core.synth) from ../shared/data/labelmaps/synthseg_brain
subjects 1-15 train one model (`train-auto --fold all`, or k folds with --folds) for the 12
subcortical structures; it is scored on the REAL T1 ../shared/data/seg/mr_brain_freesurfer and on
generated subjects 16-20. CT: ../shared/data/seg/ct_abdomen_small (liver, spleen, kidneys, aorta)
trains, the held-out ct_abdomen_dicom (no kidneys in its label) is scored. Then the peak memory
of predicting a synthetic 512x512x1000 CT with the CT model (z-slab accumulation).

Prints: the plan, the training curve (loss, pseudo-Dice), training seconds and peak RSS, Dice
per structure, inference seconds and peak RSS per volume.

Run (the CPU is shared: nice it): `nice -n 5 .venv/bin/python benchmarks/bench_auto.py
[--brain-minutes 15] [--ct-minutes 4] [--work out/bench_auto] [--brain-images DIR]`.
--brain-images takes case folders named training_seg_NN_* (image + label); without it the
images are generated here (one per subject, seed 0). --brain-synth trains instead on images
generated afresh throughout the run from subjects 1-15 (`train-auto --synth-labelmaps`, SynthSeg's
remedy: one fixed image per subject teaches those 15 contrasts, not the anatomy); it is scored
the same way, its model in WORK/brain_synth_model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
LABELMAPS = SHARED / "labelmaps" / "synthseg_brain"
T1 = SHARED / "seg" / "mr_brain_freesurfer"
CT_TRAIN = SHARED / "seg" / "ct_abdomen_small"
CT_TEST = SHARED / "seg" / "ct_abdomen_dicom"

BRAIN = {
    17: "L-hippo", 53: "R-hippo", 18: "L-amyg", 54: "R-amyg", 11: "L-caud", 50: "R-caud",
    12: "L-put", 51: "R-put", 13: "L-pall", 52: "R-pall", 10: "L-thal", 49: "R-thal",
}  # fmt: skip
CT = {1: "spleen", 2: "kidneyR", 3: "kidneyL", 5: "liver", 52: "aorta"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- child processes (each reports its own peak memory) -------------------------------------------
def child_cli(argv: list[str]) -> int:
    from main import main as radlabel

    try:
        return radlabel(argv)
    finally:
        print(f"PEAK_RSS_MB={peak_rss_mb():.0f}", file=sys.stderr, flush=True)


def child_score(model: str, pairs_json: str, values: str, mirror: str = "0") -> int:
    import numpy as np

    from segmentation_core.auto import predict_volume
    from viewer.io import load_label_for, load_volume

    vals = [int(v) for v in values.split(",")]
    results = []
    for name, image, label in json.loads(pairs_json):
        vol = load_volume(image)
        ref = load_label_for(vol, label).array
        t = time.monotonic()
        geo = vol.geometry
        pred = predict_volume(
            model,
            vol.array,
            geo.spacing_zyx,
            direction=geo.direction,
            threads=2,
            mirror=mirror == "1",
        )
        seconds = time.monotonic() - t
        dice = {}
        for v in vals:
            a, b = pred == v, ref == v
            s = int(a.sum()) + int(b.sum())
            dice[v] = None if int(b.sum()) == 0 else 2.0 * int((a & b).sum()) / s
        results.append({"name": name, "seconds": seconds, "dice": dice, "shape": vol.array.shape})
        del vol, ref, pred
        np.random.default_rng(0)
    print("RESULT=" + json.dumps({"cases": results, "peak_rss_mb": peak_rss_mb()}), flush=True)
    return 0


def child_large(model: str) -> int:
    import numpy as np

    from segmentation_core.auto import predict_volume

    shape = (1000, 512, 512)
    image = np.full(shape, -1000, np.int16)  # air, a body cylinder with an organ-like blob
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for z0 in range(0, shape[0], 50):
        sl = slice(z0, z0 + 50)
        body = (y - 256) ** 2 + (x - 256) ** 2 < 200**2
        image[sl][:, body[0]] = 40
    image[300:700, 150:300, 150:320] = 60
    base = peak_rss_mb()
    t = time.monotonic()
    labels = predict_volume(model, image, (1.0, 0.8, 0.8), threads=2)
    seconds = time.monotonic() - t
    result = {
        "shape": shape,
        "input_mb": image.nbytes / 2**20,
        "output_mb": labels.nbytes / 2**20,
        "rss_before_mb": base,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": seconds,
    }
    print("RESULT=" + json.dumps(result), flush=True)
    return 0


def run_child(*args: str) -> tuple[str, float, float]:
    """Run this script in a child mode; (stdout, seconds, its peak RSS in MB)."""
    t = time.monotonic()
    r = subprocess.run([sys.executable, __file__, *args], cwd=REPO, capture_output=True, text=True)
    seconds = time.monotonic() - t
    peak = 0.0
    for line in r.stderr.splitlines():
        if line.startswith("PEAK_RSS_MB="):
            peak = float(line.split("=")[1])
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
        raise SystemExit(f"child {args[:2]} failed with {r.returncode}")
    return r.stdout, seconds, peak


def result_of(stdout: str) -> dict:
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT="))
    return json.loads(line[len("RESULT=") :])


# --- the benchmark -------------------------------------------------------------------------------
def brain_images(work: Path, given: str | None) -> dict[int, Path]:
    """Subject number -> case folder (image.nii.gz + label.nii.gz)."""
    if given:
        folders = sorted(Path(given).glob("training_seg_*"))
        return {int(f.name.split("_")[2]): f for f in folders}
    import numpy as np

    from segmentation_core.synth import generate
    from viewer.io import save_volume
    from viewer.io.label_map_files import load_label_map

    out = {}
    for i in range(1, 21):
        d = work / "brain_images" / f"training_seg_{i:02d}"
        if not (d / "label.nii.gz").is_file():
            d.mkdir(parents=True, exist_ok=True)
            label_map, grid = load_label_map(LABELMAPS / f"training_seg_{i:02d}.nii.gz")
            img, lab = generate(label_map, grid.spacing_zyx, np.random.default_rng(i))
            save_volume(img, grid, d / "image.nii.gz")
            save_volume(lab.astype(np.uint16), grid, d / "label.nii.gz")
        out[i] = d
    return out


def train(name: str, data: list[str], labels: dict, minutes: float, out: Path, extra=()):
    """`data`: case folders, or the train-auto source options themselves (starting '--')."""
    values = ",".join(str(v) for v in labels)
    source = data if data and data[0].startswith("--") else ["--data", *data]
    stdout, seconds, peak = run_child(
        "--child-cli", "train-auto", *source, "--labels", values, "--minutes",
        str(minutes), "--out", str(out), "--threads", "2", *extra,
    )  # fmt: skip
    lines = stdout.splitlines()
    plan_lines = [x for x in lines if x.startswith(("modality", "stage", "  - "))]
    print(f"\n== {name}: plan\n" + "\n".join(plan_lines))
    print(f"{name}: training {seconds:.0f} s wall (budget {minutes:g} min), peak RSS {peak:.0f} MB")
    return json.loads(lines[-1]), seconds, peak


def curve(model: Path, points: int = 10) -> None:
    state = json.loads((model / "fold_all" / "fullres" / "checkpoint.json").read_text())
    hist = state["history"]
    if not hist:
        return
    print(f"curve ({len(hist)} steps, {state['elapsed_s']:.0f} s of training loop):")
    step = max(1, len(hist) // points)
    for i in range(0, len(hist), step):
        window = hist[i : i + step]
        loss = sum(h[1] for h in window) / len(window)
        vals = [h[2] for h in window if h[2]]
        pd = f" pseudo-Dice {sum(vals[-1]) / len(vals[-1]):.3f}" if vals else ""
        print(f"  steps {window[0][0]:5d}-{window[-1][0]:5d}: loss {loss:.3f}{pd}")


def score(name: str, model: Path, pairs: list, labels: dict, mirror: bool = False) -> dict:
    stdout, _, _ = run_child(
        "--child-score",
        str(model),
        json.dumps(pairs),
        ",".join(map(str, labels)),
        "1" if mirror else "0",
    )
    res = result_of(stdout)
    print(f"\n== {name}: zero-click Dice (model {model.name})")
    print("case".ljust(22) + "".join(n[:7].rjust(8) for n in labels.values()) + "    mean  seconds")
    means = []
    for c in res["cases"]:
        ds = [c["dice"][str(v)] for v in labels]
        vals = [d for d in ds if d is not None]
        mean = sum(vals) / len(vals) if vals else float("nan")
        means.append(mean)
        cells = "".join(("     n/a" if d is None else f"{d:8.3f}") for d in ds)
        print(f"{c['name'][:22].ljust(22)}{cells} {mean:7.3f} {c['seconds']:8.1f}")
    print(f"peak RSS of the scoring process: {res['peak_rss_mb']:.0f} MB")
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--brain-minutes", type=float, default=15.0)
    ap.add_argument("--ct-minutes", type=float, default=4.0)
    ap.add_argument("--work", default=str(REPO / "out" / "bench_auto"))
    ap.add_argument("--brain-images", default=None)
    ap.add_argument("--folds", default="all", help="'all' or 'cv' (5 folds)")
    ap.add_argument("--skip-training", action="store_true", help="score the models in --work")
    ap.add_argument("--only", default="brain,ct,large")
    ap.add_argument("--brain-max-patch", type=int, default=0, help="train-auto --max-patch")
    ap.add_argument(
        "--brain-synth",
        action="store_true",
        help="train the brain model on fresh generated images (--synth-labelmaps, subjects 1-15)",
    )
    ap.add_argument(
        "--brain-contrast",
        default="",
        metavar="PRIOR[:P]",
        help="with --brain-synth: train-auto --synth-contrast (e.g. t1: most images T1-like)",
    )
    ap.add_argument(
        "--brain-args",
        default="",
        metavar="ARGS",
        help="more train-auto arguments for the brain model, e.g. '--spacing 2 --foreground 1'",
    )
    ap.add_argument(
        "--mirror",
        action="store_true",
        help="also score the brain model with test-time mirroring (predict-auto --mirror)",
    )
    args = ap.parse_args()
    if not SHARED.is_dir():
        print("../shared/data is absent: nothing to benchmark")
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    fold = ["--fold", "all"] if args.folds == "all" else []
    print(f"CPU: {os.cpu_count()} cores (shared), load {os.getloadavg()[0]:.1f}")
    if "brain" in only:
        brains = brain_images(work, args.brain_images)
        train_dirs = [str(brains[i]) for i in range(1, 16)]
        model = work / "brain_model"
        if args.brain_synth:
            train_dirs = ["--synth-labelmaps", str(LABELMAPS), "--synth-subjects", "1-15"]
            if args.brain_contrast:
                train_dirs += ["--synth-contrast", args.brain_contrast]
            model = work / "brain_synth_model"
        if not args.skip_training:
            extra = fold + (
                ["--max-patch", str(args.brain_max_patch)] if args.brain_max_patch else []
            )
            extra += shlex.split(args.brain_args)
            train("brain", train_dirs, BRAIN, args.brain_minutes, model, extra)
        curve(model)
        pairs = [["real T1 (FreeSurfer)", str(T1 / "image.nii.gz"), str(T1 / "label.nii.gz")]]
        pairs += [
            [f"generated {i}", str(brains[i] / "image.nii.gz"), str(brains[i] / "label.nii.gz")]
            for i in range(16, 21)
        ]
        score("brain", model, pairs, BRAIN)
        if args.mirror:
            score("brain, test-time mirroring", model, pairs, BRAIN, mirror=True)
    if "ct" in only or "large" in only:
        model = work / "ct_model"
        if not args.skip_training and "ct" in only:
            train("CT", [str(CT_TRAIN)], CT, args.ct_minutes, model, ["--fold", "all"])
            curve(model)
        if "ct" in only:
            test = [
                [
                    "ct_abdomen_dicom (held out)",
                    str(CT_TEST / "dicom"),
                    str(CT_TEST / "label.nii.gz"),
                ]
            ]
            score("CT", model, test, CT)
        if "large" in only:
            stdout, _, _ = run_child("--child-large", str(model))
            r = result_of(stdout)
            print(
                f"\n== 512x512x1000 CT (int16 input {r['input_mb']:.0f} MB, uint16 output "
                f"{r['output_mb']:.0f} MB): predict_volume {r['seconds']:.0f} s, peak RSS "
                f"{r['peak_rss_mb']:.0f} MB (after building the input: {r['rss_before_mb']:.0f} MB)"
            )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-cli":
        sys.exit(child_cli(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "--child-score":
        sys.exit(child_score(*sys.argv[2:6]))
    if len(sys.argv) > 1 and sys.argv[1] == "--child-large":
        sys.exit(child_large(sys.argv[2]))
    sys.exit(main())
