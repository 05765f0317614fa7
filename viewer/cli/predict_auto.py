"""`predict-auto`: segment one image with an automatic model and write the label file.

    python main.py predict-auto --model DIR IMAGE_OR_DICOM --out LABEL [--[no-]mirror] [--overwrite]

Test-time mirroring is on when the model trained with mirroring (a plan with left/right pairs),
as nnU-Net does; `--no-mirror` turns it off, `--mirror` asks for it on an older model.

The label is written on the image's own grid (its spacing, origin and direction) through
`viewer.io.save_labels` (atomic, verified), with the model's label names.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from viewer.errors import LoadError, RadLabelError, SaveError


def add_parser(sub) -> None:
    p = sub.add_parser("predict-auto", help="segment an image with an automatic model")
    p.add_argument("--model", required=True, help="the automatic model folder")
    p.add_argument("image", help="image file or DICOM folder")
    p.add_argument("--out", required=True, help="label file to write (.nii.gz, .nrrd, .seg.nrrd)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--overlap", type=float, default=0.5, help="window overlap 0..0.9 (0.5)")
    p.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average mirrored predictions too (default: when the model trained with mirroring)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_core.auto import AutoModelError, predict_volume, read_auto_model
    from viewer.io import load_volume, save_labels
    from viewer.model.labelmap import LabelMap
    from viewer.model.segments import SegmentTable

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise SaveError("already exists (give --overwrite to replace it)", out)
    if not 0.0 <= args.overlap < 0.95:
        raise RadLabelError(f"bad --overlap {args.overlap} (0 to 0.9)")
    try:
        model = read_auto_model(args.model)
    except AutoModelError as e:
        raise LoadError(e.reason, e.path or args.model) from None
    from segmentation_core.auto.orientation import plan_mirroring

    mirrored = bool(plan_mirroring(model["plan"], args.mirror)[0])
    if args.mirror and not mirrored:
        print("--mirror: not used (this model trains without mirroring: one-sided structures)")
    vol = load_volume(args.image)
    if not vol.is_segmentable:
        raise LoadError("image is not a scalar volume (RGB or multi-component)", args.image)
    start = time.monotonic()
    labels = predict_volume(
        args.model,
        vol.array,
        vol.geometry.spacing_zyx,
        direction=vol.geometry.direction,
        threads=args.threads,
        overlap=args.overlap,
        mirror=args.mirror,
    )
    seconds = time.monotonic() - start
    segments = SegmentTable()
    for value, name in sorted(model["labels"].items()):
        segments.add(name, segment_id=value)
    written = save_labels(out, LabelMap(vol.geometry, labels), segments)
    import numpy as np

    counts = np.bincount(labels.ravel())
    found = [int(v) for v in np.nonzero(counts)[0] if v != 0]
    how = ", test-time mirroring" if mirrored else ""
    print(f"{written}: labels {found} ({seconds:.1f} s{how}, model {model['version']})")
    return 0
