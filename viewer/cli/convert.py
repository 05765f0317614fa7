"""`convert PATH OUT [--series UID] [--time T]`: write the loaded volume as the viewer holds it.

The output is written beside OUT, read back and compared, then renamed over OUT: a failure (a
full disk) exits non-zero and leaves an existing OUT as it was.
"""

from __future__ import annotations

import argparse

from viewer.io import load_volume, save_volume


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("convert", help="convert an image or DICOM series to NIfTI/NRRD/MHA")
    p.add_argument("path", help="image file, DICOM file or DICOM folder")
    p.add_argument("out", help="output file (.nii.gz, .nii, .nrrd, .mha, .mhd)")
    p.add_argument("--series", default=None, help="series id / SeriesInstanceUID to convert")
    p.add_argument("--time", type=int, default=0, help="time point (or component) of 4D data")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    volume = load_volume(args.path, series_uid=args.series, time_index=args.time)
    save_volume(volume, None, args.out)
    g = volume.geometry
    print(
        f"wrote {args.out}: size {list(g.size_xyz)}, spacing "
        f"{[round(s, 6) for s in g.spacing]}, {g.orientation_code()}, {volume.array.dtype}"
    )
    return 0
