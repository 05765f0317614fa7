"""The segment table: id, name, colour, visibility and lock of each label value."""

from __future__ import annotations

from dataclasses import dataclass, field

# The default palette: saturated, distinct hues that stand out on any grey (CT, a bright FLAIR
# alike): every colour's chroma (max - min channel) is at least 150 of 255, so no grey level is
# near it, and neighbours differ in hue by 40 degrees or more (a pale colour vanishes on bright
# MR).
DEFAULT_COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 48, 48),  # red
    (40, 200, 255),  # sky blue
    (60, 220, 60),  # green
    (255, 190, 0),  # amber
    (190, 60, 255),  # violet
    (0, 220, 170),  # teal
    (255, 110, 0),  # orange
    (70, 100, 255),  # blue
    (150, 230, 0),  # lime
    (255, 50, 200),  # magenta
)


def default_colour(segment_id: int) -> tuple[int, int, int]:
    return DEFAULT_COLOURS[(segment_id - 1) % len(DEFAULT_COLOURS)]


@dataclass
class Segment:
    id: int
    name: str
    colour: tuple[int, int, int]
    visible: bool = True
    locked: bool = False


class _SegmentList(list):
    """The table's list; every change bumps `version`, so the id index knows when to rebuild
    (commands reorder and replace the list directly, and a label can hold 65,535 segments)."""

    version = 0

    def _changed(self) -> None:
        self.version += 1


def _mutator(name: str):
    method = getattr(list, name)

    def wrapped(self, *args, **kwargs):
        self._changed()
        return method(self, *args, **kwargs)

    wrapped.__name__ = name
    return wrapped


for _name in (
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "clear",
    "sort",
    "reverse",
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
):
    setattr(_SegmentList, _name, _mutator(_name))


@dataclass
class SegmentTable:
    """Ordered segments keyed by label value; order is the display order. Look-ups by id go
    through an index, so building or checking a table is proportional to its size."""

    segments: list[Segment] = field(default_factory=list)

    def __setattr__(self, name: str, value) -> None:
        if name == "segments" and not isinstance(value, _SegmentList):
            value = _SegmentList(value)
        object.__setattr__(self, name, value)

    def _index(self) -> dict[int, Segment]:
        segs = self.segments
        key = (id(segs), segs.version)  # type: ignore[attr-defined]
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] != key:
            index: dict[int, Segment] = {}
            for s in segs:
                index.setdefault(s.id, s)  # the first one wins, as a linear search would
            cached = (key, index)
            object.__setattr__(self, "_index_cache", cached)
        return cached[1]

    def __iter__(self):
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.segments)

    def get(self, segment_id: int) -> Segment | None:
        seg = self._index().get(segment_id)
        if seg is not None and seg.id != segment_id:  # a segment's id was changed in place
            self.__dict__.pop("_index_cache", None)
            seg = self._index().get(segment_id)
        return seg

    def ids(self) -> list[int]:
        return [s.id for s in self.segments]

    def next_free_id(self) -> int:
        used = self._index()
        i = 1
        while i in used:
            i += 1
        return i

    def add(
        self,
        name: str | None = None,
        colour: tuple[int, int, int] | None = None,
        segment_id: int | None = None,
    ) -> Segment:
        sid = self.next_free_id() if segment_id is None else int(segment_id)
        if sid <= 0 or sid > 65535:
            raise ValueError(f"segment id must be 1..65535, got {sid}")
        if self.get(sid) is not None:
            raise ValueError(f"segment id {sid} already exists")
        seg = Segment(sid, name or f"Segment {sid}", colour or default_colour(sid))
        index = self._index()
        self.segments.append(seg)
        index[sid] = seg  # keep the index current rather than rebuild it per added segment
        segs = self.segments
        object.__setattr__(self, "_index_cache", ((id(segs), segs.version), index))  # type: ignore[attr-defined]
        return seg

    def remove(self, segment_id: int) -> Segment:
        seg = self.get(segment_id)
        if seg is None:
            raise KeyError(segment_id)
        self.segments.remove(seg)
        return seg

    def locked_ids(self) -> list[int]:
        return [s.id for s in self.segments if s.locked]

    def ensure(self, values) -> None:
        """Add default entries for label values present in a label map but not in the table."""
        for v in values:
            if v and self.get(int(v)) is None:
                self.add(segment_id=int(v))
        self.segments.sort(key=lambda s: s.id)
