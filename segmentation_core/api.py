"""`open_session`: looks the engine up in the registry (`segmentation_core.engines`) and opens
its session."""

from __future__ import annotations

from pathlib import Path

from segmentation_core.engines import SessionOptions, get_engine
from segmentation_core.engines.base import Session
from segmentation_core.types import SegmentationError

DEVICES = ("auto", "cpu", "gpu")


def open_session(
    engine: str = "paddle",
    model_dir: str | Path | None = None,
    device: str = "auto",
    in_process: bool = False,
    threads: int | None = None,
    timeout_s: float = 30.0,
    keep_clicked_components: bool = True,
    local_corrections: bool = True,
    size_first_click: bool = True,
) -> Session:
    """Open a click-to-segment session with a registered engine.

    engine: "paddle" (the exported network, `model_dir` defaults to the shipped model),
    "classic" (no learning) or any engine added with `segmentation_core.engines.register`.
    device: "auto" (GPU when Paddle has one), "cpu" or "gpu".
    in_process: run the Paddle Predictor in this process (benchmarks, tests) instead of a worker
    process (the default: its `run()` holds the GIL and could freeze a GUI; a crash there is
    recovered from). timeout_s: how long one network pass may take in the worker.
    local_corrections: a correction click only takes over the changed region it lies in (see
    `segmentation_core.local_merge`); False lets every click redraw the whole footprint.
    size_first_click: the first click on an empty mask is also sized from coarse to fine
    (`autozoom.ZoomSegmenter.first_pass`); False starts it at the finest zoom level only.
    """
    found = get_engine(engine)
    if device not in DEVICES:
        raise SegmentationError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    options = SessionOptions(
        device=device,
        in_process=in_process,
        threads=threads,
        timeout_s=timeout_s,
        keep_clicked_components=keep_clicked_components,
        local_corrections=local_corrections,
        size_first_click=size_first_click,
    )
    return found.open(Path(model_dir) if model_dir is not None else None, options)
