"""`info PATH [--json]`: the series in a file or folder and the loaded volume's geometry.

JSON keys are stable (external scripts read them): path, kind, series, skipped, volume.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from viewer.cli import strict_json
from viewer.io import load_volume_from_scan, scan_dicom_folder
from viewer.io.loader import load_volume
from viewer.io.volume_files import is_volume_file
from viewer.model.volume import MetaKey, Volume


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("info", help="describe an image file or a DICOM folder")
    p.add_argument("path", help="image file, DICOM file or DICOM folder")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--series", default=None, help="series id / SeriesInstanceUID to describe")
    p.add_argument("--time", type=int, default=0, help="time point (or component) of 4D data")
    p.set_defaults(func=run)


def volume_info(volume: Volume) -> dict:
    g = volume.geometry
    lo, hi = volume.value_range()
    meta = volume.metadata
    warnings = list(meta.get(MetaKey.WARNINGS, []))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        # JSON has no Infinity/NaN: report the range of the finite values and say so
        finite = volume.array[np.isfinite(volume.array)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
        warnings.append("values include infinity or NaN: value range of the finite values")
    return {
        "size": list(g.size_xyz),
        "spacing": list(g.spacing),
        "origin": list(g.origin),
        "direction": np.asarray(g.direction).tolist(),
        "orientation": g.orientation_code(),
        "modality": volume.modality,
        "pixel_type": str(volume.array.dtype),
        "components": int(volume.array.shape[3]) if volume.array.ndim == 4 else 1,
        "value_range": [lo, hi],
        "segmentable": volume.is_segmentable,
        "time_points": int(meta.get(MetaKey.TIME_POINTS, 1)),
        "time_index": int(meta.get(MetaKey.TIME_INDEX, 0)),
        "series_id": meta.get(MetaKey.SERIES_ID),
        "warnings": warnings,
    }


def collect(path: str, series: str | None = None, time_index: int = 0) -> dict:
    """Everything `info` reports, as the dict printed with --json."""
    path = os.fspath(path)
    if os.path.isfile(path) and is_volume_file(path):
        volume = load_volume(path, time_index=time_index)
        return {
            "path": path,
            "kind": "file",
            "series": [],
            "skipped": [],
            "volume": volume_info(volume),
        }
    scan = scan_dicom_folder(path)
    found = scan.all_series()
    out: dict = {
        "path": path,
        "kind": "dicom",
        "series": [s.to_dict() for s in found],
        "skipped": [{"path": s.path, "reason": s.reason} for s in scan.skipped],
        "volume": None,
    }
    if series is not None or len(found) == 1:
        out["volume"] = volume_info(load_volume_from_scan(scan, series, time_index))
    elif not found:
        # Same error as loading: names the folder and why nothing is loadable.
        load_volume_from_scan(scan, None, time_index)
    return out


def run(args: argparse.Namespace) -> int:
    info = collect(args.path, args.series, args.time)
    if args.json:
        print(strict_json.dumps(info, indent=2))
    else:
        print(format_text(info))
    return 0


def format_text(info: dict) -> str:
    lines = [f"{info['path']} ({info['kind']})"]
    for s in info["series"]:
        g = s["geometry"]
        t = f" x {s['time_points']} time points" if s["time_points"] > 1 else ""
        lines.append(
            f"  series {s['series_id']}  #{s['series_number']} {s['modality']} "
            f"'{s['description']}' {s['date']}: {s['slices']} slices{t}, size {g['size']}, "
            f"{g['orientation']}"
        )
        lines += [f"    warning: {w}" for w in s["warnings"]]
    if info["skipped"]:
        lines.append(f"  skipped {len(info['skipped'])} files:")
        lines += [f"    {k['path']}: {k['reason']}" for k in info["skipped"][:20]]
        if len(info["skipped"]) > 20:
            lines.append(f"    ... and {len(info['skipped']) - 20} more")
    v = info["volume"]
    if v is not None:
        fmt = ", ".join
        lines += [
            "  volume:",
            f"    size         {v['size']} (x, y, z)",
            f"    spacing      {fmt(f'{s:.6g}' for s in v['spacing'])} mm",
            f"    origin       {fmt(f'{o:.6g}' for o in v['origin'])} mm (LPS)",
            f"    direction    {v['direction']}",
            f"    orientation  {v['orientation']}",
            f"    modality     {v['modality'] or '-'}",
            f"    pixel type   {v['pixel_type']}"
            + (f" x {v['components']} components" if v["components"] > 1 else ""),
            "    value range  "
            + " .. ".join("-" if x is None else f"{x:.6g}" for x in v["value_range"]),
        ]
        if v["time_points"] > 1:
            lines.append(f"    time point   {v['time_index']} of {v['time_points']}")
        if not v["segmentable"]:
            lines.append("    colour image: not segmentable as intensity")
    elif len(info["series"]) > 1:
        lines.append("  (several series: pass --series ID to describe one volume)")
    return "\n".join(lines)
