"""Runs an exported stage model: the Paddle inference Predictor with oneDNN (or the GPU).

Unlike `segmentation_core.paddle_runtime.PaddlePredictor` (one output channel, the interactive
model), this returns every class's logits. An eager wrapper with the same call exists for the
trainer's validation and for tests that compare the two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.paddle_runtime import predictor_config


class StagePredictor:
    """`__call__((1, C, D, H, W) float32) -> (K, D, H, W)` logits of one exported stage model."""

    def __init__(self, model_dir: Path, threads: int | None = None, device: str = "auto") -> None:
        from paddle import inference

        config, self.device = predictor_config(model_dir, device, threads)
        self._predictor = inference.create_predictor(config)
        self._in = self._predictor.get_input_handle(self._predictor.get_input_names()[0])
        self._out = self._predictor.get_output_names()[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        self._in.reshape(list(x.shape))
        self._in.copy_from_cpu(x)
        self._predictor.run()
        return np.asarray(self._predictor.get_output_handle(self._out).copy_to_cpu())[0]


class EagerPredictor:
    """The same call on a live (training) network, in eval mode, without gradients."""

    def __init__(self, net) -> None:
        self.net = net

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import paddle

        was = self.net.training
        self.net.eval()
        try:
            with paddle.no_grad():
                out = self.net(paddle.to_tensor(np.ascontiguousarray(x, dtype=np.float32)))
            return out.numpy()[0]
        finally:
            if was:
                self.net.train()
