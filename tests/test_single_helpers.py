"""One copy of each shared helper (issue 18, item 5): the source defines each family once."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAMILIES = {
    # family: (pattern of a definition, where the one definition lives)
    "box helpers": (
        r"^def _?(mask_bbox|bbox_of|union_bbox|union_box|_?union|offset_box|box_slices|slices|sl)\(",
        {"segmentation_core/masks.py": 4},
    ),
    "BBox alias": (r"^BBox\s*=", {"segmentation_core/types.py": 1}),
    "click simulator": (
        r"^def (next_click|first_click)\(",
        {"segmentation_core/evaluation/clicker.py": 2},
    ),
    "Dice": (r"^def _?dice\(", {"segmentation_core/masks.py": 1}),
    "26-connectivity": (r"np\.ones\(\(3, 3, 3\)", {"segmentation_core/masks.py": 1}),
    "view -> axis map": (r'"axial": 0\b|0: "axial"', {"viewer/model/display_frame.py": 0}),
    "plane colours": (r'"axial": \(\d', {"viewer/model/display_frame.py": 1}),
}


def _definitions(pattern: str) -> dict[str, int]:
    found: dict[str, int] = {}
    rx = re.compile(pattern, re.MULTILINE)
    for root in ("segmentation_core", "viewer"):
        for f in sorted((REPO / root).rglob("*.py")):
            n = len(rx.findall(f.read_text(encoding="utf-8")))
            if n:
                found[f.relative_to(REPO).as_posix()] = n
    return found


def test_each_helper_family_is_defined_once():
    got = {name: _definitions(pattern) for name, (pattern, _) in FAMILIES.items()}
    want = {name: {f: n for f, n in where.items() if n} for name, (_, where) in FAMILIES.items()}
    assert got == want
