"""Fine-tuning the interactive model on a project's finished cases (the learning loop, issue 14).

`finetune()` starts from an exported model folder (the shipped base or a project version: its
weights are read by `exported_weights`), trains with the base trainer (`Trainer`: simulated
clicks as at use, safetensors checkpoints, resume, time budget) under a recipe made for a few
cases and a few minutes (`FinetuneConfig`), and exports the result to `work_dir/model`.

What differs from base training, and why:
- structures are sampled *balanced per label value* across the finished cases (`ProjectSampler`):
  the project's label set is what the user will click, each structure as often as the others;
- a share of the patches replays other data (`replay_cases`, and synthetic blobs), so that the
  model keeps segmenting what is outside the project's label set;
- the learning rate warms up briefly and decays by a cosine over the budget, from the
  checkpoint's weights (a retrain must not first wreck what the model knows).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from segmentation_core.training.dataset import TargetSampler, TrainingCase, find_targets

log = logging.getLogger(__name__)

MANIFEST = "finetune.json"  # what this work folder's checkpoint was trained for (resume check)
MODEL_SUBDIR = "model"


@dataclass
class FinetuneConfig:
    minutes: float = 10.0  # wall-clock budget of the training loop
    threads: int = 2
    seed: int = 0
    max_steps: int = 0  # 0 = until the budget ends
    # chosen on generated held-out subjects (benchmarks/bench_learning.py, MODEL_CARD.md): on
    # this CPU a round is ~100 steps, and a high peak rate learns most from so few
    lr: float = 2e-3
    warmup_steps: int = 10
    min_lr_fraction: float = 0.05
    weight_decay: float = 1e-4
    patch: int = 48
    batch: int = 2
    trainable: str = "all"  # "all", "decoder" (decoder + head) or "norms" (norms + head)
    max_sim_rounds: int = 1  # 3 was worse per minute (each round is one more forward pass)
    synthetic_fraction: float = 0.05  # generated blobs: "segment what I click" beyond anatomy
    replay_share: float = 0.15  # patches drawn from replay_cases (when given)
    balanced: bool = True  # sample the project's structures per label value
    checkpoint_every_s: float = 60.0
    prefetch: bool = True


@dataclass
class FinetuneResult:
    model_dir: Path  # exported inference model folder (work_dir / "model")
    steps: int
    seconds: float
    history: list = field(default_factory=list)  # [step, loss, val or None]
    cancelled: bool = False


class ProjectSampler:
    """(case, target): a label value uniformly among the project's, then a case holding it;
    with probability `replay_share` a replay case's target instead (volume-weighted as in base
    training). Built as `ProjectSampler(n_replay, replay_share)(cases, rng)`: the replay cases
    are the last `n_replay` of `cases` (one list, so the patch worker gets them all)."""

    def __init__(self, n_replay: int = 0, replay_share: float = 0.0, balanced: bool = True):
        self.n_replay = n_replay
        self.replay_share = replay_share
        self.balanced = balanced

    def __call__(self, cases: list[TrainingCase], rng: np.random.Generator) -> _ProjectDraw:
        split = len(cases) - self.n_replay
        return _ProjectDraw(cases[:split], cases[split:], rng, self.replay_share, self.balanced)


class _ProjectDraw:
    def __init__(self, project, replay, rng, replay_share: float, balanced: bool) -> None:
        self.rng = rng
        self.project = TargetSampler(project, rng) if not balanced else None
        self.by_value: dict[int, list] = {}
        for c in project:
            for t in c.targets:
                self.by_value.setdefault(t.value, []).append((c, t))
        if not self.by_value:
            raise ValueError("no training targets found (need labelled structures of ≥ 0.5 mL)")
        self.values = sorted(self.by_value)
        self.replay = TargetSampler(replay, rng) if any(c.targets for c in replay) else None
        self.replay_share = replay_share if self.replay is not None else 0.0

    def sample(self):
        if self.replay_share and self.rng.random() < self.replay_share:
            return self.replay.sample()
        if self.project is not None:
            return self.project.sample()
        pairs = self.by_value[self.values[int(self.rng.integers(len(self.values)))]]
        return pairs[int(self.rng.integers(len(pairs)))]


def _fingerprint(cases, replay, init_model_dir: Path, config: FinetuneConfig) -> str:
    """What must be equal for a checkpoint in work_dir to be resumed."""
    h = hashlib.sha256()
    for c in list(cases) + list(replay):
        h.update(c.name.encode())
        h.update(np.ascontiguousarray(c.label).tobytes()[:: max(1, c.label.nbytes // 65536)])
        h.update(repr((c.label.shape, c.spacing_zyx, tuple(c.exclude_values))).encode())
    for name in ("model.pdiparams", "weights.safetensors"):
        p = Path(init_model_dir) / name
        if p.is_file():
            h.update(p.read_bytes())
    h.update(json.dumps(asdict(config), sort_keys=True).encode())
    return h.hexdigest()


def _clear_checkpoint(work_dir: Path) -> None:
    from segmentation_core.training.trainer import CHECKPOINT, OPT_CHECKPOINT, STATE

    for name in (STATE, CHECKPOINT, OPT_CHECKPOINT):  # the manifest first: no half checkpoint
        (work_dir / name).unlink(missing_ok=True)


def finetune(
    cases: list[TrainingCase],
    init_model_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    *,
    replay_cases: Sequence[TrainingCase] = (),
    progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneResult:
    """Fine-tune the model in `init_model_dir` on `cases`; export to `work_dir/model`.

    Resumes when `work_dir` holds a checkpoint of an interrupted run with the same cases,
    starting model and config (otherwise it starts over). `should_stop()` true: checkpoint,
    stop and export what was trained (`cancelled=True`).
    """
    from segmentation_core.checkpoint_io import read_json, write_json
    from segmentation_core.model_store import read_meta
    from segmentation_core.training.exported_weights import exported_state_dict
    from segmentation_core.training.trainer import TrainConfig, Trainer

    work_dir = Path(work_dir)
    init_model_dir = Path(init_model_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    init_meta = read_meta(init_model_dir)
    cases, replay = list(cases), list(replay_cases)
    for c in cases + replay:
        if not c.targets:
            c.targets = find_targets(c)
    if not any(c.targets for c in cases):
        raise ValueError("no training targets in the finished cases (structures ≥ 0.5 mL)")
    fingerprint = _fingerprint(cases, replay, init_model_dir, config)
    manifest = work_dir / MANIFEST
    if not manifest.is_file() or read_json(manifest).get("fingerprint") != fingerprint:
        _clear_checkpoint(work_dir)  # another run's checkpoint: start over
        write_json(manifest, {"fingerprint": fingerprint, "init_model_dir": str(init_model_dir)})

    tc = TrainConfig(
        patch=config.patch,
        batch=config.batch,
        lr=config.lr,
        weight_decay=config.weight_decay,
        minutes=config.minutes,
        max_steps=config.max_steps,
        seed=config.seed,
        widths=tuple(init_meta.get("widths") or (8, 16, 32, 64)),
        max_sim_rounds=config.max_sim_rounds,
        prefetch=config.prefetch,
        synthetic_fraction=config.synthetic_fraction,
        val_every=0,
        checkpoint_every_s=config.checkpoint_every_s,
        threads=config.threads,
        warmup_steps=config.warmup_steps,
        min_lr_fraction=config.min_lr_fraction,
        trainable=config.trainable,
    )

    def report(info: dict) -> None:
        if progress is not None:
            info = dict(info)
            info["val"] = info.pop("val_dice", None)
            progress(info)

    stopped = []

    def stop() -> bool:
        if should_stop is not None and should_stop():
            stopped.append(True)
            return True
        return False

    from segmentation_core.network import InteractiveUNet3D

    init_state = exported_state_dict(init_model_dir, InteractiveUNet3D(tc.widths))
    trainer = Trainer(
        cases + replay,
        work_dir,
        tc,
        progress=report,
        init_state=init_state,
        sampler_factory=ProjectSampler(len(replay), config.replay_share, config.balanced),
    )
    t0 = time.monotonic()
    try:
        state = trainer.run(should_stop=stop)
    finally:
        trainer.close()
    log.info("fine-tuned %d steps in %.0f s", state.step, time.monotonic() - t0)
    model_dir = work_dir / MODEL_SUBDIR
    meta = {
        "finetune": {
            "parent_model": str(init_model_dir),
            "parent_version": init_meta.get("version", ""),
            "cases": [c.name for c in cases],
            "replay_cases": [c.name for c in replay],
            "label_values": sorted({t.value for c in cases for t in c.targets}),
            "config": asdict(config),
            "cancelled": bool(stopped),
        }
    }
    trainer.export(model_dir, meta)
    return FinetuneResult(
        model_dir=model_dir,
        steps=state.step,
        seconds=round(state.elapsed_s, 1),
        history=list(state.history),
        cancelled=bool(stopped),
    )
