"""User-facing errors: each names the file (when there is one) and the reason in one line."""

from __future__ import annotations


class RadLabelError(Exception):
    """An expected failure with a message fit for a user (no traceback needed)."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = one_line(str(reason))
        self.path = str(path) if path is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


def one_line(text: str) -> str:
    """`text` as one line: a traceback pasted into a message (highdicom's, Paddle's) keeps only
    its last line, the exception itself; other line breaks become '; '."""
    lines = [t.strip() for t in text.splitlines() if t.strip()]
    if not lines:
        return ""
    marker = "Traceback (most recent call last):"
    for line in lines:
        if marker in line:
            head = line.split(marker, 1)[0].strip()
            return f"{head} {lines[-1]}".strip() if head else lines[-1]
    return "; ".join(lines)


class LoadError(RadLabelError):
    """A file or folder could not be read as an image or label."""


class GeometryError(RadLabelError):
    """Two grids do not fit together (e.g. a label that does not overlap its image)."""


class SaveError(RadLabelError):
    """Writing a file failed; the previous file is left as it was."""


class ExportCancelled(SaveError):
    """The user cancelled an export."""
