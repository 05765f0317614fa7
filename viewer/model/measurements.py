"""Measurements drawn on slices (ruler, elliptical and rectangular ROI, angle): the Qt-free data
model and the document's ordered set of them.

Points are LPS world millimetres (x, y, z), so a measurement keeps its place when the labels are
opened on another grid; `view` names the slice orientation it was drawn in ("axial", "coronal",
"sagittal"), where it is shown on the slice its points lie on. Changes go through
`viewer.commands.measurement_commands` so they are undoable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.model.events import Event

# kind -> number of points: a ruler's two ends, an ROI's two opposite corners (of its bounding
# box in the view), an angle's three points (the vertex in the middle)
POINT_COUNT: dict[str, int] = {"ruler": 2, "ellipse": 2, "rectangle": 2, "angle": 3}
KIND_TITLES: dict[str, str] = {
    "ruler": "Ruler",
    "ellipse": "Ellipse ROI",
    "rectangle": "Rectangle ROI",
    "angle": "Angle",
}
MEASUREMENT_VIEWS: tuple[str, str, str] = ("axial", "coronal", "sagittal")


@dataclass(frozen=True)
class Measurement:
    """One measurement: `points` are (x, y, z) LPS mm tuples, `POINT_COUNT[kind]` of them."""

    id: int
    kind: str
    view: str
    points: tuple[tuple[float, float, float], ...]
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in POINT_COUNT:
            raise ValueError(f"unknown measurement kind {self.kind!r}")
        if self.view not in MEASUREMENT_VIEWS:
            raise ValueError(f"unknown view {self.view!r}")
        pts = tuple(tuple(float(c) for c in p) for p in self.points)
        if len(pts) != POINT_COUNT[self.kind] or any(len(p) != 3 for p in pts):
            raise ValueError(f"a {self.kind} needs {POINT_COUNT[self.kind]} points (x, y, z)")
        if not np.all(np.isfinite(np.asarray(pts))):
            raise ValueError("measurement points must be finite numbers")
        object.__setattr__(self, "points", pts)

    def with_points(self, points) -> Measurement:
        return Measurement(self.id, self.kind, self.view, tuple(points), self.name)

    def points_array(self) -> np.ndarray:
        return np.asarray(self.points, dtype=float)


class MeasurementSet:
    """The document's measurements in creation order; `changed` is emitted after each change."""

    def __init__(self) -> None:
        self._items: dict[int, Measurement] = {}
        self.changed = Event()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items.values()))

    def __contains__(self, mid: int) -> bool:
        return mid in self._items

    def get(self, mid: int) -> Measurement | None:
        return self._items.get(mid)

    def ids(self) -> list[int]:
        return list(self._items)

    def next_id(self) -> int:
        return max(self._items, default=0) + 1

    def add(self, m: Measurement, position: int | None = None) -> None:
        """Insert `m` (at `position` in the order, default last); its id must be new."""
        if m.id in self._items:
            raise ValueError(f"measurement {m.id} exists")
        items = list(self._items.values())
        items.insert(len(items) if position is None else position, m)
        self._items = {x.id: x for x in items}
        self.changed.emit()

    def remove(self, mid: int) -> tuple[Measurement, int]:
        """Remove measurement `mid`; returns it and where it was (for undo)."""
        position = list(self._items).index(mid)
        m = self._items.pop(mid)
        self.changed.emit()
        return m, position

    def replace(self, m: Measurement) -> Measurement:
        """Put `m` in place of the measurement with its id; returns the old one."""
        old = self._items[m.id]
        self._items[m.id] = m
        self.changed.emit()
        return old

    def set_all(self, measurements) -> list[Measurement]:
        """Replace every measurement; returns the old list."""
        old = list(self._items.values())
        self._items = {m.id: m for m in measurements}
        self.changed.emit()
        return old
