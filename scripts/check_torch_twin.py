"""Check that the PyTorch twin computes what the Paddle network computes, for the same weights.

Paddle and PyTorch live in different environments (the GPU machine has no Paddle), so the check
runs in three steps that exchange safetensors files in one folder (`make twin-check` runs all):

1. `paddle` (project venv): the shipped model's weights, written as a twin weights file, an
   encoded input batch (48^3 and an uneven 32x48x64 patch), and the Paddle network's logits.
   Also one training step's loss and gradients (the trainer's `_loss`) and three steps of the
   trainer's optimiser (`InPlaceAdamW`, clipping included) on fixed gradients.
2. `torch` (twin venv): the twin with those weights on that input, compared with Paddle's
   logits, loss, gradients and optimiser steps (`twin.train.dice_bce_loss`, `twin.optim`);
   then a freshly drawn twin (random norm scales too), its weights and logits written.
3. `import` (project venv): those twin weights published as a model folder exactly as
   `python main.py import-twin` does, and the eager network and the exported Predictor run on
   the same input, compared with the twin's logits.

Each comparison prints the max absolute difference and the logits' range, and fails (exit 1)
above `TOLERANCE` x range.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOLERANCE = 1e-4  # of the logits' range
SHAPES = ((2, 48, 48, 48), (1, 32, 48, 64))  # (batch, z, y, x); pooling needs multiples of 8


def _inputs(seed: int = 0) -> dict[str, np.ndarray]:
    """Encoded inputs as at use: a smooth random image, clicks, a previous mask."""
    from scipy import ndimage

    from segmentation_core.encoding import build_input, normalise_patch

    rng = np.random.default_rng(seed)
    out = {}
    for n, (batch, *shape) in enumerate(SHAPES):
        rows = []
        for _ in range(batch):
            img = ndimage.gaussian_filter(rng.normal(size=shape), 2.0).astype(np.float32)
            img = normalise_patch(img, float(img.min()), float(img.max()))
            centre = np.array(shape) // 2
            pos = [centre, centre + rng.integers(-6, 7, 3)]
            neg = [rng.integers(0, shape, 3)]
            prev = (img > 0.5).astype(np.float32)
            rows.append(build_input(img, pos, neg, prev))
        out[f"x{n}"] = np.concatenate(rows).astype(np.float32)
    return out


def _compare(name: str, got: np.ndarray, ref: np.ndarray) -> bool:
    diff = float(np.abs(got.astype(np.float64) - ref).max())
    span = float(ref.max() - ref.min())
    ok = got.shape == ref.shape and diff <= TOLERANCE * span
    print(
        f"{name}: max |diff| {diff:.3g} over a range of {span:.3g} "
        f"({diff / max(span, 1e-12):.2g} of range) {'OK' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def paddle_side(work: Path, model_dir: Path) -> bool:
    import paddle

    from segmentation_core.checkpoint_io import save_tensors
    from segmentation_core.training.exported_weights import network_from_export
    from segmentation_core.training.twin_weights import write_twin_weights

    net = network_from_export(model_dir)
    net.eval()
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    write_twin_weights(work / "shipped_twin.safetensors", state, net.widths)
    xs = _inputs()
    with paddle.no_grad():
        outs = {f"y{k[1:]}": net(paddle.to_tensor(x)).numpy() for k, x in xs.items()}
    save_tensors(work / "inputs.safetensors", xs)
    save_tensors(work / "paddle_out.safetensors", outs)
    _paddle_training(work, net, xs["x0"])
    (work / "widths.json").write_text(json.dumps(list(net.widths)))
    print(f"paddle: {model_dir} ({len(state)} tensors) on {[x.shape for x in xs.values()]}")
    return True


LRS = (1e-3, 7e-4, 4e-4)  # the optimiser check's three steps
WEIGHT_DECAY = 1e-4
GRAD_SCALES = (1e-2, 1.0, 1e-3)  # the second step's global norm is far above the clip (5)


def _batch_targets(x: np.ndarray) -> dict[str, np.ndarray]:
    """A target and a valid mask for the input batch (the image channel above 0.3; one slab of
    each patch outside the image)."""
    y = (x[:, :1] > 0.3).astype(np.float32)
    v = np.ones_like(y)
    v[:, :, :6] = 0.0
    return {"x": x, "y": y, "v": v}


def _paddle_training(work: Path, net, x: np.ndarray) -> None:
    """One training step's loss and gradients, then InPlaceAdamW on fixed gradients."""
    from types import SimpleNamespace

    import paddle

    from segmentation_core.checkpoint_io import save_tensors
    from segmentation_core.training.optim import InPlaceAdamW
    from segmentation_core.training.trainer import Trainer
    from segmentation_core.training.twin_weights import paddle_to_twin

    batch = _batch_targets(x)
    net.train()
    t = {k: paddle.to_tensor(v) for k, v in batch.items()}
    loss = Trainer._loss(SimpleNamespace(paddle=paddle), net(t["x"]), t["y"], t["v"])
    loss.backward()
    names = dict(net.named_parameters())
    grads = paddle_to_twin({k: p.grad.numpy() for k, p in names.items()}, net.widths)
    for p in names.values():
        p.clear_gradient()
    rng = np.random.default_rng(1)
    shapes = {k: tuple(p.shape) for k, p in names.items()}
    fixed = [
        {k: (rng.normal(size=s) * scale).astype(np.float32) for k, s in shapes.items()}
        for scale in GRAD_SCALES
    ]
    opt = InPlaceAdamW(
        list(names.values()), learning_rate=LRS[0], weight_decay=WEIGHT_DECAY, clip_norm=5.0
    )
    for lr, g in zip(LRS, fixed):
        opt.set_lr(lr)
        # d/dp sum(p * g) = g: the optimiser sees exactly these gradients
        paddle.add_n([(p * paddle.to_tensor(g[k])).sum() for k, p in names.items()]).backward()
        opt.step()
        opt.clear_grad()
    # x is inputs' x0: not stored twice (the folder travels to the GPU machine)
    save_tensors(work / "train_batch.safetensors", {k: batch[k] for k in ("y", "v")})
    save_tensors(work / "paddle_grads.safetensors", grads)
    save_tensors(
        work / "opt_grads.safetensors",
        {
            f"{i}/{k}": v
            for i, g in enumerate(fixed)
            for k, v in paddle_to_twin(g, net.widths).items()
        },
    )
    save_tensors(
        work / "paddle_opt_params.safetensors",
        paddle_to_twin({k: p.numpy() for k, p in names.items()}, net.widths),
    )
    (work / "paddle_loss.json").write_text(json.dumps(float(loss)))


