"""Settings shared by all editing tools (active segment, overwrite, threshold) that panels mirror."""

from __future__ import annotations

from dataclasses import dataclass, field

from viewer.commands.mask_apply import PaintOptions
from viewer.model.events import Event


@dataclass
class EditorState:
    """What every tool needs to know besides the mouse: which segment, and the painting rules.

    `threshold` is the intensity range for threshold-limited painting, or None for no limit.
    Call `notify()` after changing fields so panels and views can follow.
    """

    active_segment_id: int | None = None
    overwrite_others: bool = True
    threshold: tuple[float, float] | None = None
    changed: Event = field(default_factory=Event, repr=False, compare=False)

    def paint_options(self) -> PaintOptions:
        return PaintOptions(overwrite_others=self.overwrite_others, intensity_range=self.threshold)

    def set(self, **values) -> None:
        for k, v in values.items():
            if not hasattr(self, k) or k == "changed":
                raise AttributeError(f"EditorState has no setting {k!r}")
            setattr(self, k, v)
        self.changed.emit()

    def notify(self) -> None:
        self.changed.emit()
