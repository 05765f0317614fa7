"""The app-wide undo/redo history: applies commands, merges strokes, keeps a byte budget."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from viewer.commands.base import Command
from viewer.model.events import Event

if TYPE_CHECKING:
    from viewer.model.document import Document

log = logging.getLogger(__name__)

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


class History:
    """Undo and redo stacks of commands for one document.

    `push` applies a command and records it; a new command clears the redo stack; when the
    recorded commands hold more than `budget_bytes`, the oldest undo entries are dropped (the
    newest entry is always kept, so the last action can be undone however large it is).
    `changed` is emitted after every push/undo/redo/clear.
    """

    def __init__(self, document: Document | None = None, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.document = document
        self.budget_bytes = int(budget_bytes)
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._sizes: dict[int, int] = {}
        self._clean_index: int | None = 0  # len(_undo) at the last save; None: unreachable
        self.changed = Event()

    # --- state ---------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        """A new study: the old entries refer to other voxels, so they are dropped."""
        self.document = document
        self.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_name(self) -> str:
        return self._undo[-1].name if self._undo else ""

    def redo_name(self) -> str:
        return self._redo[-1].name if self._redo else ""

    def last_done(self) -> Command | None:
        """The command the next undo would take back (None when there is none)."""
        return self._undo[-1] if self._undo else None

    def undo_names(self) -> list[str]:
        return [c.name for c in self._undo]

    def redo_names(self) -> list[str]:
        return [c.name for c in reversed(self._redo)]

    def nbytes(self) -> int:
        return sum(self._size(c) for c in self._undo) + sum(self._size(c) for c in self._redo)

    def is_clean(self) -> bool:
        """True when the document equals what was last marked saved."""
        return self._clean_index == len(self._undo)

    def mark_clean(self) -> None:
        self._clean_index = len(self._undo)
        self.changed.emit()

    def _size(self, c: Command) -> int:
        s = self._sizes.get(id(c))
        if s is None:
            s = self._sizes[id(c)] = c.nbytes()
        return s

    # --- operations ----------------------------------------------------------------------
    def _require_doc(self) -> Document:
        if self.document is None:
            raise RuntimeError("history has no document")
        return self.document

    def push(self, command: Command | None) -> None:
        """Apply `command` and record it (None is ignored, so tools' results can be passed on)."""
        if command is None:
            return
        doc = self._require_doc()
        command.do(doc)
        if self._redo:
            self._redo.clear()
            if self._clean_index is not None and self._clean_index > len(self._undo):
                self._clean_index = None
        top = self._undo[-1] if self._undo else None
        if (
            top is not None
            and command.merge_id is not None
            and top.merge_id == command.merge_id
            and self._clean_index != len(self._undo)
            and top.merge(command)
        ):
            self._sizes.pop(id(top), None)
        else:
            self._undo.append(command)
        self._sizes = {id(c): self._size(c) for c in self._undo}
        self._enforce_budget()
        self.changed.emit()

    def undo(self) -> bool:
        if not self._undo:
            return False
        c = self._undo.pop()
        c.undo(self._require_doc())
        self._redo.append(c)
        self.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        c = self._redo.pop()
        c.do(self._require_doc())
        self._undo.append(c)
        self.changed.emit()
        return True

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._sizes.clear()
        self._clean_index = 0
        self.changed.emit()

    def _enforce_budget(self) -> None:
        total = sum(self._size(c) for c in self._undo)
        dropped = 0
        while len(self._undo) > 1 and total > self.budget_bytes:
            c = self._undo.pop(0)
            total -= self._size(c)
            self._sizes.pop(id(c), None)
            dropped += 1
        if dropped:
            if self._clean_index is not None:
                self._clean_index -= dropped
                if self._clean_index < 0:
                    self._clean_index = None
            log.info("undo history over budget: dropped %d oldest entries", dropped)
