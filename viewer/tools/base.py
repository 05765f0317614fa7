"""The tool contract: slice views turn mouse input into `ViewEvent`s; a tool answers with commands.

Views know nothing about tools' algorithms; tools know nothing about Qt. A view calls
`tool.on_press/on_move/on_release(event)` and, when a command comes back, hands it to the
application's history (`history.push(command)`), which applies it to the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.model.document import Document


@dataclass(frozen=True)
class ViewEvent:
    """A mouse event in a slice view, already mapped into the image grid.

    index_zyx: continuous voxel index under the cursor (z, y, x).
    axis: the array axis the view slices through (0 = z, 1 = y, 2 = x). For an image stored in
        axial order that is 0 for the axial view; a sagittal or coronal acquisition stores its
        slices along another array axis (viewer.model.display_frame.DisplayFrame.src_axis).
    view: the view's name ("axial", "coronal", "sagittal"); "" when not from a view.
    button: "left", "right" or "middle"; modifiers: subset of {"shift", "ctrl", "alt"}.
    """

    index_zyx: tuple[float, float, float]
    axis: int
    button: str = "left"
    modifiers: frozenset[str] = frozenset()
    view: str = ""

    @property
    def voxel(self) -> tuple[int, int, int]:
        return tuple(int(round(v)) for v in self.index_zyx)  # type: ignore[return-value]


class Tool:
    """Base class of editing tools. Subclasses override what they need; all return a command or None."""

    name = "tool"
    # True when the tool uses left-drag (views then do not pan/move the crosshair on left-drag).
    captures_left_drag = True

    def __init__(self, document: Document | None = None) -> None:
        self.document = document

    def set_document(self, document: Document | None) -> None:
        self.document = document

    def activate(self) -> None:
        """Called when the tool becomes the active one."""

    def deactivate(self) -> None:
        """Called when another tool takes over (e.g. to drop previews)."""

    def on_press(self, event: ViewEvent):
        return None

    def on_move(self, event: ViewEvent):
        return None

    def on_release(self, event: ViewEvent):
        return None
