"""`convert PATH OUT [--series UID] [--time T] [--overwrite]`: write the loaded volume as the
viewer holds it.

An existing OUT is refused unless --overwrite is given (as for `export` and `predict-auto`).
The output is written beside OUT, read back and compared, then renamed over OUT: a failure (a
full disk) exits non-zero and leaves an existing OUT as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from viewer.io import load_volume, save_volume
from viewer.services.export import refuse_existing


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("convert", help="convert an image or DICOM series to NIfTI/NRRD/MHA")
    p.add_argument("path", help="image file, DICOM file or DICOM folder")
    p.add_argument("out", help="output file (.nii.gz, .nii, .nrrd, .mha, .mhd)")
    p.add_argument("--series", default=None, help="series id / SeriesInstanceUID to convert")
    p.add_argument("--time", type=int, default=0, help="time point (or component) of 4D data")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    refuse_existing([Path(args.out)], args.overwrite)
    volume = load_volume(args.path, series_uid=args.series, time_index=args.time)
    save_volume(volume, None, args.out)
    g = volume.geometry
    print(
        f"wrote {args.out}: size {list(g.size_xyz)}, spacing "
        f"{[round(s, 6) for s in g.spacing]}, {g.orientation_code()}, {volume.array.dtype}"
    )
    return 0
