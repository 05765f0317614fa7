"""`open_session`: picks an engine, wires it to the AutoZoom loop and returns a session."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.autozoom import ZoomConfig, ZoomSegmenter
from segmentation_core.encoding import ENCODING_VERSION
from segmentation_core.session import InteractiveSession
from segmentation_core.types import EngineError, SegmentationError

ENGINES = ("paddle", "classic")
DEVICES = ("auto", "cpu", "gpu")


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))).astype(np.float32)


def open_session(
    engine: str = "paddle",
    model_dir: str | Path | None = None,
    device: str = "auto",
    in_process: bool = False,
    threads: int | None = None,
    timeout_s: float = 30.0,
    keep_clicked_components: bool = True,
    local_corrections: bool = True,
) -> InteractiveSession:
    """Open a click-to-segment session.

    engine: "paddle" (the exported network, `model_dir` defaults to the shipped model) or
    "classic" (no learning). device: "auto" (GPU when Paddle has one), "cpu" or "gpu".
    in_process: run the Paddle Predictor in this process (benchmarks, tests) instead of a worker
    process (the default: its `run()` holds the GIL and could freeze a GUI; a crash there is
    recovered from). timeout_s: how long one network pass may take in the worker.
    local_corrections: a correction click only takes over the changed region it lies in (see
    `segmentation_core.local_merge`); False lets every click redraw the whole footprint.
    """
    if engine not in ENGINES:
        raise SegmentationError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if device not in DEVICES:
        raise SegmentationError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if engine == "classic":
        from segmentation_core.classic import classic_patch_model

        seg = ZoomSegmenter(classic_patch_model, ZoomConfig(patch_shape=(64, 64, 64)))
        return InteractiveSession(
            seg, "classic", keep_clicked_components, local_corrections=local_corrections
        )

    from segmentation_core.model_store import default_model_dir, model_files_present, read_meta
    from segmentation_core.paddle_runtime import check_model_dir

    mdir = Path(model_dir) if model_dir is not None else default_model_dir()
    check_model_dir(mdir)
    patch = (64, 64, 64)
    if model_files_present(mdir):
        meta = read_meta(mdir)
        patch = tuple(int(v) for v in meta.get("inference_patch", patch))
        trained_for = int(meta.get("encoding_version", 1))
        if trained_for != ENCODING_VERSION:
            raise EngineError(
                f"{mdir}: this model was trained for input encoding v{trained_for}, but this "
                f"version of RadLabel feeds encoding v{ENCODING_VERSION}; use a model exported "
                "by this version (python main.py train-base ...)"
            )
    if in_process:
        from segmentation_core.paddle_runtime import PaddlePredictor

        predictor = PaddlePredictor(mdir, device=device, threads=threads)
        closer = None
    else:
        from segmentation_core.worker import WorkerPredictor

        predictor = WorkerPredictor(mdir, device=device, threads=threads, timeout_s=timeout_s)
        closer = predictor.close

    def model(x: np.ndarray, *_ignored) -> np.ndarray:
        return _sigmoid(predictor(x))

    seg = ZoomSegmenter(model, ZoomConfig(patch_shape=patch))  # type: ignore[arg-type]
    session = InteractiveSession(
        seg, "paddle", keep_clicked_components, closer=closer, local_corrections=local_corrections
    )
    session.predictor = predictor  # the runtime, for diagnostics (device, worker pid, memory)
    return session
