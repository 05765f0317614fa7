"""Qt-free view state shared by every view: crosshair, window/level, display options, presets.

Views subscribe to `ViewState.changed`, which is emitted with what changed (a `ViewChange`:
cursor, window, display, overlay), so each view redraws only what it must; a listener that
follows one property connects to its own event instead (`state.events.window`), as napari does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from viewer.model.events import Event

# re-exported: the views ask it which presets to offer
from viewer.model.modality import effective_modality as effective_modality

# CT window presets: name -> (width, level) in HU (common radiology values).
CT_PRESETS: dict[str, tuple[float, float]] = {
    "Brain": (80.0, 40.0),
    "Subdural": (215.0, 75.0),
    "Stroke": (40.0, 40.0),
    "Lung": (1500.0, -600.0),
    "Mediastinum": (350.0, 50.0),
    "Abdomen": (400.0, 50.0),
    "Liver": (150.0, 30.0),
    "Bone": (1800.0, 400.0),
}
AUTO_PRESET = "Auto"  # percentiles of the image (the default for MR and unknown modalities)
MIN_WIDTH = 1e-3


class ViewChange(str, Enum):
    """What a `ViewState.changed` emission is about (str-valued: it prints and logs as text)."""

    CURSOR = "cursor"  # the crosshair moved
    WINDOW = "window"  # window/level
    DISPLAY = "display"  # invert, interpolate, radiological
    OVERLAY = "overlay"  # label overlay visibility, opacity, outline


@dataclass(frozen=True)
class WindowLevel:
    width: float
    level: float

    @property
    def low(self) -> float:
        return self.level - self.width / 2.0

    @property
    def high(self) -> float:
        return self.level + self.width / 2.0

    @classmethod
    def from_range(cls, low: float, high: float) -> WindowLevel:
        return cls(max(float(high - low), MIN_WIDTH), (float(low) + float(high)) / 2.0)


def auto_window(array: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> WindowLevel:
    """Window from intensity percentiles, computed on a strided subsample to stay fast."""
    if array.size == 0:
        return WindowLevel(1.0, 0.0)
    step = max(1, int(round((array.size / 2_000_000) ** (1 / 3))))
    sample = np.asarray(array[::step, ::step, ::step], dtype=np.float32)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return WindowLevel(1.0, 0.0)
    lo, hi = np.percentile(sample, [low_pct, high_pct])
    if hi <= lo:
        lo, hi = float(sample.min()), float(sample.max())
    if hi <= lo:
        hi = lo + 1.0
    return WindowLevel.from_range(float(lo), float(hi))


def presets_for(modality: str) -> list[str]:
    """Preset names offered for a modality (CT gets the HU presets; everything gets Auto)."""
    return ([*CT_PRESETS] if modality.upper() == "CT" else []) + [AUTO_PRESET]


def default_window(array: np.ndarray, modality: str) -> WindowLevel:
    if modality.upper() == "CT":
        return WindowLevel(*CT_PRESETS["Abdomen"])
    return auto_window(array)


class ViewEvents:
    """One event per `ViewChange`, emitted without arguments after `ViewState.changed`."""

    def __init__(self) -> None:
        self.cursor = Event()
        self.window = Event()
        self.display = Event()
        self.overlay = Event()


class ViewState:
    """Crosshair (LPS world mm), window/level and display options of the open document."""

    def __init__(self) -> None:
        self.cursor_world = np.zeros(3)
        self.window = WindowLevel(400.0, 40.0)
        self.invert = False
        self.interpolate = False
        self.radiological = True
        self.overlay_visible = True
        self.overlay_opacity = 0.5
        self.outline = False
        self.changed = Event()  # with the ViewChange
        self.events = ViewEvents()

    def _emit(self, what: ViewChange) -> None:
        self.changed.emit(what)
        getattr(self.events, what.value).emit()

    def set_cursor(self, world_xyz) -> None:
        w = np.asarray(world_xyz, dtype=float).reshape(3)
        if np.array_equal(w, self.cursor_world):
            return
        self.cursor_world = w
        self._emit(ViewChange.CURSOR)

    def set_window(self, window: WindowLevel) -> None:
        window = WindowLevel(max(float(window.width), MIN_WIDTH), float(window.level))
        if window != self.window:
            self.window = window
            self._emit(ViewChange.WINDOW)

    def set_display(self, **options) -> None:
        """Change `invert`, `interpolate` or `radiological`."""
        for k, v in options.items():
            if k not in ("invert", "interpolate", "radiological"):
                raise KeyError(k)
            setattr(self, k, bool(v))
        self._emit(ViewChange.DISPLAY)

    def set_overlay(self, **options) -> None:
        """Change `overlay_visible`, `overlay_opacity` (0..1) or `outline`."""
        for k, v in options.items():
            if k == "overlay_opacity":
                v = float(min(max(v, 0.0), 1.0))
            elif k in ("overlay_visible", "outline"):
                v = bool(v)
            else:
                raise KeyError(k)
            setattr(self, k, v)
        self._emit(ViewChange.OVERLAY)
