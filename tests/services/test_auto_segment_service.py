"""The automatic model runs in a separate process: its result equals `predict_volume` called
directly, a cancel returns None and leaves no process behind, a bad model is one line naming
the folder. Runs the real tiny model (`auto_model_factory`)."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from auto_model_factory import SPACING_ZYX, tiny_image, train_tiny_auto_model

from viewer.errors import LoadError
from viewer.services.auto_segment import default_threads, run_auto_segment


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return train_tiny_auto_model(tmp_path_factory.mktemp("auto") / "model")


def test_result_equals_predict_volume_in_process(model_dir):
    from segmentation_core.auto import predict_volume

    image, _ = tiny_image(7)
    seen: list[float] = []
    labels = run_auto_segment(model_dir, image, SPACING_ZYX, progress=seen.append)
    direct = predict_volume(model_dir, image, SPACING_ZYX, threads=default_threads())
    assert labels.dtype == np.uint16 and labels.shape == image.shape
    assert np.array_equal(labels, direct)
    assert sorted(np.unique(labels).tolist()) == [0, 1, 2]  # the test sees every class
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert mp.active_children() == []


def test_cancel_after_the_first_progress_returns_none(model_dir):
    image, _ = tiny_image(8)
    seen: list[float] = []
    out = run_auto_segment(
        model_dir, image, SPACING_ZYX, progress=seen.append, should_stop=lambda: bool(seen)
    )
    assert out is None
    assert len(seen) == 1  # nothing reported once the cancel was asked for
    assert mp.active_children() == []


def test_bad_model_and_bad_image_are_one_line(tmp_path, model_dir):
    image, _ = tiny_image(9)
    with pytest.raises(LoadError) as e:
        run_auto_segment(tmp_path, image, SPACING_ZYX)
    assert e.value.message == (
        f"{tmp_path}: not an automatic segmentation model (no auto_model.json)"
    )
    with pytest.raises(
        LoadError, match=r"needs a single-channel 3D image, not shape \(2, 3, 4, 3\)"
    ):
        run_auto_segment(model_dir, np.zeros((2, 3, 4, 3), np.uint8), SPACING_ZYX)
    assert mp.active_children() == []


def test_the_child_turns_the_image_by_its_direction(model_dir):
    from segmentation_core.auto import orientation as ori
    from segmentation_core.auto import predict_volume

    image, _ = tiny_image(9)
    lia = np.array([[1.0, 0, 0], [0, 0, -1], [0, -1, 0]])  # FreeSurfer's conformed order
    r = ori.reorientation(lia)
    stored = ori.from_canonical(image, r)
    spacing = tuple(SPACING_ZYX[int(np.argsort(r.order)[k])] for k in range(3))
    labels = run_auto_segment(model_dir, stored, spacing, direction=lia)
    direct = predict_volume(model_dir, image, SPACING_ZYX, threads=default_threads())
    assert np.array_equal(labels, ori.from_canonical(direct, r))
