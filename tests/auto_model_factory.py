"""A tiny real automatic segmentation model for tests: `train_auto` (issue 15's training) run
for two steps on two generated 16 x 24 x 24 cases, exported like any other model, so the tests
run the real `predict_volume` (Paddle Predictor) on it. Its answers are far from correct (two
steps), but they are the model's real output and mix every class, which is what the viewer's
tests need."""

from __future__ import annotations

from pathlib import Path

import numpy as np

LABELS = {1: "Liver", 2: "Spleen"}
VERSION = "tiny-v1"
SPACING_ZYX = (2.0, 1.0, 1.0)
SHAPE = (16, 24, 24)


def tiny_image(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An image with a bright block (label 1) and a dark block (label 2) in noise."""
    rng = np.random.default_rng(seed)
    image = rng.normal(0, 1, SHAPE).astype(np.float32)
    label = np.zeros(SHAPE, np.uint16)
    label[4:12, 4:12, 4:12] = 1
    label[4:12, 14:22, 12:20] = 2
    image[label == 1] += 3
    image[label == 2] -= 3
    return image, label


def train_tiny_auto_model(folder: Path) -> Path:
    """Train and export the model into `folder` (about 5 s); returns the folder."""
    from segmentation_core.auto.cases import AutoCase
    from segmentation_core.auto.train import AutoTrainConfig, train_auto

    cases = [AutoCase(f"case{s}", *tiny_image(s), SPACING_ZYX, "MR") for s in (0, 1)]
    config = AutoTrainConfig(
        minutes=0, max_steps=2, fold="all", threads=1, label_names=LABELS, version=VERSION
    )
    train_auto(cases, folder, config)
    return Path(folder)
