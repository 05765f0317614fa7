"""Import segment names and colours: JSON maps, ITK-SNAP label descriptions, Slicer colour tables.

Every reader returns a list of `Segment`s; `apply_colour_table` merges them into a table
(names/colours of matching ids are replaced, new ids added). Bad files raise LoadError naming
the file and the line.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

from viewer.errors import LoadError
from viewer.model.segments import Segment, SegmentTable, default_colour


def _colour(values, path, where) -> tuple[int, int, int]:
    try:
        c = [float(v) for v in values][:3]
    except (TypeError, ValueError):
        raise LoadError(f"{where}: colour {values!r} is not numeric", path) from None
    if len(c) != 3:
        raise LoadError(f"{where}: colour needs three components", path)
    if all(0 <= v <= 1 for v in c) and any(0 < v < 1 for v in c):
        c = [v * 255 for v in c]  # 0..1 floats
    if any(v < 0 or v > 255 for v in c):
        raise LoadError(f"{where}: colour components must lie in 0..255", path)
    return tuple(int(round(v)) for v in c)  # type: ignore[return-value]


def _id(text, path, where) -> int:
    try:
        i = int(text)
    except (TypeError, ValueError):
        raise LoadError(f"{where}: label value {text!r} is not an integer", path) from None
    if not 0 <= i <= 65535:
        raise LoadError(f"{where}: label value {i} is outside 0..65535", path)
    return i


def read_json_map(path: str | Path) -> list[Segment]:
    """{"1": "liver"} or {"1": {"name": .., "color": [r, g, b]}}, optionally under "labels"."""
    p = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LoadError(f"not a readable JSON file ({e})", p) from None
    except RecursionError:
        raise LoadError("not a usable names file: JSON nested too deeply", p) from None
    if isinstance(data, dict) and isinstance(data.get("labels"), (dict, list)):
        data = data["labels"]
    if isinstance(data, list):
        items = [(d.get("id", d.get("value")), d) for d in data if isinstance(d, dict)]
    elif isinstance(data, dict):
        items = list(data.items())
    else:
        raise LoadError("expected an object mapping label values to names", p)
    out = []
    for key, val in items:
        sid = _id(key, p, f"entry {key!r}")
        if sid == 0:
            continue
        if isinstance(val, str):
            out.append(Segment(sid, val, default_colour(sid)))
        elif isinstance(val, dict):
            name = str(val.get("name", f"Segment {sid}"))
            col = val.get("color", val.get("colour"))
            colour = _colour(col, p, f"entry {key!r}") if col is not None else default_colour(sid)
            out.append(Segment(sid, name, colour))
        else:
            raise LoadError(f"entry {key!r}: expected a name or an object", p)
    if not out:
        raise LoadError("no labels found", p)
    return out


def read_itksnap(path: str | Path) -> list[Segment]:
    """ITK-SNAP label description: `IDX R G B A VIS MSH "LABEL"` per line, '#' comments."""
    p = str(path)
    out = []
    for n, line in enumerate(_lines(path), start=1):
        try:
            parts = shlex.split(line)
        except ValueError as e:
            raise LoadError(f"line {n}: {e}", p) from None
        if len(parts) < 8:
            raise LoadError(f"line {n}: expected 8 fields (IDX R G B A VIS MSH LABEL)", p)
        sid = _id(parts[0], p, f"line {n}")
        if sid == 0:
            continue
        colour = _colour(parts[1:4], p, f"line {n}")
        visible = parts[5] != "0"
        out.append(Segment(sid, parts[7], colour, visible=visible))
    if not out:
        raise LoadError("no labels found", p)
    return out


def read_slicer_ctbl(path: str | Path) -> list[Segment]:
    """3D Slicer colour table (.ctbl/.txt): `id name r g b a` per line, '#' comments."""
    p = str(path)
    out = []
    for n, line in enumerate(_lines(path), start=1):
        parts = line.split()
        if len(parts) < 5:
            raise LoadError(f"line {n}: expected 'id name r g b a'", p)
        sid = _id(parts[0], p, f"line {n}")
        if sid == 0:
            continue
        out.append(Segment(sid, parts[1], _colour(parts[2:5], p, f"line {n}")))
    if not out:
        raise LoadError("no labels found", p)
    return out


def read_value_name_table(path: str | Path) -> list[Segment]:
    """A plain `value name...` table: SynthSeg's labels_table.txt (free text above the rows,
    names with spaces) or FreeSurfer's colour LUT (`value Name R G B A`, colours taken).
    Lines that do not start with an integer are prose and skipped."""
    p = str(path)
    out = []
    for n, line in enumerate(_lines(path), start=1):
        parts = line.split()
        if len(parts) < 2 or not parts[0].lstrip("-").isdigit():
            continue
        sid = _id(parts[0], p, f"line {n}")
        if sid == 0:
            continue
        rest = parts[1:]
        colour = default_colour(sid)
        if len(rest) >= 5 and all(v.isdigit() for v in rest[-4:]):
            colour = _colour(rest[-4:-1], p, f"line {n}")
            rest = rest[:-4]
        out.append(Segment(sid, " ".join(rest), colour))
    if not out:
        raise LoadError("no 'value name' rows found", p)
    return out


def read_names_table(path: str | Path) -> list[Segment]:
    """Names kept beside label maps: JSON, ITK-SNAP (quoted names), else `value name` rows."""
    return read_colour_table(path, plain=read_value_name_table)


def read_colour_table(
    path: str | Path, plain: Callable[[str | Path], list[Segment]] | None = None
) -> list[Segment]:
    """Pick the reader by content: JSON, ITK-SNAP (quoted names) or, for the rest, `plain`
    (a Slicer table by default)."""
    text = "".join(_lines(path))
    if text.lstrip().startswith(("{", "[")):
        return read_json_map(path)
    if '"' in text:
        return read_itksnap(path)
    return (plain or read_slicer_ctbl)(path)


def apply_colour_table(table: SegmentTable, imported: list[Segment]) -> list[Segment]:
    """The segments `table` would hold after importing: matching ids renamed/recoloured,
    new ids appended; existing order, visibility and locks are kept."""
    out = [Segment(s.id, s.name, s.colour, s.visible, s.locked) for s in table]
    by_id = {s.id: s for s in out}
    for imp in imported:
        cur = by_id.get(imp.id)
        if cur is None:
            by_id[imp.id] = s = Segment(imp.id, imp.name, imp.colour, imp.visible)
            out.append(s)
        else:
            cur.name, cur.colour = imp.name, imp.colour
    return out


def _lines(path: str | Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise LoadError(f"cannot read ({e.strerror or e})", str(path)) from None
    return [ln for ln in (x.strip() for x in text.splitlines()) if ln and not ln.startswith("#")]
