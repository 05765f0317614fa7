"""The AI tool (Qt-free): clicks in a slice view become positive/negative clicks of an
interactive segmentation backend; the preview it answers with is accepted into the label map
as one undoable command.

Left click = positive, right click or Shift+click = negative. The tool keeps the click list
(voxel and world positions, for markers), the current preview (a full-size bool mask that
mirrors the session's segmentation) and a message for the user. The backend does the work
elsewhere (`viewer.services.ai_service.AIService` runs it on a worker thread); its answers come
back through `apply_result`, on the caller's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from segmentation_core.masks import BBox, box_slices, mask_bbox, union_box
from viewer.commands.base import Command
from viewer.commands.mask_apply import MaskMode, PaintOptions, edit_from_mask
from viewer.model.events import Event
from viewer.tools.base import Tool, ViewEvent
from viewer.tools.editor_state import EditorState


class ClickBackend(Protocol):
    """What the tool needs from the service that runs the session."""

    generation: int

    @property
    def busy(self) -> bool: ...

    def request_click(self, zyx: tuple[int, int, int], positive: bool = True) -> int | None: ...

    def request_undo(self) -> int | None: ...

    def request_reset(self) -> int | None: ...


class AIRequest(str, Enum):
    """What an answer of the backend answers (str-valued: it logs as text)."""

    PREPARE = "prepare"  # the engine is ready to answer at once, the image is set
    CLICK = "click"
    UNDO = "undo"  # the last click taken back
    RESET = "reset"  # all clicks dropped


class Answer(Protocol):
    """An answer of the backend (see `viewer.services.ai_service.AIResult`)."""

    kind: AIRequest
    request_id: int
    generation: int
    prediction: object
    error: str
    engine: str
    message: str


@dataclass(frozen=True)
class AIClick:
    """One click: voxel (z, y, x), sign, world position (LPS mm), and whether it is answered."""

    voxel: tuple[int, int, int]
    positive: bool
    world: tuple[float, float, float]
    request_id: int
    done: bool = False


class AITool(Tool):
    """Click-to-segment in the slice views. `changed` is emitted whenever clicks, preview or
    message change (panels and views redraw then)."""

    name = "ai"
    captures_left_drag = False  # a left drag still moves the crosshair

    def __init__(
        self,
        document=None,
        state: EditorState | None = None,
        backend: ClickBackend | None = None,
    ) -> None:
        super().__init__(document)
        self.state = state if state is not None else EditorState()
        self.backend = backend
        self.clicks: list[AIClick] = []
        self.preview: np.ndarray | None = None
        self.preview_box: BBox | None = None
        self.message = ""
        self.latency_s: float | None = None
        self.engine = ""
        self.active = False  # between activate() and deactivate(): views show the AI layer
        self.changed = Event()

    def activate(self) -> None:
        self.active = True
        self.changed.emit()

    def deactivate(self) -> None:
        # the clicks and preview stay: coming back to the tool continues the work
        self.active = False
        self.changed.emit()

    # --- document ------------------------------------------------------------------------------
    def set_document(self, document) -> None:
        if document is not self.document:
            self._clear()
        super().set_document(document)

    # --- mouse -----------------------------------------------------------------------------------
    def on_press(self, event: ViewEvent):
        if event.button == "left":
            positive = "shift" not in event.modifiers
        elif event.button == "right":
            positive = False
        else:
            return None
        self.add_click(event.voxel, positive)
        return None  # the command comes with accept()

    def add_click(self, voxel: tuple[int, int, int], positive: bool = True) -> bool:
        """Send a click to the backend; False (with `message` saying why) when it is refused."""
        doc = self.document
        if doc is None or self.backend is None:
            return self._say("Open an image first.", False)
        if not doc.volume.is_segmentable:
            return self._say("AI segmentation needs a single-channel image.", False)
        voxel = tuple(int(v) for v in voxel)
        if not doc.geometry.contains_index(voxel):
            return self._say("Click inside the image.", False)
        rid = self.backend.request_click(voxel, positive)  # type: ignore[arg-type]
        if rid is None:
            return self._say("Still computing the previous clicks: this click was ignored.", False)
        world = tuple(float(v) for v in doc.geometry.index_to_world(voxel))
        self.clicks.append(AIClick(voxel, bool(positive), world, rid))  # type: ignore[arg-type]
        return self._say("Segmenting...", True)

    # --- answers ---------------------------------------------------------------------------------
    def apply_result(self, result: Answer) -> None:
        """Take in an answer of the backend (drops answers of an earlier generation)."""
        if self.backend is not None and result.generation != self.backend.generation:
            return
        if result.engine:
            self.engine = result.engine
        notice = result.message
        if result.kind == AIRequest.CLICK:
            i = next(
                (k for k, c in enumerate(self.clicks) if c.request_id == result.request_id), -1
            )
            if result.error:
                if i >= 0:
                    del self.clicks[i]
                return self._announce(_join(notice, result.error))
            if i >= 0:
                c = self.clicks[i]
                self.clicks[i] = AIClick(c.voxel, c.positive, c.world, c.request_id, True)
            self._apply_prediction(result.prediction)
            self.latency_s = float(getattr(result.prediction, "latency_s", 0.0))
            return self._announce(_join(notice, self.status_text()))
        if result.kind == AIRequest.UNDO:
            if result.error:
                return self._announce(_join(notice, result.error))
            if result.prediction is not None:
                done = [k for k, c in enumerate(self.clicks) if c.done]
                if done:
                    del self.clicks[done[-1]]
                self._apply_prediction(result.prediction)
            return self._announce(_join(notice, self.status_text()))
        if result.error:
            return self._announce(_join(notice, result.error))
        if notice:
            self._announce(notice)

    def _apply_prediction(self, prediction) -> None:
        if prediction is None or self.document is None:
            return
        shape = self.document.geometry.shape_zyx
        if self.preview is None or self.preview.shape != tuple(shape):
            self.preview = np.zeros(shape, dtype=bool)
        bbox = tuple(int(v) for v in prediction.bbox)
        if any(b <= a for a, b in zip(bbox[:3], bbox[3:])):
            return
        self.preview[box_slices(bbox)] = prediction.mask  # type: ignore[arg-type]
        self.preview_box = union_box(self.preview_box, bbox)  # type: ignore[arg-type]

    # --- user actions ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.backend is not None and self.backend.busy

    def has_preview(self) -> bool:
        return self.preview is not None and self.preview_box is not None and self.preview.any()

    def undo_click(self) -> bool:
        """Take back the last click (refused while a prediction is running)."""
        if self.backend is None or not self.clicks:
            return self._say("No click to undo.", False)
        if self.backend.busy:
            return self._say("Wait for the prediction to finish, then undo.", False)
        if self.backend.request_undo() is None:
            return self._say("No click to undo.", False)
        return self._say("Undoing the last click...", True)

    def reject(self) -> None:
        """Drop clicks and preview; the session starts afresh."""
        had = bool(self.clicks) or self.has_preview()
        self._clear()
        if self.backend is not None:
            self.backend.request_reset()
        self._say("AI segmentation discarded." if had else "", True)

    def accept(self) -> Command | None:
        """The one undoable command that puts the preview into the active segment, or None.

        Locked segments are never changed; other segments only when the overwrite option is
        on. The intensity-range limit of painting tools does not apply to AI results.
        """
        if self.busy:
            return self._say("Wait for the prediction to finish, then accept.", None)
        if self.document is None or not self.has_preview():
            return self._say("Nothing to accept: click on a structure first.", None)
        doc = self.document
        sid = self.state.active_segment_id
        seg = doc.segments.get(sid) if sid is not None else None
        if seg is None:
            return self._say("Choose a segment to accept the AI result into.", None)
        if seg.locked:
            return self._say(f"Segment {seg.name} is locked: unlock it or choose another.", None)
        sl = box_slices(self.preview_box)
        inner = mask_bbox(self.preview[sl])
        box = tuple(a + b for a, b in zip(self.preview_box[:3] * 2, inner))  # type: ignore[operator]
        options = PaintOptions(overwrite_others=self.state.overwrite_others)
        command = edit_from_mask(
            doc,
            box,  # type: ignore[arg-type]
            self.preview[box_slices(box)],  # type: ignore[arg-type]
            seg.id,
            MaskMode.ADD,
            options,
            f"AI segmentation on {seg.name}",
        )
        if command is None:
            return self._say(
                f"Nothing to add to {seg.name}: the result lies in locked or other segments"
                " (see the overwrite option), or is already labelled.",
                None,
            )
        self._clear()
        if self.backend is not None:
            self.backend.request_reset()
        self._say(f"Accepted into {seg.name} ({command.count} voxels).", None)
        return command

    # --- display helpers ---------------------------------------------------------------------
    def points_world(self, positive: bool) -> np.ndarray:
        """(N, 3) world positions of the positive or negative clicks (markers)."""
        pts = [c.world for c in self.clicks if c.positive == positive]
        return np.asarray(pts, dtype=float).reshape(-1, 3)

    def preview_colour(self) -> tuple[int, int, int]:
        doc, sid = self.document, self.state.active_segment_id
        seg = doc.segments.get(sid) if doc is not None and sid is not None else None
        return tuple(seg.colour) if seg is not None else (255, 255, 0)  # type: ignore[return-value]

    def status_text(self) -> str:
        n = len(self.clicks)
        text = f"{n} click{'s' if n != 1 else ''}"
        if self.latency_s is not None and n:
            text += f", last {self.latency_s:.2f} s"
        if self.engine:
            text += f" ({self.engine})"
        if n and self.has_preview():
            text += ". Enter accepts, Esc rejects."
        return text

    # --- internals ---------------------------------------------------------------------------
    def _clear(self) -> None:
        self.clicks = []
        self.preview = None
        self.preview_box = None
        self.latency_s = None

    def _say(self, message: str, value):
        self.message = message
        self.changed.emit()
        return value

    def _announce(self, message: str) -> None:
        self.message = message
        self.changed.emit()


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)
