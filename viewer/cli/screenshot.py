"""`screenshot PATH --out FILE.png [--label FILE] [--view ...] [--slice ...]`: render, without a
display, what the main window shows (the same slice views and 3D view, offscreen)."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("screenshot", help="render a view of an image to PNG, headless")
    p.add_argument("path", help="image file or DICOM folder")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--label", help="label file to overlay")
    p.add_argument(
        "--view",
        default="all",
        choices=("axial", "coronal", "sagittal", "3d", "all"),
        help="which view (all = the 2x2 window grid)",
    )
    p.add_argument(
        "--slice",
        default=None,
        help="crosshair: 'x,y,z' world LPS mm, or a slice number of the chosen view (0-based)",
    )
    p.add_argument("--series", default=None, help="series id when a DICOM folder holds several")
    p.add_argument("--size", type=int, default=512, help="pixels per view (default 512)")
    p.add_argument("--preset", default=None, help="window/level preset (e.g. Abdomen, Lung, Auto)")
    p.add_argument("--volume-preset", default=None, help="3D preset (e.g. Off, Auto, 'CT Bone')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from viewer.errors import RadLabelError
    from viewer.io import load_volume, open_labels
    from viewer.model.document import Document
    from viewer.qt.screenshot import ScreenshotRenderer, make_app, parse_slice, save_png

    if not 64 <= args.size <= 4096:
        raise RadLabelError(f"--size must be 64..4096, got {args.size}")
    volume = load_volume(args.path, series_uid=args.series)
    document = Document(volume)
    if args.label:
        notes: list[str] = []
        loaded = open_labels(volume, args.label, notes)  # every label format, names and colours
        document = Document(volume, loaded.labelmap)
        document.segments = loaded.segments
        document.segments.ensure(document.labels.values())
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    try:
        cursor = parse_slice(args.slice, document, args.view)
    except ValueError as e:
        raise RadLabelError(str(e), args.path) from None
    make_app()
    renderer = ScreenshotRenderer(document, size=args.size, cursor_world=cursor)
    try:
        if args.preset:
            try:
                renderer.window.apply_preset(args.preset)
            except ValueError as e:
                raise RadLabelError(str(e)) from None
        if args.volume_preset:
            try:
                renderer.window.view_3d.set_preset(args.volume_preset)
            except ValueError as e:
                raise RadLabelError(str(e)) from None
        rgb = renderer.render(args.view)
    finally:
        renderer.close()
    save_png(rgb, args.out)
    print(f"wrote {os.path.abspath(args.out)} ({rgb.shape[1]}x{rgb.shape[0]})")
    return 0
