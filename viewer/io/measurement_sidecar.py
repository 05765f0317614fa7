"""The measurements sidecar: `<labels file>.measurements.json`, written atomically beside the
labels and read back with them.

Format (version 1), world coordinates in LPS millimetres so the measurements keep their place
on any grid::

    {"format": "radlabel-measurements", "version": 1, "coordinates": "LPS mm",
     "measurements": [{"kind": "ruler", "name": "Ruler 1", "view": "axial",
                       "points": [[x, y, z], [x, y, z]], "value": "12.3 mm"}, ...]}

`value` is written for people reading the file and ignored on reading (values are recomputed
from the image). Reading is strict: anything else is a `LoadError` naming the file and the
first problem found.
"""

from __future__ import annotations

import json
import math
import os
import stat

from viewer.errors import LoadError
from viewer.io.atomic_save import atomic_write_text
from viewer.model.measurements import MEASUREMENT_VIEWS, POINT_COUNT, Measurement

FORMAT = "radlabel-measurements"
VERSION = 1
SUFFIX = ".measurements.json"
MAX_BYTES = 16 * 1024 * 1024  # a sidecar of thousands of measurements is far below this
MAX_COUNT = 100_000
MAX_NAME = 200
MAX_COORD_MM = 1e6  # a kilometre: any scanner's world fits; beyond it drawing overflows


def sidecar_path(label_path: str | os.PathLike) -> str:
    """Where the measurements of the labels at `label_path` are kept."""
    return os.fspath(label_path) + SUFFIX


def save_measurements(
    path: str | os.PathLike, measurements, values: dict[int, str] | None = None
) -> None:
    """Write `measurements` to the sidecar file `path` atomically (SaveError on failure)."""
    values = values or {}
    items = [
        {
            "kind": m.kind,
            "name": m.name,
            "view": m.view,
            "points": [list(p) for p in m.points],
            **({"value": values[m.id]} if m.id in values else {}),
        }
        for m in measurements
    ]
    doc = {"format": FORMAT, "version": VERSION, "coordinates": "LPS mm", "measurements": items}
    atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def load_measurements(path: str | os.PathLike) -> list[Measurement]:
    """Read and validate a sidecar; ids are numbered 1, 2, ... in file order."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the open, a device never end
            raise LoadError("cannot read measurements (not a regular file)", path)
        if st.st_size > MAX_BYTES:
            raise LoadError(f"measurements file too large ({st.st_size} bytes)", path)
        with open(path, "rb") as f:
            data = json.loads(f.read(MAX_BYTES + 1).decode("utf-8"))
    except LoadError:
        raise
    except OSError as e:
        raise LoadError(f"cannot read measurements ({e.strerror or e})", path) from e
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise LoadError(f"not a valid JSON measurements file ({_short(e)})", path) from e
    return _parse(data, path)


def _parse(data, path: str) -> list[Measurement]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LoadError(f'not a RadLabel measurements file (no "format": "{FORMAT}")', path)
    if data.get("version") != VERSION:
        raise LoadError(f"unsupported measurements version {data.get('version')!r}", path)
    if data.get("coordinates", "LPS mm") != "LPS mm":
        raise LoadError(f"unsupported coordinates {data.get('coordinates')!r}", path)
    items = data.get("measurements")
    if not isinstance(items, list):
        raise LoadError('"measurements" must be a list', path)
    if len(items) > MAX_COUNT:
        raise LoadError(f"too many measurements ({len(items)}, at most {MAX_COUNT})", path)
    out = []
    for i, item in enumerate(items, start=1):
        where = f"measurement {i}"
        if not isinstance(item, dict):
            raise LoadError(f"{where} is not an object", path)
        kind = item.get("kind")
        if kind not in POINT_COUNT:
            raise LoadError(f"{where}: unknown kind {_clip(kind)}", path)
        view = item.get("view")
        if view not in MEASUREMENT_VIEWS:
            raise LoadError(f"{where}: unknown view {_clip(view)}", path)
        name = item.get("name", "")
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise LoadError(
                f"{where}: the name must be text of at most {MAX_NAME} characters", path
            )
        points = item.get("points")
        n = POINT_COUNT[kind]
        if not (
            isinstance(points, list)
            and len(points) == n
            and all(isinstance(p, list) and len(p) == 3 and all(map(_finite, p)) for p in points)
        ):
            raise LoadError(f"{where}: a {kind} needs {n} points of 3 finite numbers (mm)", path)
        farthest = max(abs(float(c)) for p in points for c in p)
        if farthest > MAX_COORD_MM:
            raise LoadError(
                f"{where}: a point lies {farthest:.3g} mm from the origin (at most 1 km)", path
            )
        out.append(
            Measurement(i, kind, view, tuple(tuple(float(c) for c in p) for p in points), name)
        )
    return out


def _finite(v) -> bool:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer too large for a float
        return False


def _clip(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _short(e: Exception) -> str:
    text = (str(e).splitlines() or [""])[0] if isinstance(e, ValueError) else ""
    return (text or type(e).__name__)[:80]
