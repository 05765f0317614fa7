"""Parsing a typed position for *Go to*: a voxel index (i, j, k) = (x, y, z) as in the status
bar, or a world point in millimetres, LPS (as the status bar) or RAS (as NIfTI tools show it).
Every problem is a ValueError with one line for the user."""

from __future__ import annotations

import re

import numpy as np

from viewer.model.geometry import Geometry

MODES = {
    "voxel": "Voxel index i, j, k",
    "lps": "World x, y, z mm (LPS)",
    "ras": "World x, y, z mm (RAS)",
}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_numbers(text: str) -> tuple[float, float, float]:
    """Three numbers separated by commas and/or spaces (brackets allowed)."""
    parts = [p for p in re.split(r"[,\s;]+", text.strip().strip("()[]").strip()) if p]
    if len(parts) != 3 or not all(_NUMBER.match(p) for p in parts):
        raise ValueError(f"type three numbers separated by commas, e.g. 10, 20, 5 (got {text!r})")
    return tuple(float(p) for p in parts)  # type: ignore[return-value]


def goto_world(text: str, mode: str, geometry: Geometry) -> np.ndarray:
    """The LPS world point (x, y, z mm) `text` names in `mode` ("voxel", "lps" or "ras");
    ValueError when it cannot be read or lies outside the image."""
    a, b, c = parse_numbers(text)
    nz, ny, nx = geometry.shape_zyx
    if mode == "voxel":
        if not all(float(v).is_integer() for v in (a, b, c)):
            raise ValueError(f"voxel indices are whole numbers (got {a:g}, {b:g}, {c:g})")
        if not (0 <= a < nx and 0 <= b < ny and 0 <= c < nz):
            raise ValueError(
                f"voxel ({a:g}, {b:g}, {c:g}) is outside the image: i 0-{nx - 1}, "
                f"j 0-{ny - 1}, k 0-{nz - 1}"
            )
        return geometry.index_to_world((c, b, a))
    if mode not in ("lps", "ras"):
        raise ValueError(f"unknown mode {mode!r}")
    world = np.array([a, b, c], dtype=float)
    if mode == "ras":
        world[:2] *= -1  # RAS -> LPS: x and y change sign
    idx = geometry.world_to_index(world)
    if not np.all((idx >= -0.5) & (idx <= np.asarray(geometry.shape_zyx) - 0.5)):
        lo, hi = geometry.world_bounds()
        if mode == "ras":
            lo, hi = lo * (-1, -1, 1), hi * (-1, -1, 1)
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        rng = ", ".join(f"{x0:.1f} to {x1:.1f}" for x0, x1 in zip(lo, hi, strict=True))
        raise ValueError(
            f"({a:g}, {b:g}, {c:g}) mm {mode.upper()} is outside the image (x, y, z: {rng})"
        )
    return world
