"""User-facing errors: each names the file (when there is one) and the reason in one line."""

from __future__ import annotations


class RadLabelError(Exception):
    """An expected failure with a message fit for a user (no traceback needed)."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class LoadError(RadLabelError):
    """A file or folder could not be read as an image or label."""


class GeometryError(RadLabelError):
    """Two grids do not fit together (e.g. a label that does not overlap its image)."""


class SaveError(RadLabelError):
    """Writing a file failed; the previous file is left as it was."""
