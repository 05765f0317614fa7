"""Click-to-segment benchmark: the EVALUATION.md harness over the shared real cases, both engines.

Runs every target >= 0.5 mL of ct_abdomen_small, mr_abdomen_small, mr_brain_tumour and a sample of
mr_brain_freesurfer structures with the Paddle engine (worker process, as the app runs it) and the
classic engine, and prints Dice@1/3/5/10, NoC@85, latency p50/p95 and peak memory.

  python benchmarks/bench_engine.py [--quick] [--clicks N] [--model DIR] [--json OUT]
  python benchmarks/bench_engine.py --validation --clicks 20   # the model card's numbers
  python benchmarks/bench_engine.py --validation --per-target  # and each target's Dice

Without a shipped model in resources/models/base an untrained export is used and said so: its
latency and memory are real, its accuracy is meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEG = REPO.parent / "shared" / "data" / "seg"
FREESURFER_SAMPLE = [17, 53, 10, 49, 11, 50, 12, 51]  # hippocampus, thalamus, caudate, putamen
CASES = [
    ("ct_abdomen_small", "image.nii.gz", "label.nii.gz", None),
    ("mr_abdomen_small", "image.nii.gz", "label.nii.gz", None),
    ("mr_brain_tumour", "image.nrrd", "label.nrrd", None),
    ("mr_brain_freesurfer", "image.nii.gz", "label.nii.gz", FREESURFER_SAMPLE),
]
# The base model's validation set (never trained on): a held-out CT case, an unseen structure
# (tumour) and unseen brain structures (hippocampus, amygdala: excluded from training).
VALIDATION_CASES = [
    ("ct_abdomen_dicom", "dicom", "label.nii.gz", None),
    ("mr_brain_tumour", "image.nrrd", "label.nrrd", None),
    ("mr_brain_freesurfer", "image.nii.gz", "label.nii.gz", [17, 53, 18, 54]),
]
LARGE_ML = 100.0  # the "large organ" row of the table
QUICK = {  # a few targets per case
    "ct_abdomen_small": [1, 2, 5, 7, 52],
    "mr_abdomen_small": None,
    "mr_brain_tumour": None,
    "mr_brain_freesurfer": [17, 10, 12],
}


def model_dir(arg: str | None) -> tuple[Path, str]:
    from segmentation_core.model_store import default_model_dir, model_files_present, read_meta

    if arg:
        return Path(arg), "given"
    d = default_model_dir()
    if model_files_present(d):
        return d, f"shipped ({read_meta(d).get('note', read_meta(d).get('version', ''))})"
    import paddle

    from segmentation_core.model_store import export_inference_model
    from segmentation_core.network import InteractiveUNet3D

    paddle.seed(0)
    out = Path(tempfile.mkdtemp(prefix="radlabel-bench-")) / "untrained"
    export_inference_model(InteractiveUNet3D(), out, {"note": "untrained (benchmark)"})
    return out, "UNTRAINED export (no shipped model yet): accuracy meaningless"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a few targets per case, 5 clicks")
    ap.add_argument("--clicks", type=int, default=None, help="clicks per target (default 10)")
    ap.add_argument("--engines", default="paddle,classic")
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument(
        "--validation",
        action="store_true",
        help="the base model's validation cases (see resources/models/base/MODEL_CARD.md)",
    )
    ap.add_argument(
        "--per-target",
        action="store_true",
        help="also print each target's Dice (named from the case's labels.json when it has one)",
    )
    ap.add_argument(
        "--whole-redraw",
        action="store_true",
        help="every click redraws the whole footprint (no local merge of corrections)",
    )
    ap.add_argument(
        "--no-first-click-sizing",
        action="store_true",
        help="the Paddle engine starts every first click at the finest zoom level only",
    )
    args = ap.parse_args()
    if not SEG.is_dir():
        print(f"skipped: {SEG} is absent")
        return 0
    from segmentation_core import open_session
    from segmentation_core.evaluation.harness import evaluate_case
    from viewer.cli.evaluate import load_case

    clicks = args.clicks or (5 if args.quick else 10)
    engines = args.engines.split(",")
    mdir, mdesc = model_dir(args.model) if "paddle" in engines else (None, "")
    print(
        f"cores: {os.cpu_count()}, clicks per target: {clicks} (NoC = {clicks + 1} when not reached)"
    )
    if mdir:
        print(f"paddle model: {mdir} [{mdesc}]")
    rows, all_json = [], {}
    names: dict[str, dict[int, str]] = {}
    sessions = {}
    for e in engines:
        kw = {"local_corrections": not args.whole_redraw}
        if e == "paddle":
            kw["size_first_click"] = not args.no_first_click_sizing
        sessions[e] = (
            open_session(e, model_dir=mdir, **kw) if e == "paddle" else open_session(e, **kw)
        )
    try:
        for case, img, lab, values in VALIDATION_CASES if args.validation else CASES:
            if args.quick and case in QUICK:
                values = QUICK[case] if QUICK[case] is not None else values
            image, spacing, label, names[case] = load_case(
                str(SEG / case / img), str(SEG / case / lab)
            )
            for e in engines:
                t0 = time.perf_counter()
                r = evaluate_case(sessions[e], image, label, spacing, values, clicks)
                rows.append((case, e, r))
                all_json.setdefault(case, {})[e] = r.to_json()
                print(
                    f"  {case:<22}{e:<8} {len(r.targets)} targets, {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    finally:
        for s in sessions.values():
            s.close()
    print_table(rows, clicks)
    if args.per_target:
        print_targets(rows, clicks, names)
    if args.json:
        Path(args.json).write_text(json.dumps(all_json, indent=1), encoding="utf-8")
    return 0


def print_table(rows, clicks: int) -> None:
    import numpy as np

    ks = [k for k in (1, 3, 5, 10) if k <= clicks]
    head = f"{'case':<22}{'engine':<8}{'n':>4}" + "".join(f"{'Dice@' + str(k):>9}" for k in ks)
    head += f"{'NoC@85':>8}{'p50 s':>8}{'p95 s':>8}{'peak MB':>9}{'image MB':>9}{'device':>7}"
    print()
    print(head)
    per_engine: dict[str, list] = {}
    for case, e, r in rows:
        per_engine.setdefault(e, []).append(r)
        peak = (r.peak_rss_bytes + (r.worker_peak_rss_bytes or 0)) / 2**20
        print(
            f"{case:<22}{e:<8}{len(r.targets):>4}"
            + "".join(f"{r.mean(f'dice@{k}'):9.3f}" for k in ks)
            + f"{r.mean('noc@85'):8.1f}{r.latency_p50_s:8.3f}{r.latency_p95_s:8.3f}{peak:9.0f}"
            + f"{r.image_bytes / 2**20:9.0f}{r.device:>7}"
        )
    for e, rs in per_engine.items():
        ts = [t for r in rs for t in r.targets]
        lat = [x for t in ts for x in t.latencies_s]
        dice = {k: np.mean([t.dice_at(k) for t in ts]) for k in ks}
        nocs = np.mean([t.noc["noc@85"] for t in ts])
        print(
            f"{'ALL targets':<22}{e:<8}{len(ts):>4}"
            + "".join(f"{dice[k]:9.3f}" for k in ks)
            + f"{nocs:8.1f}{np.percentile(lat, 50):8.3f}{np.percentile(lat, 95):8.3f}"
        )
    for e, rs in per_engine.items():
        # the large organs apart: a first click inside one is where a small network fails most
        ts = [t for r in rs for t in r.targets if t.volume_ml >= LARGE_ML]
        if ts:
            print(
                f"{f'targets >= {LARGE_ML:.0f} mL':<22}{e:<8}{len(ts):>4}"
                + "".join(f"{np.mean([t.dice_at(k) for t in ts]):9.3f}" for k in ks)
                + f"{np.mean([t.noc['noc@85'] for t in ts]):8.1f}"
            )


def print_targets(rows, clicks: int, names: dict[str, dict[int, str]]) -> None:
    """One line per target and engine: value, name (`names[case]`: the case's labels.json),
    volume and Dice after 1/3/5/10 clicks."""
    ks = [k for k in (1, 3, 5, 10) if k <= clicks]
    print()
    print(
        f"{'case':<22}{'engine':<8}{'value':>6} {'name':<26}{'mL':>8}"
        + "".join(f"{'Dice@' + str(k):>9}" for k in ks)
    )
    for case, e, r in rows:
        case_names = names.get(case, {})
        for t in r.targets:
            print(
                f"{case:<22}{e:<8}{t.value:>6} {case_names.get(t.value, ''):<26.26}{t.volume_ml:8.1f}"
                + "".join(f"{t.dice_at(k):9.3f}" for k in ks)
            )


if __name__ == "__main__":
    sys.exit(main())
