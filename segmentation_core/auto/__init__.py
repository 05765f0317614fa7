"""Automatic segmentation trained from finished cases (issue 15): nnU-Net's ideas, own code.

Qt-free, Paddle only in the network, training and runtime modules. One module per job:
`cases` (the input), `fingerprint` + `plan` (self-configuration), `preprocess` (resampling,
normalisation), `unet`, `loss`, `patches` (sampling, augmentation), `folds`, `train_state`
(checkpoints), `train` (the loop and the model card), `export`, `runtime` (Predictor),
`sliding` (windowed prediction in z-slabs), `postprocess`, `infer`, `model_folder`, and
scale-out training (`distributed`).

Public entries for the viewer: `read_auto_model`, `predict_volume`, `Cancelled`.
"""

from segmentation_core.auto.model_folder import AutoModelError, read_auto_model
from segmentation_core.auto.sliding import Cancelled


def predict_volume(*args, **kwargs):
    """See `segmentation_core.auto.infer.predict_volume` (imported lazily: numpy/scipy only
    until a model runs)."""
    from segmentation_core.auto.infer import predict_volume as run

    return run(*args, **kwargs)


__all__ = ["AutoModelError", "Cancelled", "predict_volume", "read_auto_model"]
