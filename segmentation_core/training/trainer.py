"""The training loop: iterative click simulation, loss, validation, checkpoints, time budget.

Each step draws a batch of patches; for most of them the network first predicts from one click,
then corrective clicks are added where it is wrong and its own prediction is fed back as the
previous mask (as the engine does at use); the gradient step is taken on the final state.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from segmentation_core.checkpoint_io import (
    CheckpointError,
    load_tensors,
    read_json,
    save_tensors,
    write_json,
)
from segmentation_core.encoding import build_input
from segmentation_core.evaluation.clicker import next_click
from segmentation_core.local_merge import merge_correction
from segmentation_core.masks import dice
from segmentation_core.model_store import model_files_present
from segmentation_core.training.dataset import TargetSampler, TrainingCase, find_targets
from segmentation_core.training.optim import InPlaceAdamW
from segmentation_core.training.prefetch import PrefetchWorker, draw_sample
from segmentation_core.training.samples import (
    PatchSample,
    make_patch_sample,
)
from segmentation_core.training.synth_pool import SynthCasePool, SynthSpec

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.safetensors"  # network weights (safetensors: cannot carry code)
OPT_CHECKPOINT = "optimizer.safetensors"  # the optimiser's moments and beta powers
STATE = "train_state.json"  # the manifest: step, time, history, names; written last
CHECKPOINT_FORMAT = "radlabel-safetensors-1"
# what older versions wrote with paddle.save (pickle): refused, never loaded
LEGACY_PICKLES = ("checkpoint.pdparams", "checkpoint.pdopt")
# Simulated corrections measure distances in patch voxels, whatever the patch's spacing: the
# shipped model was trained so (the patch's mm would move clicks on anisotropic patches).
CLICK_UNITS = (1.0, 1.0, 1.0)


@dataclass
class TrainConfig:
    patch: int = 48
    batch: int = 2
    lr: float = 2e-3
    weight_decay: float = 1e-4
    minutes: float = 60.0
    max_steps: int = 0  # 0 = until the time budget ends
    seed: int = 0
    widths: tuple[int, ...] = (8, 16, 32, 64)
    max_sim_rounds: int = 3
    prefetch: bool = True  # draw patches in a worker process (False: between steps, in-process)
    synthetic_fraction: float = 0.15
    val_every: int = 100
    checkpoint_every_s: float = 300.0
    threads: int = 1
    init_from: str = ""  # a checkpoint.safetensors to start from (ignored when resuming)
    warmup_steps: int = 50  # linear warm-up of the learning rate
    min_lr_fraction: float = 0.05  # the cosine decays to this share of `lr`
    trainable: str = "all"  # "all", "decoder" (decoder + head) or "norms" (norms + head)
    # share of training patches shown without the image channel (affinity channels kept): a
    # first click inside a large organ gets a patch of near-uniform image where the affinity
    # channel already holds the organ; without this the network ignores affinity and predicts
    # a small ball around the click (issue 16, lever 3). Validation never drops the image.
    image_dropout: float = 0.0
    # "static": the oneDNN static-graph step (training/static_graph.py); "eager": Paddle's
    # eager mode with the in-place AdamW (the reference; same losses to float32 rounding)
    engine: str = "static"


@dataclass
class TrainState:
    step: int = 0
    elapsed_s: float = 0.0
    history: list = field(default_factory=list)  # [step, loss, val_dice or None]


def _as_used(prev: np.ndarray, pred: np.ndarray, clicks) -> np.ndarray:
    """The mask a user would have after this prediction: the session merges a correction click's
    answer locally (`segmentation_core.local_merge`), so the simulation does too."""
    old = prev > 0.5
    if len(clicks) < 2 or not old.any():
        return pred
    pt, positive = clicks[-1]
    return merge_correction(old, pred, tuple(int(v) for v in pt), bool(positive))


def _input_batch(samples, clicks, prev):
    """The same encoding as at use (`build_input`), one sample per batch row; a sample marked
    `drop_image` has its image channel zeroed after its affinity channels were computed."""
    x = np.concatenate(
        [
            build_input(
                s.image,
                [c for c, pos in clicks[i] if pos],
                [c for c, pos in clicks[i] if not pos],
                prev[i],
            )
            for i, s in enumerate(samples)
        ]
    )
    for i, s in enumerate(samples):
        if s.drop_image:
            x[i, 0] = 0.0
    return x


def mark_image_dropout(
    samples: list[PatchSample], share: float, rng: np.random.Generator
) -> list[PatchSample]:
    """Marks about `share` of the samples to be shown without their image channel."""
    if share > 0:
        for s in samples:
            s.drop_image = bool(rng.random() < share)
    return samples


# --- the recipe's numpy parts, shared with the PyTorch twin (training/twin/train.py) ----------
def round_probs(max_sim_rounds: int) -> np.ndarray:
    """Probabilities of 0..max_sim_rounds simulated rounds: 0.4 for none, the rest even."""
    k = max_sim_rounds + 1
    p = np.array([0.4] + [0.6 / (k - 1)] * (k - 1)) if k > 1 else np.array([1.0])
    return p / p.sum()


def simulate_clicks(
    samples: list[PatchSample],
    predict: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
    max_sim_rounds: int,
):
    """Clicks and previous masks after 0..max_sim_rounds simulated interactions; `predict`
    maps an input batch to boolean masks (the network in eval mode, no gradient)."""
    n = len(samples)
    clicks = [[(s.first_click, True)] for s in samples]
    prev = [np.zeros(s.image.shape, np.float32) for s in samples]
    rounds = int(rng.choice(max_sim_rounds + 1, p=round_probs(max_sim_rounds)))
    for _ in range(rounds):
        pred = predict(_input_batch(samples, clicks, prev))
        for i in range(n):
            mask = _as_used(prev[i], pred[i], clicks[i])
            nc = next_click(mask, samples[i].target, CLICK_UNITS, valid=samples[i].valid)
            prev[i] = mask.astype(np.float32)
            if nc is not None:
                clicks[i].append(nc)
    return clicks, prev


def fixed_val_set(val_cases: list[TrainingCase], patch: int) -> list[PatchSample]:
    """The validation patches: up to 8 targets per case spread over sizes, drawn with a fixed
    seed so every run (and the twin) validates on the same patches."""
    rng = np.random.default_rng(12345)
    out = []
    for c in val_cases:
        # spread over sizes: the largest organs alone would hide over-segmentation of small
        # structures, which the harness punishes hardest
        by_size = sorted(c.targets, key=lambda t: -t.volume_ml)
        picks = np.unique(np.linspace(0, len(by_size) - 1, min(8, len(by_size))).astype(int))
        for t in (by_size[i] for i in picks):
            for _ in range(5):
                s = make_patch_sample(c, t, patch, rng)
                if s is not None:
                    out.append(s)
                    break
    return out


def validation_dice(
    val_set: list[PatchSample], predict: Callable[[np.ndarray], np.ndarray]
) -> float | None:
    """Mean Dice of one-click predictions on the validation patches (None without any)."""
    if not val_set:
        return None
    dices = []
    for i in range(0, len(val_set), 4):
        chunk = val_set[i : i + 4]
        clicks = [[(s.first_click, True)] for s in chunk]
        prev = [np.zeros(s.image.shape, np.float32) for s in chunk]
        pred = predict(_input_batch(chunk, clicks, prev))
        dices += [dice(pred[j] & s.valid, s.target) for j, s in enumerate(chunk)]
    return float(np.mean(dices))


def scheduled_lr(cfg: TrainConfig, step: int, elapsed: float, budget: float) -> float:
    """Cosine decay to `min_lr_fraction` over the budget (time, or steps when max_steps is
    set), after a linear warm-up over the first `warmup_steps` steps."""
    frac = min(1.0, elapsed / budget) if not cfg.max_steps else step / cfg.max_steps
    floor = cfg.min_lr_fraction
    lr = cfg.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac)))
    if step < cfg.warmup_steps:
        lr *= (step + 1) / cfg.warmup_steps
    return lr


def widen_state_dict(old: dict, new: dict) -> dict:
    """`old` weights shaped for `new`: a layer that gained input channels keeps its old weights
    for the first ones and gets zeros for the added ones, so the widened network computes
    exactly what the old one did until training moves the new weights."""
    out = {}
    for key, ref in new.items():
        if key not in old:
            raise ValueError(f"checkpoint has no parameter {key!r}")
        w = np.asarray(old[key].numpy() if hasattr(old[key], "numpy") else old[key])
        shape = tuple(ref.shape)
        if w.shape != shape:
            if (
                len(shape) < 2
                or w.shape[0] != shape[0]
                or w.shape[1] > shape[1]
                or w.shape[2:] != shape[2:]
            ):
                raise ValueError(f"{key}: checkpoint shape {w.shape} does not fit {shape}")
            wide = np.zeros(shape, w.dtype)
            wide[:, : w.shape[1]] = w
            w = wide
        out[key] = w
    return out


def check_resume_folder(out_dir: Path) -> None:
    """Refuse a work folder that holds an older version's pickle checkpoint and no safetensors
    one: resuming would need to unpickle it, and starting over would silently drop it."""
    out = Path(out_dir)
    if (out / CHECKPOINT).is_file():
        return
    for name in LEGACY_PICKLES:
        if (out / name).exists():
            raise CheckpointError(
                "pickle checkpoints are refused (written by an older version with paddle.save; "
                "they can run code when loaded): use a new --out folder",
                out / name,
            )


def init_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The weights to fine-tune from: a checkpoint.safetensors, a training folder holding one,
    or an exported model folder. Pickle files are refused before anything reads them."""
    p = Path(path)
    if p.is_dir() and not (p / CHECKPOINT).is_file() and model_files_present(p):
        # an exported model folder (the shipped base model among them): continue from it
        from segmentation_core.training.exported_weights import network_from_export

        net = network_from_export(p)
        return {k: np.asarray(v.numpy()) for k, v in net.state_dict().items()}
    if p.is_dir():
        p = p / CHECKPOINT
    return load_tensors(p)


