"""`synth`: images generated from label maps (SynthSeg's recipe), one case folder per image.

    python main.py synth --labelmaps DIR_OR_FILES --out DIR [--per-map N] [--subjects 1-15]
                         [--seed S] [--threads N] [--crop-margin MM] [--overwrite]

Each image is `OUT/<map stem>_<k>/image.nii.gz` + `label.nii.gz` on the label map's grid (or
its head crop with `--crop-margin`), the layout `train-base` reads. Image k of a map is drawn
from a seed made of (--seed, the map's stem, k): the same bytes whatever else is generated.
"""

from __future__ import annotations

import argparse
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from viewer.cli.arg_types import millimetres, seed
from viewer.errors import RadLabelError
from viewer.io.label_map_files import find_label_maps, load_label_map, map_stem


def add_parser(sub) -> None:
    p = sub.add_parser("synth", help="generate training images from label maps (SynthSeg)")
    p.add_argument("--labelmaps", nargs="+", required=True, help="label map files or folders")
    p.add_argument("--out", required=True, help="folder for the case folders")
    p.add_argument("--per-map", type=int, default=1, help="images per label map (default 1)")
    p.add_argument(
        "--subjects",
        default="",
        help="which maps, 1-based in name order, e.g. 1-15 or 1,3,16-20 (default all)",
    )
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--threads", type=int, default=1, help="images generated in parallel")
    p.add_argument(
        "--crop-margin",
        type=millimetres,
        default=None,
        metavar="MM",
        help="crop each image to the head's box plus this margin (default: the whole grid)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing case folders")
    p.set_defaults(func=run)


def parse_subjects(text: str, n: int) -> list[int]:
    """0-based indices from a 1-based list like '1-15' or '1,3,16-20'."""
    if not text:
        return list(range(n))
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise RadLabelError(f"bad --subjects '{text}' (expected e.g. 1-15 or 1,3,5)") from None
        if not 1 <= a <= b <= n:
            raise RadLabelError(f"--subjects '{text}' outside 1-{n} ({n} label maps found)")
        out.extend(i - 1 for i in range(a, b + 1) if i - 1 not in out)
    return out


def case_seed(seed: int, stem: str, k: int):
    import numpy as np

    return np.random.SeedSequence([seed, zlib.crc32(stem.encode("utf-8")), k])


def _write_case(job: tuple) -> str:
    """Generate and write one case folder; returns its path (runs in a worker process)."""
    import numpy as np

    from segmentation_core.synth import SynthParams, generate_detailed
    from viewer.io import save_volume
    from viewer.model.geometry import Geometry

    map_path, out_dir, seed, k, crop_margin = job
    labels, geometry = load_label_map(Path(map_path))
    stem = map_stem(Path(map_path))
    rng = np.random.default_rng(case_seed(seed, stem, k))
    r = generate_detailed(
        labels, geometry.spacing_zyx, rng, SynthParams(crop_margin_mm=crop_margin)
    )
    grid = Geometry(
        shape_zyx=r.image.shape,
        spacing=geometry.spacing,
        origin=tuple(geometry.index_to_world(r.offset_zyx)),
        direction=geometry.direction,
    )
    case = Path(out_dir) / f"{stem}_{k}"
    case.mkdir(parents=True, exist_ok=True)
    label = r.label
    if label.min() >= 0 and label.max() <= 65535:
        label = label.astype(np.uint16)  # the viewer's label type
    save_volume(r.image, grid, case / "image.nii.gz")
    save_volume(label, grid, case / "label.nii.gz")
    return str(case)


def _job_error(job: tuple) -> tuple[str, str | None] | str:
    """`_write_case` for a worker: expected errors come back as (reason, path)."""
    try:
        return _write_case(job)
    except RadLabelError as e:
        return (e.reason, e.path)


def run(args: argparse.Namespace) -> int:
    if args.per_map < 1:
        raise RadLabelError("--per-map must be at least 1")
    maps = find_label_maps(args.labelmaps)
    chosen = [maps[i] for i in parse_subjects(args.subjects, len(maps))]
    seen: dict[str, Path] = {}
    for m in chosen:  # refuse bad input before anything is written
        load_label_map(m)
        first = seen.setdefault(map_stem(m), m)
        if first != m:  # their cases would overwrite each other's folders
            raise RadLabelError(f"two label maps are named '{map_stem(m)}' (also {first})", m)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise RadLabelError("output exists and is not a folder", out)
    jobs = []
    for m in chosen:
        for k in range(args.per_map):
            case = out / f"{map_stem(m)}_{k}"
            if case.exists() and not args.overwrite:
                raise RadLabelError("case folder exists (use --overwrite to replace it)", case)
            jobs.append((str(m), str(out), args.seed, k, args.crop_margin))
    out.mkdir(parents=True, exist_ok=True)
    threads = max(1, min(args.threads, len(jobs), os.cpu_count() or 1))
    if threads == 1:
        _report(map(_job_error, jobs), len(jobs))
    else:
        with ProcessPoolExecutor(max_workers=threads) as pool:
            _report(pool.map(_job_error, jobs), len(jobs))
    return 0


def _report(results, total: int) -> None:
    """Print each written case in order; the first failure stops with its one line."""
    for i, r in enumerate(results, 1):
        if isinstance(r, tuple):
            raise RadLabelError(*r)
        print(f"[{i}/{total}] {r}", flush=True)
