"""The Paddle engine: the exported network (the shipped model unless a folder is given), run in
a worker process by default so that its `run()`, which holds the GIL, cannot freeze a GUI and a
crash there is recovered from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from segmentation_core.encoding import ENCODING_VERSION
from segmentation_core.engines.base import POINTS, SessionOptions
from segmentation_core.types import EngineError

if TYPE_CHECKING:
    from segmentation_core.session import InteractiveSession

DEFAULT_PATCH = (64, 64, 64)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))).astype(np.float32)


def _inference_patch(model_dir: Path) -> tuple[int, ...]:
    """The patch the model was exported for; refuses a model trained for another encoding."""
    from segmentation_core.checkpoint_io import CheckpointError
    from segmentation_core.model_store import check_patch, model_files_present, read_meta

    if not model_files_present(model_dir):
        return DEFAULT_PATCH
    try:
        meta = read_meta(model_dir)
        trained_for = int(meta.get("encoding_version", 1))
        patch = check_patch(meta.get("inference_patch", DEFAULT_PATCH))
    except CheckpointError as e:
        raise EngineError(f"{e.path}: {e.reason}") from None
    except (TypeError, ValueError) as e:
        raise EngineError(f"{Path(model_dir) / 'meta.json'}: unusable model card ({e})") from None
    if trained_for != ENCODING_VERSION:
        raise EngineError(
            f"{model_dir}: this model was trained for input encoding v{trained_for}, but this "
            f"version of RadLabel feeds encoding v{ENCODING_VERSION}; use a model exported "
            "by this version (python main.py train-base ...)"
        )
    return patch


def _predictor(model_dir: Path, options: SessionOptions):
    """(predictor, closer): in this process, or in a worker process that `closer` stops."""
    if options.in_process:
        from segmentation_core.paddle_runtime import PaddlePredictor

        return PaddlePredictor(model_dir, device=options.device, threads=options.threads), None
    from segmentation_core.worker import WorkerPredictor

    predictor = WorkerPredictor(
        model_dir, device=options.device, threads=options.threads, timeout_s=options.timeout_s
    )
    return predictor, predictor.close


class PaddleEngine:
    name = "paddle"
    title = "Paddle model"
    capabilities = frozenset({POINTS})
    model_formats: tuple[str, ...] = ("paddle-inference",)
    fallback = "classic"

    def open(self, model_dir: Path | None, options: SessionOptions) -> InteractiveSession:
        from segmentation_core.autozoom import ZoomConfig, ZoomSegmenter
        from segmentation_core.model_store import default_model_dir
        from segmentation_core.paddle_runtime import check_model_dir
        from segmentation_core.session import InteractiveSession

        mdir = Path(model_dir) if model_dir is not None else default_model_dir()
        check_model_dir(mdir)
        patch = _inference_patch(mdir)
        predictor, closer = _predictor(mdir, options)

        def model(x: np.ndarray, *_ignored) -> np.ndarray:
            return _sigmoid(predictor(x))

        config = ZoomConfig(patch_shape=patch, size_first_click=options.size_first_click)
        seg = ZoomSegmenter(model, config)  # type: ignore[arg-type]
        session = InteractiveSession(
            seg,
            self.name,
            options.keep_clicked_components,
            closer=closer,
            local_corrections=options.local_corrections,
        )
        session.predictor = predictor  # the runtime, for diagnostics (device, worker pid, memory)
        return session
