"""The Paddle engine's plumbing with an untrained export: worker process, crash recovery, contract."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from segmentation_core import open_session
from segmentation_core.types import EngineCrashed, EngineError, SegmentationError


def test_in_process_engine_follows_the_contract(untrained_model_dir, blob_case):
    image, spacing, _ = blob_case
    s = open_session("paddle", model_dir=untrained_model_dir, in_process=True, threads=1)
    s.set_image(image, spacing)
    p = s.add_click((20, 20, 20))
    seg = s.segmentation()
    mine = np.zeros(seg.shape, bool)
    mine[p.slices] = p.mask
    assert np.array_equal(mine, seg)
    assert p.passes and all(0 <= lv <= 3 for lv in p.passes)
    assert p.passes == sorted(p.passes)  # AutoZoom only ever zooms out
    s.add_click((5, 5, 5), positive=False)
    s.undo()
    assert np.array_equal(s.segmentation(), seg)


def test_worker_crash_is_reported_and_recovered(untrained_model_dir, blob_case):
    image, spacing, _ = blob_case
    with open_session("paddle", model_dir=untrained_model_dir, threads=1, timeout_s=60) as s:
        s.set_image(image, spacing)
        s.add_click((20, 20, 20))
        before = s.segmentation()
        pid = s.predictor.pid
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(EngineCrashed, match="restarted"):
            s.add_click((20, 30, 44))
        assert len(s.clicks) == 1 and np.array_equal(s.segmentation(), before)
        assert s.predictor.pid != pid
        p = s.add_click((20, 30, 44))  # the fresh worker answers
        assert len(s.clicks) == 2 and p.mask.shape == tuple(
            p.bbox[k + 3] - p.bbox[k] for k in range(3)
        )
        assert s.predictor.device == "cpu" or s.predictor.device == "gpu"
    assert s.predictor.pid is None  # closed


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError, match="no exported model"):
        open_session("paddle", model_dir=tmp_path)
    with pytest.raises(SegmentationError, match="device"):
        open_session("paddle", model_dir=tmp_path, device="tpu")


def test_broken_model_file_fails_the_click_not_the_process(tmp_path, blob_case):
    (tmp_path / "model.json").write_text("not a model")
    (tmp_path / "model.pdiparams").write_bytes(b"\0" * 10)
    image, spacing, _ = blob_case
    with open_session("paddle", model_dir=tmp_path, timeout_s=60) as s:
        s.set_image(image, spacing)
        with pytest.raises(EngineError):
            s.add_click((20, 20, 20))
        assert s.clicks == []


def test_model_for_another_input_encoding_is_refused_clearly(untrained_model_dir, tmp_path):
    import json
    import shutil

    old = tmp_path / "old_model"
    shutil.copytree(untrained_model_dir, old)
    meta = json.loads((old / "meta.json").read_text())
    meta["encoding_version"] = 1
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(EngineError, match="encoding v1"):
        open_session(model_dir=old, in_process=True)


@pytest.mark.parametrize(
    "meta, match",
    [
        ({"inference_patch": [1024, 1024, 1024]}, "must be multiples of 8 in 8..256"),
        ({"inference_patch": [64, 64]}, "must be three numbers"),
        ({"inference_patch": [0, -5, 64]}, "must be multiples of 8"),
        ({"inference_patch": [64.5, 64, 64]}, "must be whole numbers"),
        ({"encoding_version": "two"}, "unusable model card"),
        (["not", "an", "object"], "expected a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_damaged_model_card_is_one_engine_error_naming_it(
    untrained_model_dir, tmp_path, meta, match
):
    import json
    import shutil

    bad = tmp_path / "bad_model"
    shutil.copytree(untrained_model_dir, bad)
    if isinstance(meta, dict):
        card = json.loads((bad / "meta.json").read_text())
        card.update(meta)
        (bad / "meta.json").write_text(json.dumps(card))
    else:
        (bad / "meta.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    with pytest.raises(EngineError, match=match) as e:
        open_session(model_dir=bad, in_process=True)
    assert str(bad / "meta.json") in str(e.value)
