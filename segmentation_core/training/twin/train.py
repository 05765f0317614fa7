"""Train the interactive base model with the PyTorch twin (a GPU machine without Paddle).

    python -m segmentation_core.training.twin.train --pack out/twin_pack --minutes 8 --out OUT

The recipe is the Paddle trainer's (`segmentation_core/training/trainer.py`): the same patches
(`prefetch.draw_sample`, here in DataLoader workers), the same simulated corrective clicks
(`trainer.simulate_clicks`), the same encoding, BCE + soft Dice over the valid voxels, AdamW
(beta 0.9/0.999, eps 1e-8, decoupled decay) with global-norm clipping at 5 (`twin.optim`), a linear warm-up and
a cosine decay over the time budget (`trainer.scheduled_lr`), and Dice@1 on the fixed
validation patches (`trainer.fixed_val_set`). What differs is only the framework, the batch
size and the device. Every `--checkpoint-every-s` the weights (`checkpoint.safetensors`, twin
names) and `train_log.json` are written into `--out`; at the end `weights.safetensors`, which
`python main.py import-twin` turns into a product model folder (docs/gpu_training.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from segmentation_core.checkpoint_io import CheckpointError, load_tensors, save_tensors, write_json
from segmentation_core.training.dataset import find_targets
from segmentation_core.training.pack import read_pack
from segmentation_core.training.synth_pool import SynthSpec
from segmentation_core.training.trainer import (
    TrainConfig,
    _input_batch,
    fixed_val_set,
    mark_image_dropout,
    scheduled_lr,
    simulate_clicks,
    validation_dice,
)
from segmentation_core.training.twin.data import PatchStream, patch_loader
from segmentation_core.training.twin.network import TwinUNet3D, load_numpy_state, numpy_state
from segmentation_core.training.twin.optim import clipped_step, make_adamw
from segmentation_core.training.twin_weights import DEFAULT_WIDTHS, infer_widths, twin_to_paddle

CHECKPOINT = "checkpoint.safetensors"
FINAL = "weights.safetensors"
LOG = "train_log.json"
PACK_INIT = "init.safetensors"  # the shipped weights, converted by make_twin_pack --init-from


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pack", required=True, help="training-data pack (scripts/make_twin_pack.py)")
    p.add_argument("--out", required=True, help="folder for checkpoints, weights and the log")
    p.add_argument("--minutes", type=float, default=8.0, help="training time budget")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps")
    p.add_argument("--device", default="auto", help="auto (cuda when present), cuda or cpu")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=48)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-steps", type=int, default=50)
    p.add_argument("--min-lr-fraction", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-sim-rounds", type=int, default=3)
    p.add_argument("--synthetic-fraction", type=float, default=0.15, help="synthetic lesions")
    p.add_argument(
        "--synth-share",
        type=float,
        default=0.0,
        help="share of patches from images generated from the pack's label maps (0: none)",
    )
    p.add_argument("--val-every", type=int, default=100)
    p.add_argument("--checkpoint-every-s", type=float, default=120.0)
    p.add_argument(
        "--workers",
        type=int,
        default=max(1, min(14, (os.cpu_count() or 2) - 2)),
        help="patch-drawing processes (0: in this process)",
    )
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's)")
    p.add_argument(
        "--init-from",
        default="",
        help="twin weights (.safetensors) to start from; 'pack' for the pack's init.safetensors",
    )
    p.add_argument(
        "--image-dropout",
        type=float,
        default=0.0,
        help="share of patches shown without the image channel (as train-base)",
    )
    p.add_argument(
        "--amp", action="store_true", help="bfloat16 autocast for the network (CUDA only)"
    )
    return p


def dice_bce_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The Paddle trainer's `_loss`: BCE averaged over valid voxels + (1 - soft Dice) per sample."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    bce = (bce * valid).sum() / (valid.sum() + 1.0)
    prob = torch.sigmoid(logits) * valid
    inter = (prob * target).sum(dim=(1, 2, 3, 4))
    denom = prob.sum(dim=(1, 2, 3, 4)) + target.sum(dim=(1, 2, 3, 4))
    dice = 1.0 - (2 * inter + 1.0) / (denom + 1.0)
    return bce + dice.mean()


def _device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda was asked for but torch sees no GPU")
    return torch.device(name)


def _init_weights(args, pack_dir: Path) -> tuple[dict | None, tuple[int, ...], str]:
    if not args.init_from:
        return None, DEFAULT_WIDTHS, ""
    path = pack_dir / PACK_INIT if args.init_from == "pack" else Path(args.init_from)
    state = load_tensors(path)
    widths, in_channels = infer_widths(state)
    twin_to_paddle(state, widths, in_channels, path)  # every name and shape checked
    return state, widths, str(path)


class TwinTrainer:
    """The twin network, its optimiser and the patch loader; `run()` trains to the budget."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = _device(args.device)
        # fixed patch shapes: let cuDNN pick its fastest convolutions once
        torch.backends.cudnn.benchmark = self.device.type == "cuda"
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        self.rng = np.random.default_rng(args.seed)
        pack_dir = Path(args.pack)
        self.pack = read_pack(pack_dir)
        for c in self.pack.train + self.pack.val:
            c.targets = find_targets(c)
        init, widths, self.init_from = _init_weights(args, pack_dir)
        self.net = TwinUNet3D(widths)
        if init is not None:
            load_numpy_state(self.net, init)
        self.cfg = TrainConfig(
            patch=args.patch,
            batch=args.batch,
            lr=args.lr,
            weight_decay=args.weight_decay,
            minutes=args.minutes,
            max_steps=args.max_steps,
            seed=args.seed,
            widths=widths,
            max_sim_rounds=args.max_sim_rounds,
            synthetic_fraction=args.synthetic_fraction,
            val_every=args.val_every,
            checkpoint_every_s=args.checkpoint_every_s,
            threads=args.threads,
            warmup_steps=args.warmup_steps,
            min_lr_fraction=args.min_lr_fraction,
            image_dropout=args.image_dropout,
        )
        synth = None
        if args.synth_share > 0:
            share = args.synth_share if self.pack.train else 1.0
            synth = SynthSpec(
                maps=tuple(self.pack.maps),
                share=share,
                exclude_values=self.pack.synth_exclude_values,
            )
        self.loader = patch_loader(
            PatchStream(self.pack.train, args.patch, args.synthetic_fraction, args.seed, synth),
            args.batch,
            args.workers,
        )
        # the workers start (fork) here, before this process touches CUDA
        self.batches = iter(self.loader)
        self.net.to(self.device)
        self.opt = make_adamw(self.net.parameters(), args.lr, args.weight_decay)
        self.val_set = fixed_val_set(self.pack.val, args.patch)
        self.step = 0
        self.history: list = []  # [step, mean loss of the last 50, val Dice@1 or None, seconds]
        self.losses: list[float] = []
        self.timing = {"data_s": 0.0, "simulate_s": 0.0, "step_s": 0.0}
        self.amp = bool(args.amp and self.device.type == "cuda")

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Boolean masks (batch, D, H, W) of the network in eval mode (no gradient)."""
        self.net.eval()
        with torch.no_grad(), self._autocast():
            logits = self.net(torch.from_numpy(x).to(self.device))
        self.net.train()
        return (logits[:, 0] > 0).cpu().numpy()

    def train_step(self, samples) -> float:
        t0 = time.monotonic()
        samples = mark_image_dropout(samples, self.cfg.image_dropout, self.rng)
        clicks, prev = simulate_clicks(samples, self.predict, self.rng, self.cfg.max_sim_rounds)
        t1 = time.monotonic()
        dev = self.device
        x = torch.from_numpy(_input_batch(samples, clicks, prev)).to(dev)
        y = torch.from_numpy(np.stack([s.target for s in samples])[:, None].astype(np.float32))
        v = torch.from_numpy(np.stack([s.valid for s in samples])[:, None].astype(np.float32))
        with self._autocast():
            logits = self.net(x)
        loss = dice_bce_loss(logits.float(), y.to(dev), v.to(dev))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        clipped_step(self.opt, list(self.net.parameters()))
        value = float(loss.detach())  # waits for the device: the step time is honest
        self.timing["simulate_s"] += t1 - t0
        self.timing["step_s"] += time.monotonic() - t1
        self.step += 1
        return value

    def log_record(self, elapsed: float, final: bool = False) -> dict:
        steps_per_s = self.step / max(elapsed, 1e-9)
        return {
            "trainer": "pytorch-twin",
            "device": torch.cuda.get_device_name(self.device)
            if self.device.type == "cuda"
            else "cpu",
            "torch": torch.__version__,
            "steps": self.step,
            "seconds": round(elapsed, 1),
            "steps_per_s": round(steps_per_s, 3),
            "patches_per_s": round(steps_per_s * self.cfg.batch, 2),
            "timing_s": {k: round(v, 1) for k, v in self.timing.items()},
            "final": final,
            "config": {
                **asdict(self.cfg),
                "init_from": self.init_from,
                "amp": self.amp,
                "workers": self.args.workers,
                "synth_share": self.args.synth_share,
            },
            "data": {
                "train": [c.name for c in self.pack.train],
                "validation": [c.name for c in self.pack.val],
                "excluded_values": {
                    c.name: list(c.exclude_values) for c in self.pack.train if c.exclude_values
                },
                "generated": None
                if self.args.synth_share <= 0
                else {
                    "label_maps": [m.name for m in self.pack.maps],
                    "share": self.args.synth_share,
                },
            },
            "history": self.history,
            "losses": [round(v, 4) for v in self.losses],  # every step's
        }

    def save(self, name: str, elapsed: float, final: bool = False) -> None:
        save_tensors(self.out / name, numpy_state(self.net))
        write_json(self.out / LOG, self.log_record(elapsed, final))

    def run(self) -> dict:
        cfg = self.cfg
        budget = cfg.minutes * 60.0
        losses = self.losses
        start = last_ck = time.monotonic()
        self.net.train()
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= budget or (cfg.max_steps and self.step >= cfg.max_steps):
                break
            lr = scheduled_lr(cfg, self.step, elapsed, budget)
            for group in self.opt.param_groups:
                group["lr"] = lr
            t0 = time.monotonic()
            samples = next(self.batches)
            self.timing["data_s"] += time.monotonic() - t0
            losses.append(self.train_step(samples))
            val = None
            if cfg.val_every and self.step % cfg.val_every == 0:
                val = validation_dice(self.val_set, self.predict)
            if self.step % 10 == 0 or val is not None:
                now = time.monotonic() - start
                mean = round(float(np.mean(losses[-50:])), 4)
                self.history.append([self.step, mean, val, round(now, 1)])
                vtxt = f" val Dice@1 {val:.3f}" if val is not None else ""
                print(
                    f"step {self.step:6d} loss {mean:.4f} (last 10: {np.mean(losses[-10:]):.4f})"
                    f"{vtxt} lr {lr:.2e} "
                    f"{self.step / now:.2f} steps/s, waited for data "
                    f"{self.timing['data_s'] / now:.0%} ({now:.0f} s)",
                    flush=True,
                )
            if time.monotonic() - last_ck > cfg.checkpoint_every_s:
                self.save(CHECKPOINT, time.monotonic() - start)
                last_ck = time.monotonic()
        elapsed = time.monotonic() - start
        self.save(FINAL, elapsed, final=True)
        return self.log_record(elapsed, final=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        trainer = TwinTrainer(args)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    dev = trainer.device
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(
        f"device {name}, torch {torch.__version__}, {sum(p.numel() for p in trainer.net.parameters())}"
        f" parameters, batch {args.batch}, patch {args.patch}, {args.workers} workers, "
        f"{len(trainer.pack.train)} cases, {len(trainer.val_set)} validation patches",
        flush=True,
    )
    record = trainer.run()
    record.pop("history")
    record.pop("losses")
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
