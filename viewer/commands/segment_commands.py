"""Undoable changes to the segment table: add, remove, rename, recolour, show/hide, lock, move."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from viewer.commands.base import Command
from viewer.commands.label_edit import LabelEdit

if TYPE_CHECKING:
    from viewer.model.document import Document
    from viewer.model.segments import Segment


def _segment(doc: Document, segment_id: int) -> Segment:
    seg = doc.segments.get(segment_id)
    if seg is None:
        raise KeyError(f"no segment with id {segment_id}")
    return seg


class AddSegment(Command):
    """Add a segment (id chosen at first `do` unless given) at the end of the table."""

    def __init__(
        self,
        name: str | None = None,
        colour: tuple[int, int, int] | None = None,
        segment_id: int | None = None,
    ) -> None:
        self.seg_name = name
        self.colour = colour
        self.segment_id = segment_id
        self.name = f"Add segment {name}" if name else "Add segment"

    def do(self, doc: Document) -> None:
        seg = doc.segments.add(self.seg_name, self.colour, self.segment_id)
        self.segment_id = seg.id
        self.seg_name, self.colour = seg.name, seg.colour
        self.name = f"Add segment {seg.name}"
        doc.notify_segments_changed()

    def undo(self, doc: Document) -> None:
        doc.segments.remove(self.segment_id)
        doc.notify_segments_changed()


class RemoveSegment(Command):
    """Remove a segment and clear its voxels; undo puts both back where they were."""

    def __init__(self, segment_id: int) -> None:
        self.segment_id = segment_id
        self.name = "Remove segment"
        self._saved: Segment | None = None
        self._position = 0
        self._erase: LabelEdit | None = None
        self._prepared = False

    def do(self, doc: Document) -> None:
        seg = _segment(doc, self.segment_id)
        self.name = f"Remove segment {seg.name}"
        if not self._prepared:
            arr = doc.labels.array
            new = np.where(arr == self.segment_id, arr.dtype.type(0), arr)
            shape = arr.shape
            self._erase = LabelEdit.from_box(self.name, arr, (0, 0, 0, *shape), new)
            self._prepared = True
        self._saved = copy.copy(seg)
        self._position = doc.segments.segments.index(seg)
        if self._erase is not None:
            self._erase.do(doc)
        doc.segments.remove(self.segment_id)
        doc.notify_segments_changed()

    def undo(self, doc: Document) -> None:
        assert self._saved is not None
        doc.segments.segments.insert(self._position, copy.copy(self._saved))
        if self._erase is not None:
            self._erase.undo(doc)
        doc.notify_segments_changed()

    def nbytes(self) -> int:
        return self._erase.nbytes() if self._erase is not None else 100


class SetSegmentProperty(Command):
    """Change one attribute (name, colour, visible, locked) of a segment."""

    _LABELS = {"name": "Rename", "colour": "Recolour", "visible": "Show/hide", "locked": "Lock"}

    def __init__(self, segment_id: int, attribute: str, value) -> None:
        if attribute not in self._LABELS:
            raise ValueError(f"unknown segment attribute {attribute!r}")
        self.segment_id = segment_id
        self.attribute = attribute
        self.value = tuple(value) if attribute == "colour" else value
        self._old = None
        self.name = self._LABELS[attribute]

    def do(self, doc: Document) -> None:
        seg = _segment(doc, self.segment_id)
        self._old = getattr(seg, self.attribute)
        verb = self._LABELS[self.attribute]
        if self.attribute == "locked":
            verb = "Lock" if self.value else "Unlock"
        elif self.attribute == "visible":
            verb = "Show" if self.value else "Hide"
        self.name = f"{verb} {self._old if self.attribute == 'name' else seg.name}"
        setattr(seg, self.attribute, self.value)
        doc.notify_segments_changed()

    def undo(self, doc: Document) -> None:
        setattr(_segment(doc, self.segment_id), self.attribute, self._old)
        doc.notify_segments_changed()


def RenameSegment(segment_id: int, name: str) -> SetSegmentProperty:  # noqa: N802
    return SetSegmentProperty(segment_id, "name", name)


def RecolourSegment(segment_id: int, colour: tuple[int, int, int]) -> SetSegmentProperty:  # noqa: N802
    return SetSegmentProperty(segment_id, "colour", colour)


def LockSegment(segment_id: int, locked: bool = True) -> SetSegmentProperty:  # noqa: N802
    return SetSegmentProperty(segment_id, "locked", bool(locked))


def ShowSegment(segment_id: int, visible: bool = True) -> SetSegmentProperty:  # noqa: N802
    return SetSegmentProperty(segment_id, "visible", bool(visible))


class MoveSegment(Command):
    """Move a segment to another position in the display order."""

    def __init__(self, segment_id: int, new_position: int) -> None:
        self.segment_id = segment_id
        self.new_position = int(new_position)
        self._old_position = 0
        self.name = "Reorder segments"

    def do(self, doc: Document) -> None:
        seg = _segment(doc, self.segment_id)
        segs = doc.segments.segments
        self._old_position = segs.index(seg)
        segs.remove(seg)
        segs.insert(max(0, min(self.new_position, len(segs))), seg)
        self.name = f"Move {seg.name}"
        doc.notify_segments_changed()

    def undo(self, doc: Document) -> None:
        seg = _segment(doc, self.segment_id)
        segs = doc.segments.segments
        segs.remove(seg)
        segs.insert(self._old_position, seg)
        doc.notify_segments_changed()


class ReplaceSegmentTable(Command):
    """Swap in a whole new segment table (e.g. names and colours imported from a file)."""

    def __init__(self, segments: list[Segment], name: str = "Import colour table") -> None:
        self.new = [copy.copy(s) for s in segments]
        self.old: list[Segment] = []
        self.name = name

    def do(self, doc: Document) -> None:
        self.old = [copy.copy(s) for s in doc.segments.segments]
        doc.segments.segments[:] = [copy.copy(s) for s in self.new]
        doc.notify_segments_changed()

    def undo(self, doc: Document) -> None:
        doc.segments.segments[:] = [copy.copy(s) for s in self.old]
        doc.notify_segments_changed()
