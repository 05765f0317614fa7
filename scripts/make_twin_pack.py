"""Pack what the base trainer trains on for a GPU run of the PyTorch twin (docs/gpu_training.md).

    python scripts/make_twin_pack.py --out out/twin_pack

By default: the training and validation cases of resources/models/MODEL_CARD.md ("Data"),
read exactly as `train-base` reads them (`viewer.io.training_cases`), FreeSurfer's hippocampus
and amygdala held out, and the synthseg_brain label maps as compact maps. Prints the pack's
size; refuses (exit 1) a pack over --limit-mb.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEG = REPO.parent / "shared" / "data" / "seg"
TRAIN = ("ct_abdomen_small", "mr_abdomen_small", "mr_brain_freesurfer", "mr_prostate_phantom")
VAL = ("ct_abdomen_dicom", "mr_brain_tumour")
EXCLUDE = ("mr_brain_freesurfer:17,53,18,54",)
MAPS = REPO.parent / "shared" / "data" / "labelmaps" / "synthseg_brain"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", default=[str(SEG / n) for n in TRAIN])
    p.add_argument("--val", nargs="*", default=[str(SEG / n) for n in VAL])
    p.add_argument("--exclude", action="append", default=None, metavar="CASE:V1,V2")
    p.add_argument(
        "--synth-labelmaps", nargs="*", default=[str(MAPS)], help="label maps ('' for none)"
    )
    p.add_argument(
        "--init-from",
        default=str(REPO / "resources" / "models" / "base"),
        help="model folder whose weights go into the pack as init.safetensors ('' for none)",
    )
    p.add_argument("--out", default=str(REPO / "out" / "twin_pack"))
    p.add_argument("--limit-mb", type=float, default=50.0)
    return p


def main(argv: list[str] | None = None) -> int:
    from segmentation_core.training.pack import write_pack
    from viewer.cli.train_base import _parse_excludes
    from viewer.cli.train_synth import SYNTH_EXCLUDE_KEY, load_synth_spec
    from viewer.errors import RadLabelError
    from viewer.io.training_cases import find_cases, load_training_case

    a = build_parser().parse_args(argv)
    t0 = time.monotonic()
    try:
        exclude = _parse_excludes(EXCLUDE if a.exclude is None else a.exclude)
        train_specs = find_cases(a.data)
        val_specs = find_cases(a.val) if a.val else []
        train = [load_training_case(*s, exclude.get(s[0], ())) for s in train_specs]
        val = [load_training_case(*s) for s in val_specs]
        maps_given = [m for m in a.synth_labelmaps if m]
        synth_exclude = exclude.get(SYNTH_EXCLUDE_KEY, ())
        maps = list(load_synth_spec(maps_given, 1.0, synth_exclude).maps) if maps_given else []
    except RadLabelError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    manifest = write_pack(
        a.out,
        train,
        val,
        maps,
        synth_exclude,
        source={
            "train": [str(s[1].parent) for s in train_specs],
            "val": [str(s[1].parent) for s in val_specs],
            "maps": maps_given,
            "init_from": a.init_from,
            "command": "python scripts/make_twin_pack.py " + " ".join(sys.argv[1:]),
        },
    )
    if a.init_from:
        from segmentation_core.training.exported_weights import network_from_export
        from segmentation_core.training.twin_weights import write_twin_weights

        net = network_from_export(a.init_from)
        state = {k: v.numpy() for k, v in net.state_dict().items()}
        write_twin_weights(Path(a.out) / "init.safetensors", state, net.widths)
    names = [e["file"] for e in manifest["cases"] + manifest["maps"]] + ["pack.json"]
    names += ["init.safetensors"] if a.init_from else []
    size = sum((Path(a.out) / n).stat().st_size for n in names)
    print(
        json.dumps(
            {
                "pack": a.out,
                "train": [c.name for c in train],
                "val": [c.name for c in val],
                "maps": len(maps),
                "files": len(names),
                "megabytes": round(size / 1e6, 2),
                "seconds": round(time.monotonic() - t0, 1),
            }
        )
    )
    if size > a.limit_mb * 1e6:
        print(f"error: {a.out}: pack is {size / 1e6:.1f} MB, over --limit-mb {a.limit_mb}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