def xs_x0(work: Path) -> np.ndarray:
    from segmentation_core.checkpoint_io import load_tensors

    return load_tensors(work / "inputs.safetensors")["x0"]


def _torch_training(work: Path, state: dict, widths, device: str) -> bool:
    from segmentation_core.checkpoint_io import load_tensors
    from segmentation_core.training.twin.network import torch_training_check

    batch = {**load_tensors(work / "train_batch.safetensors"), "x": xs_x0(work)}
    ref_loss = json.loads((work / "paddle_loss.json").read_text())
    ref_grads = load_tensors(work / "paddle_grads.safetensors")
    fixed_all = load_tensors(work / "opt_grads.safetensors")
    fixed = [
        {k.split("/", 1)[1]: v for k, v in fixed_all.items() if k.startswith(f"{i}/")}
        for i in range(len(LRS))
    ]
    loss, grads, params = torch_training_check(
        state, batch, fixed, LRS, WEIGHT_DECAY, widths, device
    )
    ok = abs(loss - ref_loss) <= TOLERANCE * abs(ref_loss)
    print(f"training loss: twin {loss:.7f}, Paddle {ref_loss:.7f} {'OK' if ok else 'FAIL'}")
    g_ref = np.concatenate([ref_grads[k].ravel() for k in sorted(ref_grads)])
    g_got = np.concatenate([grads[k].ravel() for k in sorted(ref_grads)])
    ok &= _compare("gradients (all 64 tensors)", g_got, g_ref)
    ref_params = load_tensors(work / "paddle_opt_params.safetensors")
    moved = np.concatenate([(ref_params[k] - state[k]).ravel() for k in sorted(state)])
    diff = max(float(np.abs(params[k] - ref_params[k]).max()) for k in state)
    span = float(np.abs(moved).max())
    good = diff <= 1e-3 * span
    print(
        f"3 AdamW steps (clipping on the 2nd): max |param diff| {diff:.3g} over a largest "
        f"update of {span:.3g} ({diff / span:.2g}) {'OK' if good else 'FAIL'}"
    )
    return bool(ok and good)


