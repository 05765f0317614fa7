"""Fixtures of the segmentation-core tests: a synthetic case and an untrained exported model."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def untrained_model_dir(tmp_path_factory):
    """An exported, untrained network: tests the plumbing, never the accuracy."""
    paddle = pytest.importorskip("paddle")
    from segmentation_core.model_store import export_inference_model
    from segmentation_core.network import InteractiveUNet3D

    paddle.seed(0)
    out = tmp_path_factory.mktemp("model") / "untrained"
    export_inference_model(
        InteractiveUNet3D(widths=(4, 8, 16, 32)), out, {"note": "untrained test export"}
    )
    return out


@pytest.fixture
def blob_case():
    """A bright ellipsoid (the target) and a darker ball in noise, 40x48x56, 1.5 mm."""
    rng = np.random.default_rng(0)
    zz, yy, xx = np.mgrid[:40, :48, :56]
    target = ((zz - 20) / 9.0) ** 2 + ((yy - 20) / 10.0) ** 2 + ((xx - 20) / 12.0) ** 2 <= 1.0
    other = (zz - 20) ** 2 + (yy - 30) ** 2 + (xx - 44) ** 2 <= 36
    image = rng.normal(100.0, 8.0, target.shape)
    image[target] += 200.0
    image[other] += 90.0
    return image.astype(np.int16), (1.5, 1.5, 1.5), target
