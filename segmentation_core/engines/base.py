"""The engine and session protocols: what an engine declares and the verbs of its session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from segmentation_core.types import Prediction

# What a user may give an engine: the session's verbs follow from these.
POINTS = "points"
BOXES = "boxes"
SCRIBBLES = "scribbles"


@dataclass(frozen=True)
class SessionOptions:
    """How to run a session, whatever the engine (an engine ignores what it has no use for).

    device: "auto", "cpu" or "gpu"; in_process: run a model in this process instead of a worker
    process; threads: CPU threads for inference; timeout_s: how long one model pass may take in
    the worker; keep_clicked_components / local_corrections: see `InteractiveSession`;
    size_first_click: see `autozoom.ZoomConfig` (engines with a calibrated probability use it).
    """

    device: str = "auto"
    in_process: bool = False
    threads: int | None = None
    timeout_s: float = 30.0
    keep_clicked_components: bool = True
    local_corrections: bool = True
    size_first_click: bool = True


@runtime_checkable
class Session(Protocol):
    """One image and the clicks on it (`segmentation_core.session.InteractiveSession` is one)."""

    def set_image(self, array_zyx: np.ndarray, spacing_zyx: Sequence[float]) -> None: ...

    def add_click(self, zyx, positive: bool = True) -> Prediction: ...

    def undo(self) -> Prediction | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Engine(Protocol):
    """A click-to-segment engine.

    name: the key in settings and on the command line; title: what the user sees;
    capabilities: a subset of {POINTS, BOXES, SCRIBBLES}; model_formats: the model formats
    `open` reads from `model_dir` (empty: the engine needs no model); fallback: the engine to use
    when this one cannot be opened (None: none).
    """

    name: str
    title: str
    capabilities: frozenset[str]
    model_formats: tuple[str, ...]
    fallback: str | None

    def open(self, model_dir: Path | None, options: SessionOptions) -> Session: ...
