"""Qt-free command objects and the app-wide undo history."""

from viewer.commands.base import Command, CompositeCommand
from viewer.commands.history import History
from viewer.commands.label_edit import LabelEdit, StrokeCommand
from viewer.commands.mask_apply import MaskMode, PaintOptions, edit_from_mask

__all__ = [
    "Command",
    "CompositeCommand",
    "History",
    "LabelEdit",
    "MaskMode",
    "PaintOptions",
    "StrokeCommand",
    "edit_from_mask",
]
