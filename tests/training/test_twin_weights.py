"""The PyTorch twin's weights <-> the Paddle network (issue 16, "On a GPU"), without torch:
the name mapping and shapes, the bit-exact round trip through a twin .safetensors file, the
model folder `import-twin` publishes, and its refusals (one line, exit 2).

That the twin computes the same logits is `make twin-check` (it needs torch, which the
product's tests never do)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from segmentation_core.checkpoint_io import CheckpointError
from segmentation_core.model_store import WEIGHTS_FILE, read_meta
from segmentation_core.network import InteractiveUNet3D
from segmentation_core.training.exported_weights import network_from_export
from segmentation_core.training.twin_weights import (
    paddle_key,
    paddle_shapes,
    paddle_to_twin,
    read_twin_weights,
    twin_key,
    twin_shapes,
    twin_to_paddle,
    write_twin_weights,
)
from viewer.cli.main import run_cli


def _paddle_state(widths=(8, 16, 32, 64), seed=0) -> dict[str, np.ndarray]:
    """A Paddle network's state dict with every tensor random (norm scales included)."""
    net = InteractiveUNet3D(widths)
    rng = np.random.default_rng(seed)
    return {
        k: rng.normal(size=tuple(v.shape)).astype(np.float32) for k, v in net.state_dict().items()
    }


@pytest.mark.parametrize("widths", [(8, 16, 32, 64), (16, 32, 64, 128), (4, 8)])
def test_paddle_shapes_are_the_networks_state_dict(widths):
    net = InteractiveUNet3D(widths)
    got = [(k, tuple(v.shape)) for k, v in net.state_dict().items()]
    assert list(paddle_shapes(widths).items()) == got


def test_names_map_one_to_one_and_only_norm_scales_are_renamed():
    paddle = paddle_shapes()
    twin = twin_shapes()
    assert len(twin) == len(paddle) == 64
    renamed = {k: twin_key(k) for k in paddle if twin_key(k) != k}
    # 4 encoder + 3 decoder blocks, two norms each
    assert len(renamed) == 14
    assert renamed["down.0.body.1.scale"] == "down.0.body.1.weight"
    assert renamed["dec.2.body.4.scale"] == "dec.2.body.4.weight"
    assert all(paddle_key(twin_key(k)) == k for k in paddle)
    # conv weights keep their names (and their [out, in, k, k, k] layout)
    assert paddle_key("down.0.body.0.weight") == "down.0.body.0.weight"
    assert twin["up.0.weight"] == (64, 32, 2, 2, 2)  # transposed conv: [in, out, k, k, k]


def test_round_trip_through_a_twin_file_is_bit_identical(tmp_path):
    state = _paddle_state()
    path = write_twin_weights(tmp_path / "w.safetensors", state)
    on_disk = load_file(str(path))
    assert sorted(on_disk) == sorted(twin_shapes())
    assert np.array_equal(on_disk["down.1.body.4.weight"], state["down.1.body.4.scale"])
    back, widths = read_twin_weights(path)
    assert widths == (8, 16, 32, 64)
    assert list(back) == list(paddle_shapes())
    for k, v in state.items():
        assert back[k].dtype == np.float32
        assert back[k].tobytes() == v.tobytes(), k


def test_other_widths_are_read_from_the_file(tmp_path):
    state = _paddle_state((16, 32, 64, 128), seed=3)
    back, widths = read_twin_weights(
        write_twin_weights(tmp_path / "w.safetensors", state, (16, 32, 64, 128))
    )
    assert widths == (16, 32, 64, 128)
    assert all(back[k].tobytes() == v.tobytes() for k, v in state.items())