def torch_side(work: Path, device: str = "cpu") -> bool:
    from segmentation_core.checkpoint_io import load_tensors, save_tensors
    from segmentation_core.training.twin.network import random_twin_state, twin_forward

    widths = tuple(json.loads((work / "widths.json").read_text()))
    state = load_tensors(work / "shipped_twin.safetensors")
    xs = load_tensors(work / "inputs.safetensors")
    ref = load_tensors(work / "paddle_out.safetensors")
    ok = True
    for k, x in xs.items():
        y = twin_forward(state, x, widths)
        ok &= _compare(
            f"twin vs Paddle eager, shipped weights, input {x.shape}", y, ref[f"y{k[1:]}"]
        )
    ok &= _torch_training(work, state, widths, device)
    if device != "cpu":  # on the GPU machine: the comparisons above are the point
        return ok
    fresh = random_twin_state(7, widths)
    save_tensors(work / "fresh_twin.safetensors", fresh)
    save_tensors(
        work / "twin_out.safetensors",
        {f"y{k[1:]}": twin_forward(fresh, x, widths) for k, x in xs.items()},
    )
    return ok


def import_side(work: Path) -> bool:
    import paddle

    from segmentation_core.checkpoint_io import load_tensors
    from segmentation_core.paddle_runtime import PaddlePredictor
    from segmentation_core.training.exported_weights import network_from_export
    from segmentation_core.training.twin_weights import export_twin_model, read_twin_weights

    state, widths = read_twin_weights(work / "fresh_twin.safetensors")
    model_dir = export_twin_model(state, widths, work / "imported_model", {"check": True})
    xs = load_tensors(work / "inputs.safetensors")
    ref = load_tensors(work / "twin_out.safetensors")
    net = network_from_export(model_dir)
    net.eval()
    predictor = PaddlePredictor(model_dir, device="cpu", threads=1)
    ok = True
    for k, x in xs.items():
        y_ref = ref[f"y{k[1:]}"]
        with paddle.no_grad():
            y = net(paddle.to_tensor(x)).numpy()
        ok &= _compare(f"imported model (eager) vs twin, input {x.shape}", y, y_ref)
        for i in range(x.shape[0]):
            y = predictor(x[i : i + 1])
            ok &= _compare(
                f"imported model (Predictor) vs twin, row {i} of {x.shape}", y, y_ref[i, 0]
            )
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["paddle", "torch", "import"])
    p.add_argument("--dir", required=True, help="folder the steps exchange files in")
    p.add_argument(
        "--model", default="resources/models/base", help="Paddle model folder (step paddle)"
    )
    p.add_argument("--device", default="cpu", help="torch device for step torch (cpu, cuda)")
    a = p.parse_args(argv)
    work = Path(a.dir)
    work.mkdir(parents=True, exist_ok=True)
    if a.step == "paddle":
        ok = paddle_side(work, Path(a.model))
    elif a.step == "torch":
        ok = torch_side(work, a.device)
    else:
        ok = import_side(work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