def _checked_weights(weights: dict, ref: dict, path: Path | str) -> dict:
    """`weights` when every parameter of the network is there with its shape."""
    for key, value in ref.items():
        if key not in weights:
            raise CheckpointError(f"checkpoint has no parameter {key!r}", path)
        if tuple(weights[key].shape) != tuple(value.shape):
            raise CheckpointError(
                f"{key}: checkpoint shape {tuple(weights[key].shape)} is not {tuple(value.shape)}",
                path,
            )
    return weights


def _plain(value, key: str):
    """`value` as JSON numbers/strings/lists/dicts (optimiser extras); anything else refused."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, key) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item(), key)
    raise TypeError(f"optimizer state {key!r} of type {type(value).__name__} is not storable")


def _renamed(key: str, mapping: dict[str, str]) -> str:
    """An optimiser-state key (`<param name>_moment1_0`, ...) with its parameter renamed."""
    for old in sorted(mapping, key=len, reverse=True):
        if key.startswith(old + "_"):
            return mapping[old] + key[len(old) :]
    return key


def interactive_loss(logits, target, valid):
    """BCE over the valid voxels + soft Dice per patch; builds the eager loss and the static
    training graph alike (`reduce_sum`)."""
    import paddle

    from segmentation_core.training.static_graph import reduce_sum, sigmoid

    F = paddle.nn.functional
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    bce = reduce_sum(bce * valid) / (reduce_sum(valid) + 1.0)
    prob = sigmoid(logits) * valid
    axes = [1, 2, 3, 4]
    inter = reduce_sum(prob * target, axes)
    denom = reduce_sum(prob, axes) + reduce_sum(target, axes)
    dice = 1.0 - (2 * inter + 1.0) / (denom + 1.0)
    return bce + paddle.mean(dice)


def trainable_parameters(net, which: str) -> list:
    """The parameters `which` names ("all", "decoder": decoder + head, "norms": instance norms
    + head); the others get stop_gradient, so backward stops below the lowest trained layer."""
    if which not in ("all", "decoder", "norms"):
        raise ValueError(f"unknown trainable set {which!r}")
    chosen = []
    for key, p in net.named_parameters():
        if which == "all":
            keep = True
        elif which == "decoder":
            keep = key.startswith(("up.", "dec.", "head."))
        else:
            keep = key.startswith("head.") or ".body.1." in key or ".body.4." in key
        p.stop_gradient = not keep
        if keep:
            chosen.append(p)
    return chosen


class Trainer:
    """Owns the network, optimiser and sampler; `run()` trains until the budget is used."""

    def __init__(
        self,
        cases: list[TrainingCase],
        out_dir: Path,
        config: TrainConfig,
        val_cases: list[TrainingCase] | None = None,
        progress: Callable[[dict], None] | None = None,
        *,
        init_state: dict[str, np.ndarray] | None = None,
        sampler_factory: Callable = TargetSampler,
        synth: SynthSpec | None = None,
    ) -> None:
        """`synth`: also train on images generated from label maps, `synth.share` of the
        patches (all of them when `cases` is empty)."""
        import paddle

        from segmentation_core.network import InteractiveUNet3D

        self.paddle = paddle
        self.cfg = config
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress or (lambda info: None)
        paddle.base.core.set_num_threads(max(1, int(config.threads)))
        paddle.seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        for c in cases + (val_cases or []):
            if not c.targets:
                c.targets = find_targets(c)
        self.cases = cases
        # a factory (cases, rng) -> sampler; picklable, as the patch worker builds its own
        self.sampler_factory = sampler_factory
        self.synth = synth
        # generated cases only: no real sampler (TargetSampler refuses an empty list)
        self.sampler = sampler_factory(cases, self.rng) if cases or synth is None else None
        self.synth_pool = SynthCasePool(synth, self.rng) if synth is not None else None
        self.net = InteractiveUNet3D(config.widths)
        # not paddle.optimizer.AdamW: its kernel slows every later convolution ~1.6x here
        # (segmentation_core/training/optim.py); the same update, in place, does not
        self.opt = InPlaceAdamW(
            trainable_parameters(self.net, config.trainable),
            learning_rate=config.lr,
            weight_decay=config.weight_decay,
            clip_norm=5.0,
        )
        self.state = TrainState()
        self._prefetch: PrefetchWorker | None = None
        self.val_set = self._fixed_val_set(val_cases or [])
        check_resume_folder(self.out_dir)
        if init_state is not None and not (self.out_dir / CHECKPOINT).is_file():
            self.net.set_state_dict(_checked_weights(init_state, self.net.state_dict(), "init"))
        elif config.init_from and not (self.out_dir / CHECKPOINT).is_file():
            self.net.set_state_dict(
                widen_state_dict(init_weights(config.init_from), self.net.state_dict())
            )
            log.info("initialised from %s", config.init_from)
        self._resume()
        if config.engine not in ("static", "eager"):
            raise ValueError(f"unknown training engine {config.engine!r}")
        self.graph = self._build_graph() if config.engine == "static" else None

    def _build_graph(self):
        """The static training graph, holding this trainer's weights and optimiser state."""
        from segmentation_core.encoding import IN_CHANNELS
        from segmentation_core.network import InteractiveUNet3D
        from segmentation_core.training.static_graph import StaticGraphTrainer, load_from_eager

        cfg = self.cfg
        field_ = [-1, -1, -1]
        graph = StaticGraphTrainer(
            lambda: InteractiveUNet3D(cfg.widths),
            {
                "x": ([-1, IN_CHANNELS, *field_], "float32"),
                "y": ([-1, 1, *field_], "float32"),
                "v": ([-1, 1, *field_], "float32"),
            },
            lambda logits, f: interactive_loss(logits, f["y"], f["v"]),
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            clip_norm=5.0,
            trainable=lambda net: trainable_parameters(net, cfg.trainable),
        )
        load_from_eager(graph, self.net, self.opt)
        return graph

    def _sync_from_graph(self) -> None:
        """The graph's weights and optimiser state into the eager master copies."""
        from segmentation_core.training.static_graph import copy_to_eager

        if self.graph is not None:
            copy_to_eager(self.graph, self.net, self.opt)

    # --- persistence -------------------------------------------------------------------------
    def _resume(self) -> None:
        ck = self.out_dir / CHECKPOINT
        st = self.out_dir / STATE
        if ck.is_file() and st.is_file():
            saved = read_json(st)
            if saved.pop("format", None) != CHECKPOINT_FORMAT:
                raise CheckpointError("not a checkpoint manifest of this version", st)
            old_names = saved.pop("param_names", None)
            extra = saved.pop("optimizer_extra", {})
            try:
                self.state = TrainState(**saved)
            except TypeError as e:
                raise CheckpointError(f"unexpected manifest fields ({e})", st) from None
            self.net.set_state_dict(_checked_weights(load_tensors(ck), self.net.state_dict(), ck))
            opt_path = self.out_dir / OPT_CHECKPOINT
            if opt_path.is_file():
                opt_state: dict = dict(load_tensors(opt_path))
                opt_state.update(extra)
                self.opt.set_state_dict(self._rename_opt_state(opt_state, old_names))
            self.rng = np.random.default_rng(self.cfg.seed + self.state.step)
            for draws in (self.sampler, self.synth_pool):
                if draws is not None:
                    draws.rng = self.rng
            log.info("resumed from step %d", self.state.step)

    def _param_names(self) -> list[str]:
        return [p.name for p in self.net.parameters()]

    def _rename_opt_state(self, state: dict, old_names: list[str] | None) -> dict:
        """Optimizer state is keyed by Paddle's global parameter names, which differ between
        two networks built in one process: map them by parameter order."""
        if not old_names:
            return state
        mapping = dict(zip(old_names, self._param_names()))
        return {_renamed(key, mapping): value for key, value in state.items()}

    def save_checkpoint(self) -> None:
        """Weights and optimiser tensors as safetensors, the rest in the JSON manifest (written
        last, so a folder whose manifest is there has both tensor files)."""
        self._sync_from_graph()
        save_tensors(
            self.out_dir / CHECKPOINT, {k: v.numpy() for k, v in self.net.state_dict().items()}
        )
        tensors, extra = {}, {}
        for key, value in self.opt.state_dict().items():
            if hasattr(value, "numpy"):
                tensors[key] = value.numpy()
            else:  # e.g. an LR scheduler's state: plain numbers
                extra[key] = _plain(value, key)
        save_tensors(self.out_dir / OPT_CHECKPOINT, tensors)
        write_json(
            self.out_dir / STATE,
            {
                "format": CHECKPOINT_FORMAT,
                **asdict(self.state),
                "param_names": self._param_names(),
                "optimizer_extra": extra,
            },
        )

    # --- data ---------------------------------------------------------------------------------
    def _draw_sample(self) -> PatchSample:
        return draw_sample(
            self.sampler, self.rng, self.cfg.patch, self.cfg.synthetic_fraction, self.synth_pool
        )

    def _next_batch(self) -> list[PatchSample]:
        return mark_image_dropout(self._draw_batch(), self.cfg.image_dropout, self.rng)

    def _draw_batch(self) -> list[PatchSample]:
        cfg = self.cfg
        if not cfg.prefetch:
            return [self._draw_sample() for _ in range(cfg.batch)]
        if self._prefetch is None:
            # its own generator, seeded by the step it starts at: a resumed run draws afresh
            self._prefetch = PrefetchWorker(
                self.cases,
                cfg.patch,
                cfg.synthetic_fraction,
                cfg.batch,
                [cfg.seed, self.state.step],
                sampler_factory=self.sampler_factory,
                synth=self.synth,
            )
        return self._prefetch.next_batch()

    def close(self) -> None:
        """Stops the patch worker (also stopped when the process exits)."""
        if self._prefetch is not None:
            self._prefetch.close()
            self._prefetch = None

    def _fixed_val_set(self, val_cases: list[TrainingCase]) -> list[PatchSample]:
        return fixed_val_set(val_cases, self.cfg.patch)

    # --- network calls ------------------------------------------------------------------------
    def _predict(self, x: np.ndarray) -> np.ndarray:
        if self.graph is not None:
            return self.graph.predict(x)[:, 0] > 0
        paddle = self.paddle
        self.net.eval()
        with paddle.no_grad():
            logits = self.net(paddle.to_tensor(x)).numpy()
        self.net.train()
        return logits[:, 0] > 0

    def _simulate(self, samples: list[PatchSample]):
        """Clicks and previous masks after 0..max_sim_rounds simulated interactions."""
        return simulate_clicks(samples, self._predict, self.rng, self.cfg.max_sim_rounds)

    def _loss(self, logits, target, valid):
        return interactive_loss(logits, target, valid)

    def validate(self) -> float | None:
        return validation_dice(self.val_set, self._predict)

    # --- the loop -------------------------------------------------------------------------------
    def _learning_rate(self, elapsed: float, budget: float) -> float:
        return scheduled_lr(self.cfg, self.state.step, elapsed, budget)

    def _train_step(self) -> float:
        """One optimiser step on a fresh batch with simulated clicks; returns its loss."""
        paddle = self.paddle
        samples = self._next_batch()
        clicks, prev = self._simulate(samples)
        if self.graph is not None:
            feed = {
                "x": _input_batch(samples, clicks, prev),
                "y": np.stack([s.target for s in samples])[:, None].astype(np.float32),
                "v": np.stack([s.valid for s in samples])[:, None].astype(np.float32),
            }
            loss_value = self.graph.step(feed, self.opt.get_lr())
            self.state.step += 1
            return loss_value
        x = paddle.to_tensor(_input_batch(samples, clicks, prev))
        y = paddle.to_tensor(np.stack([s.target for s in samples])[:, None].astype(np.float32))
        v = paddle.to_tensor(np.stack([s.valid for s in samples])[:, None].astype(np.float32))
        loss = self._loss(self.net(x), y, v)
        loss.backward()
        self.opt.step()
        self.opt.clear_grad()
        self.state.step += 1
        return float(loss)

    def _record(self, losses: list[float], start: float, budget: float, lr: float) -> None:
        """Validate when due; every 10 steps (and after validating) log and report progress."""
        cfg = self.cfg
        val = None
        if cfg.val_every and self.state.step % cfg.val_every == 0:
            val = self.validate()
        if self.state.step % 10 == 0 or val is not None:
            mean_loss = float(np.mean(losses[-50:]))
            self.state.history.append([self.state.step, round(mean_loss, 4), val])
            self.progress(
                {
                    "step": self.state.step,
                    "loss": mean_loss,
                    "val_dice": val,
                    "elapsed_s": time.monotonic() - start,
                    "budget_s": budget,
                    "lr": lr,
                }
            )

    def run(self, should_stop: Callable[[], bool] | None = None) -> TrainState:
        cfg = self.cfg
        budget = cfg.minutes * 60.0
        start = time.monotonic() - self.state.elapsed_s
        last_ck = time.monotonic()
        self.net.train()
        losses: list[float] = []
        while True:
            elapsed = time.monotonic() - start
            # a budget of 0 with a step count: the steps decide (minutes 0 is "no time limit")
            out_of_time = elapsed >= budget and (budget > 0 or not cfg.max_steps)
            if out_of_time or (cfg.max_steps and self.state.step >= cfg.max_steps):
                break
            if should_stop is not None and should_stop():
                break
            lr = self._learning_rate(elapsed, budget)
            self.opt.set_lr(lr)
            losses.append(self._train_step())
            self._record(losses, start, budget, lr)
            if time.monotonic() - last_ck > cfg.checkpoint_every_s:
                self.state.elapsed_s = time.monotonic() - start
                self.save_checkpoint()
                last_ck = time.monotonic()
        self.state.elapsed_s = time.monotonic() - start
        self.save_checkpoint()
        return self.state

    def export(self, model_dir: Path, extra_meta: dict) -> Path:
        from segmentation_core.model_store import export_inference_model

        meta = {
            "training": {
                "steps": self.state.step,
                "seconds": round(self.state.elapsed_s, 1),
                "config": asdict(self.cfg),
                "history_tail": self.state.history[-20:],
            },
            **extra_meta,
        }
        self._sync_from_graph()
        return export_inference_model(self.net, model_dir, meta)
