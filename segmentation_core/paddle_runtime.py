"""Loads an exported model into a `paddle.inference` Predictor (oneDNN on the CPU, or the GPU).

A model folder is data, never code: `model.json` is the graph and `model.pdiparams` a stream of
dense tensors read by Paddle's C++ loader, not unpickled (see `checkpoint_io`).

Used in the worker process (see `worker.py`) and, for benchmarks/tests, in-process.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import looks_like_pickle
from segmentation_core.model_store import MODEL_PREFIX
from segmentation_core.types import EngineError


def default_threads() -> int:
    """CPU threads for the Predictor: the machine's cores, at most 4 (more does not pay off)."""
    return max(1, min(4, os.cpu_count() or 1))


def gpu_available() -> bool:
    import paddle

    try:
        return bool(paddle.is_compiled_with_cuda()) and paddle.device.cuda.device_count() > 0
    except Exception:  # a broken CUDA install means: no GPU
        return False


def check_model_dir(model_dir: Path) -> tuple[Path, Path]:
    d = Path(model_dir)
    graph, params = d / f"{MODEL_PREFIX}.json", d / f"{MODEL_PREFIX}.pdiparams"
    missing = [p.name for p in (graph, params) if not p.is_file()]
    if missing:
        raise EngineError(f"{d}: no exported model there (missing {', '.join(missing)})")
    # Paddle's reader would reject a pickle here too (see `checkpoint_io`); say why in one line
    with open(params, "rb") as f:
        if looks_like_pickle(f.read(2)):
            raise EngineError(
                f"{params}: pickle checkpoints are refused (they can run code when loaded); "
                "a model folder holds model.json + model.pdiparams from paddle.jit.save"
            )
    return graph, params


def predictor_config(model_dir: Path, device: str = "auto", threads: int | None = None):
    """The Predictor's config for a checked model folder, and the device it runs on: the GPU
    when asked or available, else the CPU with oneDNN and `threads` math threads."""
    from paddle import inference

    graph, params = check_model_dir(model_dir)
    config = inference.Config(str(graph), str(params))
    use_gpu = device == "gpu" or (device == "auto" and gpu_available())
    if use_gpu:
        config.enable_use_gpu(256, 0)
    else:
        config.disable_gpu()
        config.enable_onednn()
        config.set_cpu_math_library_num_threads(threads or default_threads())
    config.disable_glog_info()
    return config, "gpu" if use_gpu else "cpu"


class PaddlePredictor:
    """One loaded model; `__call__` maps a (1, C, D, H, W) input to (D, H, W) logits."""

    def __init__(self, model_dir: Path, device: str = "auto", threads: int | None = None) -> None:
        from paddle import inference

        if device == "gpu" and not gpu_available():
            raise EngineError("device='gpu' was asked for but Paddle sees no GPU")
        config, self.device = predictor_config(model_dir, device, threads)
        self._predictor = inference.create_predictor(config)
        self._in = self._predictor.get_input_handle(self._predictor.get_input_names()[0])
        self._out_name = self._predictor.get_output_names()[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        self._in.reshape(list(x.shape))
        self._in.copy_from_cpu(x)
        self._predictor.run()
        out = self._predictor.get_output_handle(self._out_name).copy_to_cpu()
        return np.asarray(out, dtype=np.float32)[0, 0]
