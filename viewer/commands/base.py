"""The command contract: a named, reversible change to a Document."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.model.document import Document


class Command:
    """A reversible change. `do` applies it (also used for redo), `undo` restores the state before.

    `merge_id`: consecutive commands with the same non-None id are merged by the history into
    one entry (a brush stroke: press, moves and release become one undo step).
    """

    name: str = "Edit"
    merge_id: object | None = None

    def do(self, doc: Document) -> None:
        raise NotImplementedError

    def undo(self, doc: Document) -> None:
        raise NotImplementedError

    def nbytes(self) -> int:
        """Memory this command holds, for the history's budget."""
        return 0

    def merge(self, other: Command) -> bool:
        """Absorb `other` (already applied) into this command; False when it cannot."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class CompositeCommand(Command):
    """Several commands applied in order and undone in reverse, as one history entry."""

    def __init__(self, name: str, commands: list[Command]) -> None:
        self.name = name
        self.commands = list(commands)

    def do(self, doc: Document) -> None:
        for c in self.commands:
            c.do(doc)

    def undo(self, doc: Document) -> None:
        for c in reversed(self.commands):
            c.undo(doc)

    def nbytes(self) -> int:
        return sum(c.nbytes() for c in self.commands)
