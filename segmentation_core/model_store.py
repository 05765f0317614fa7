"""Where models live and how they are written: a static Paddle graph + parameters + a JSON card.

A model folder holds `model.json` + `model.pdiparams` (Paddle's inference format: a JSON graph
and a binary dense-tensor stream read by Paddle's C++ loader, never unpickled; see
`checkpoint_io`), `meta.json` (network widths, encoding version, inference patch size, training
record) and `weights.safetensors` (the same weights under the network's keys, for fine-tuning;
folders exported before it existed are read by `training.exported_weights`). New versions are published atomically: written
to a temporary sibling folder, then renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_PREFIX = "model"
META_FILE = "meta.json"
WEIGHTS_FILE = "weights.safetensors"
DEFAULT_INFERENCE_PATCH = (64, 64, 64)


def default_model_dir() -> Path:
    """The shipped base model (`RADLABEL_MODEL_DIR` overrides, e.g. for a retrained model)."""
    override = os.environ.get("RADLABEL_MODEL_DIR")
    if override:
        return Path(override)
    import sys

    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller one-dir bundle
    root = Path(bundle) if bundle else REPO_ROOT
    return root / "resources" / "models" / "base"


def read_meta(model_dir: Path) -> dict:
    """The model's meta card (a JSON object, size-capped); CheckpointError naming it when it
    is unreadable, not JSON, nested too deeply or not an object."""
    from segmentation_core.checkpoint_io import read_json

    return read_json(Path(model_dir) / META_FILE, limit=1 << 20)


MAX_PATCH_EDGE = 256  # a (1, C, 256^3) float32 input is already ~0.5 GB per channel


def check_patch(value) -> tuple[int, int, int]:
    """The inference patch of a model card: three whole numbers, multiples of 8 (the network
    pools three times) in 8..MAX_PATCH_EDGE; ValueError otherwise."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ValueError("inference_patch must be three numbers")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) for v in value):
        raise ValueError("inference_patch must be whole numbers")
    out = tuple(int(v) for v in value)
    if any(not 8 <= v <= MAX_PATCH_EDGE or v % 8 for v in out):
        raise ValueError(
            f"inference_patch {list(out)} must be multiples of 8 in 8..{MAX_PATCH_EDGE}"
        )
    return out  # type: ignore[return-value]


def model_files_present(model_dir: Path) -> bool:
    d = Path(model_dir)
    return (d / META_FILE).is_file() and (d / f"{MODEL_PREFIX}.pdiparams").is_file()


def export_inference_model(net, out_dir: Path, meta: dict) -> Path:
    """Trace `net` to a static graph and publish it with its meta card at `out_dir` atomically."""
    import paddle

    from segmentation_core.checkpoint_io import save_tensors
    from segmentation_core.encoding import ENCODING_VERSION, IN_CHANNELS

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir.parent))
    try:
        net.eval()
        spec = [paddle.static.InputSpec([None, IN_CHANNELS, None, None, None], "float32", "x")]
        static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
        paddle.jit.save(static, str(tmp / MODEL_PREFIX))
        # the state dict under the network's own keys: what a retrain starts from
        # (segmentation_core.training.exported_weights), with no pickle and no graph parsing
        save_tensors(tmp / WEIGHTS_FILE, {k: v.numpy() for k, v in net.state_dict().items()})
        full_meta = {
            "format": "paddle-inference",
            "encoding_version": ENCODING_VERSION,
            "in_channels": IN_CHANNELS,
            "widths": list(getattr(net, "widths", [])),
            "inference_patch": list(DEFAULT_INFERENCE_PATCH),
            **meta,
        }
        with open(tmp / META_FILE, "w", encoding="utf-8") as f:
            json.dump(full_meta, f, indent=2)
        swap_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def swap_into_place(tmp: Path, out_dir: Path) -> None:
    """Replace the model folder `out_dir` by the finished `tmp` beside it: the old one is moved
    aside first and removed only once the new one is in place."""
    backup = None
    if out_dir.exists():
        backup = out_dir.with_name(out_dir.name + ".old")
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(out_dir, backup)
    os.replace(tmp, out_dir)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