def test_import_twin_publishes_a_model_folder_with_those_weights(tmp_path, capsys):
    state = _paddle_state(seed=1)
    (tmp_path / "run").mkdir()
    weights = write_twin_weights(tmp_path / "run" / "weights.safetensors", state)
    (tmp_path / "run" / "train_log.json").write_text(
        json.dumps(
            {
                "steps": 123,
                "device": "NVIDIA H200",
                "history": [[10, 0.9]],
                "data": {"train": ["ct_abdomen_small"]},
            }
        )
    )
    out = tmp_path / "model"
    assert run_cli(["import-twin", str(weights), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == {"model": str(out), "widths": [8, 16, 32, 64], "tensors": 64}
    meta = read_meta(out)
    assert meta["training"] == {"trainer": "pytorch-twin", "steps": 123, "device": "NVIDIA H200"}
    assert meta["data"] == {"train": ["ct_abdomen_small"]}
    assert meta["widths"] == [8, 16, 32, 64]
    saved = load_file(str(out / WEIGHTS_FILE))
    assert all(saved[k].tobytes() == v.tobytes() for k, v in state.items())
    # the exported graph's parameters (what the Predictor loads) are those weights too
    (out / WEIGHTS_FILE).unlink()
    net = network_from_export(out)
    assert all(net.state_dict()[k].numpy().tobytes() == v.tobytes() for k, v in state.items())


def test_import_twin_model_opens_a_session(tmp_path):
    from segmentation_core import open_session

    weights = write_twin_weights(tmp_path / "w.safetensors", _paddle_state(seed=2))
    assert run_cli(["import-twin", str(weights), "--out", str(tmp_path / "m")]) == 0
    s = open_session(model_dir=tmp_path / "m")
    try:
        img = np.zeros((24, 40, 40), np.float32)
        img[8:16, 12:28, 12:28] = 100.0
        s.set_image(img, (1.0, 1.0, 1.0))
        p = s.add_click((12, 20, 20), positive=True)
        assert p.mask.dtype == bool
    finally:
        s.close()


def _bad(tmp_path, kind: str):
    state = paddle_to_twin(_paddle_state())
    p = tmp_path / "w.safetensors"
    if kind == "missing":
        del state["dec.0.body.1.weight"]
    elif kind == "extra":
        state["dec.0.body.1.running_mean"] = np.zeros(32, np.float32)
    elif kind == "shape":
        state["head.weight"] = np.zeros((1, 8, 3, 3, 3), np.float32)
    elif kind == "nan":
        state["up.1.bias"][3] = np.nan
    elif kind == "rank":
        state["down.1.body.0.weight"] = np.zeros(16, np.float32)
    elif kind == "channels":
        state["down.0.body.0.weight"] = np.zeros((8, 4, 3, 3, 3), np.float32)
    elif kind == "pickle":
        p.write_bytes(pickle.dumps({"a": 1}, protocol=4))
        return p
    elif kind == "garbage":
        p.write_bytes(b"not a safetensors file at all")
        return p
    save_file(state, str(p))
    return p


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "no tensor 'dec.0.body.1.weight' (1 missing)"),
        ("extra", "unexpected tensor 'dec.0.body.1.running_mean' (1 extra)"),
        ("shape", "head.weight: shape (1, 8, 3, 3, 3) is not (1, 8, 1, 1, 1)"),
        ("nan", "up.1.bias: holds NaN or infinite values"),
        ("channels", "weights take 4 input channels; this version encodes 6"),
        ("rank", "down.1.body.0.weight: shape (16,) is not a 3D conv's"),
        ("pickle", "pickle checkpoints are refused"),
        ("garbage", "not a safetensors checkpoint (bad header length)"),
    ],
)
def test_bad_weights_are_refused_in_one_line(tmp_path, capsys, kind, reason):
    p = _bad(tmp_path, kind)
    with pytest.raises(CheckpointError) as e:
        read_twin_weights(p)
    assert e.value.path == str(p)
    assert e.value.reason.startswith(reason)
    out = tmp_path / "model"
    assert run_cli(["import-twin", str(p), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {p}: {reason}")
    assert not out.exists()


def test_import_twin_refuses_a_missing_file_and_an_existing_folder(tmp_path, capsys):
    assert (
        run_cli(["import-twin", str(tmp_path / "nope.safetensors"), "--out", str(tmp_path / "m")])
        == 2
    )
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {tmp_path / 'nope.safetensors'}: no such weights file"
    ]
    weights = write_twin_weights(tmp_path / "w.safetensors", _paddle_state())
    (tmp_path / "m").mkdir()
    assert run_cli(["import-twin", str(weights), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'm'}: model folder exists (give --overwrite to replace it)"]
    assert run_cli(["import-twin", str(weights), "--out", str(tmp_path / "m"), "--overwrite"]) == 0


def test_twin_to_paddle_refuses_paddle_names():
    """A Paddle-named dict is not a twin file: the norm scales are missing under twin names."""
    with pytest.raises(CheckpointError, match="no tensor 'down.0.body.1.weight'"):
        twin_to_paddle(_paddle_state())
