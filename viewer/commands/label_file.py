"""Undoable steps that tie the labels to a file: which file Ctrl+S writes to (`SetLabelPath`),
opening a label file onto the open image (`open_labels_command`) and putting recovered labels
back (`restore_labels_command`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from viewer.commands.base import Command, CompositeCommand
from viewer.commands.label_edit import LabelEdit
from viewer.commands.segment_commands import ReplaceSegmentTable
from viewer.model.segments import Segment

if TYPE_CHECKING:
    from viewer.model.document import Document


class SetLabelPath(Command):
    """Which file Ctrl+S writes to; undone with the labels it came with."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.old = ""
        self.name = "Set label file"

    def do(self, doc: Document) -> None:
        self.old, doc.label_path = doc.label_path, self.path

    def undo(self, doc: Document) -> None:
        doc.label_path = self.old


def open_labels_command(
    doc: Document, loaded, path: str | os.PathLike, writable: bool = True
) -> Command:
    """One undoable step that puts labels read by `viewer.io.open_labels` into `doc`: the
    label map, the segment table (the file's names and colours; for a file without names the
    open document's names for the same values; visibility and locks of those values kept) and
    the file Ctrl+S saves to: `path` when its format can be `writable`, else none (formats that
    are only read: MetaImage, DICOM SEG)."""

    labels = loaded.labelmap
    table = loaded.segments
    table.ensure(labels.values())
    segments = []
    for s in table:
        old = doc.segments.get(s.id)
        name, colour = (s.name, s.colour) if loaded.named or old is None else (old.name, old.colour)
        visible, locked = (old.visible, old.locked) if old is not None else (True, False)
        segments.append(Segment(s.id, name, colour, visible, locked))
    path = os.fspath(path)
    save_path = path if writable else ""
    name = f"Open labels {os.path.basename(path)}"
    cmds: list[Command] = [ReplaceSegmentTable(segments, name), SetLabelPath(save_path)]
    full = (0, 0, 0, *doc.labels.array.shape)
    edit = LabelEdit.from_box(name, doc.labels.array, full, labels.array)
    if edit is not None:
        cmds.append(edit)
    return CompositeCommand(name, cmds)


def restore_labels_command(
    doc: Document, labels: np.ndarray, segments, label_path: str = ""
) -> Command:
    """One undoable step that puts recovered labels and segments into `doc`; `label_path`, when
    given, becomes the file Ctrl+S writes to again."""
    full = (0, 0, 0, *doc.labels.array.shape)
    edit = LabelEdit.from_box("Recover labels", doc.labels.array, full, labels)
    cmds: list[Command] = [ReplaceSegmentTable(segments, "Recover segments")]
    if label_path:
        cmds.append(SetLabelPath(label_path))
    if edit is not None:
        cmds.append(edit)
    return CompositeCommand("Recover autosaved labels", cmds)
