"""Training the automatic model: plan, folds, stages, checkpoints, validation, model card.

`train_auto(cases, out_dir, config)` plans from the cases (or reuses the plan already in
`out_dir`, which is how an interrupted run resumes), then for each fold (k-fold per patient, or
`"all"`) and each plan stage trains a `unet.AutoUNet3D` with Dice + cross-entropy (deep
supervision), the in-place AdamW (`segmentation_core.training.optim`: Paddle's own Adam slows
every later convolution on the CPU, STACK-NOTES) and a poly learning-rate schedule over the
stage's time budget. It checkpoints every `checkpoint_minutes`, reports progress (loss and a
pseudo-Dice per class on fixed validation patches) and exports each stage's inference model.
After a fold, its validation cases are segmented with the exported models and scored, with and
without the largest-component filter; the card records the cross-validated Dice per label, the
classes for which the filter helps, and the folds inference ensembles.

Scale-out: unchanged under `python -m paddle.distributed.launch`: `distributed` wraps the net
in `paddle.DataParallel` when there are several processes, shards the cases per epoch, and
only rank 0 writes checkpoints, exports and the card.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from segmentation_core.auto import distributed, orientation, synth_source
from segmentation_core.auto import folds as folds_mod
from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.fingerprint import fingerprint
from segmentation_core.auto.model_folder import (
    PLAN,
    AutoModelError,
    export_dir,
    fold_name,
    stage_dir,
    write_card,
)
from segmentation_core.auto.patches import PatchSampler, StageCase
from segmentation_core.auto.plan import Budget, make_plan
from segmentation_core.auto.postprocess import class_dice, decide_largest_component
from segmentation_core.auto.preprocess import (
    label_to_classes,
    resample,
    target_shape,
)
from segmentation_core.auto.stage_batches import (
    ShardedCases,
    batch_stream,
    generated_cases,
    prepare_stage_case,
    stage_sampler,
)
from segmentation_core.checkpoint_io import read_json, write_json

ProgressFn = Callable[[dict], None]
LOWRES_SHARE = 1 / 3  # of a fold's time when there is a low-resolution stage


@dataclass
class AutoTrainConfig:
    minutes: float = 60.0  # wall-clock budget for all folds and stages together
    fold: str = "cv"  # "cv": every fold; "all": one model on every case; "K": fold K only
    n_folds: int = 5
    threads: int = 2
    seed: int = 0
    max_steps: int = 0  # per stage and fold; 0 = until the time budget ends
    lr: float = 3e-3
    weight_decay: float = 3e-5
    checkpoint_minutes: float = 3.0
    val_every_steps: int = 50
    label_values: list[int] | None = None  # None: every value in the labels
    label_names: dict = field(default_factory=dict)  # {value: name}
    budget: Budget | None = None  # None: Budget.cpu()
    spacing_mm: float | None = None  # None: planned from the data
    foreground: float | None = None  # share of foreground-centred patches; None: the plan's
    version: str = ""
    # "static": the oneDNN static-graph step (training/static_graph.py) when training alone;
    # "eager" (and always under paddle.distributed: DataParallel is eager-only)
    engine: str = "static"
    # draw batches in a worker process (`stage_batches.batch_stream`) while the net steps; a
    # resumed run then draws fresh patches. False: between steps, in-process, so that a
    # resumed run continues the very sequence of patches the uninterrupted one would have seen
    prefetch: bool = True


def is_rank0() -> bool:
    return distributed.is_rank0()


def fold_list(config: AutoTrainConfig, n: int) -> list:
    if config.fold == "all":
        return ["all"]
    if config.fold in ("cv", ""):
        return list(range(n))
    k = int(config.fold)
    if not 0 <= k < n:
        raise ValueError(f"fold {k} does not exist (folds 0..{n - 1})")
    return [k]


def poly_lr(lr0: float, frac: float) -> float:
    return lr0 * (1.0 - min(max(frac, 0.0), 1.0)) ** 0.9


class StageTrainer:
    """Trains one stage of one fold in `folder`, resuming from its checkpoint."""

    def __init__(
        self,
        plan: dict,
        stage: dict,
        train_cases: list[StageCase],
        val_cases: list[StageCase],
        folder: Path,
        config: AutoTrainConfig,
        budget_s: float,
        label: str,
        progress: ProgressFn | None,
        should_stop: Callable[[], bool] | None,
        synth=None,
    ) -> None:
        """`synth`: (SynthSpec, share) to draw that share of the patches from fresh generated
        images (`synth_source`), or None."""
        import paddle

        from segmentation_core.auto.unet import build_network
        from segmentation_core.training.optim import InPlaceAdamW

        self.paddle = paddle
        self.plan, self.stage, self.folder, self.config = plan, stage, Path(folder), config
        self.budget_s, self.label = budget_s, label
        self.progress, self.should_stop = progress, should_stop
        paddle.seed(config.seed)
        self.net = build_network(plan, stage)
        self.model = distributed.wrap_data_parallel(self.net)  # the net itself when alone
        self.opt = InPlaceAdamW(
            self.net.parameters(), config.lr, weight_decay=config.weight_decay, clip_norm=12.0
        )
        self.rng = np.random.default_rng(config.seed + 1000 * distributed.rank())
        self.pick = ShardedCases(len(train_cases), config.seed)
        n_classes = int(plan["n_classes"])
        self.weighted_ce = bool(plan.get("class_weighted_ce", False))
        self.synth = synth
        self.generated = None
        if synth is not None:
            self.generated = generated_cases(synth[0], plan, stage, self.rng)
        self.train_cases = train_cases
        self.sampler = stage_sampler(
            train_cases,
            plan,
            stage,
            self.rng,
            self.pick,
            self.generated,
            synth[1] if synth is not None else 0.0,
        )
        self._prefetch = None  # the patch worker, started with the first step
        # fixed, foreground-centred, un-augmented validation patches for the pseudo-Dice
        val_rng = np.random.default_rng(12345)
        pool = val_cases or train_cases or [self.generated() for _ in range(2)]
        vs = PatchSampler(
            pool,
            stage["patch_zyx"],
            n_classes,
            int(stage["extra_channels"]),
            val_rng,
            1.0,
            augment=False,
        )
        self.val_patches = [vs.one(pool[i % len(pool)], True) for i in range(min(4, 2 * len(pool)))]
        self.step, self.elapsed, self.history, self.done = 0, 0.0, [], False
        from segmentation_core.auto.train_state import has_checkpoint, load_checkpoint

        if has_checkpoint(self.folder):
            state = load_checkpoint(self.folder, self.net, self.opt)
            self.step = int(state.get("step", 0))
            self.elapsed = float(state.get("elapsed_s", 0.0))
            self.history = list(state.get("history", []))
            self.done = bool(state.get("done", False))
            if "rng" in state:
                self.rng.bit_generator.state = state["rng"]
            if "cases_epoch" in state:
                self.pick.epoch, self.pick.pos = state["cases_epoch"], state["cases_pos"]
                self.pick._order = self.pick._shard()
        if config.engine not in ("static", "eager"):
            raise ValueError(f"unknown training engine {config.engine!r}")
        self.graph = None
        if config.engine == "static" and distributed.world_size() == 1:
            self.graph = self._build_graph()

    def output_shapes(self) -> list[tuple[int, ...]]:
        """The spatial shape of each training-mode output, full resolution first."""
        shapes = [tuple(int(v) for v in self.stage["patch_zyx"])]
        if not self.net.deep_supervision:
            return shapes
        for k in self.stage["pool_kernels"]:
            shapes.append(tuple(a // b for a, b in zip(shapes[-1], k)))
        return shapes[:-1]  # one output per decoder level: the bottleneck has none

    def _build_graph(self):
        from segmentation_core.auto.loss import supervision_graph_loss
        from segmentation_core.auto.unet import build_network
        from segmentation_core.training.static_graph import StaticGraphTrainer, load_from_eager

        plan, stage = self.plan, self.stage
        n_classes = int(plan["n_classes"])
        feeds = {"x": ([-1, 1 + int(stage["extra_channels"]), *stage["patch_zyx"]], "float32")}
        for i, shape in enumerate(self.output_shapes()):
            feeds[f"t{i}"] = ([-1, *shape], "int64")
            if self.weighted_ce:
                feeds[f"w{i}"] = ([n_classes], "float32")
        graph = StaticGraphTrainer(
            lambda: build_network(plan, stage),
            feeds,
            lambda outs, f: supervision_graph_loss(outs, f, n_classes, self.weighted_ce),
            lr=self.config.lr,
            weight_decay=self.config.weight_decay,
            clip_norm=12.0,
        )
        load_from_eager(graph, self.net, self.opt)
        return graph

    def pseudo_dice(self) -> dict[int, float]:
        """Dice per class over the fixed validation patches (eval mode, no augmentation)."""
        from segmentation_core.auto.runtime import EagerPredictor
        from segmentation_core.training.static_graph import copy_weights_to_eager

        if self.graph is not None:
            copy_weights_to_eager(self.graph, self.net)
        pred = EagerPredictor(self.net)
        n = int(self.plan["n_classes"])
        inter, total = np.zeros(n), np.zeros(n)
        for x, y in self.val_patches:
            p = np.argmax(pred(x[None]), axis=0)
            for c in range(1, n):
                a, b = p == c, y == c
                inter[c] += (a & b).sum()
                total[c] += a.sum() + b.sum()
        return {c: float(2 * inter[c] / total[c]) for c in range(1, n) if total[c] > 0}

    def save(self) -> None:
        from segmentation_core.auto.train_state import save_checkpoint

        if not is_rank0():
            return
        if self.graph is not None:
            from segmentation_core.training.static_graph import copy_to_eager

            copy_to_eager(self.graph, self.net, self.opt)
        state = {
            "step": self.step,
            "elapsed_s": self.elapsed,
            "history": self.history[-2000:],
            "done": self.done,
            "rng": self.rng.bit_generator.state,
            "cases_epoch": self.pick.epoch,
            "cases_pos": self.pick.pos,
            "stage": self.stage["name"],
        }
        save_checkpoint(self.folder, self.net, self.opt, state)

    def frac(self) -> float:
        """How far the schedule is: the larger of time used and steps done, as a fraction."""
        parts = []
        if self.budget_s > 0:
            parts.append(self.elapsed / self.budget_s)
        if self.config.max_steps:
            parts.append(self.step / self.config.max_steps)
        return max(parts) if parts else 0.0

    def finished(self) -> bool:
        if self.config.max_steps and self.step >= self.config.max_steps:
            return True
        return self.budget_s > 0 and self.elapsed >= self.budget_s

    def next_batch(self):
        if not self.config.prefetch:
            return self.sampler.batch(int(self.plan["batch"]))
        if self._prefetch is None:
            from segmentation_core.training.prefetch import StreamWorker

            args = (
                self.train_cases,
                self.plan,
                self.stage,
                self.synth,
                self.config.seed,
                self.step,
            )
            self._prefetch = StreamWorker(batch_stream, args)
        return self._prefetch.next()

    def close(self) -> None:
        """Stops the patch worker (also stopped when the process exits)."""
        if self._prefetch is not None:
            self._prefetch.close()
            self._prefetch = None

    def run(self) -> bool:
        """Train until the budget ends; True when stopped by `should_stop` (checkpointed)."""
        threads = max(1, int(self.config.threads))
        # the patch worker is busy about as long as a step: it gets one of the cores, the
        # net the rest (docs/benchmarks.md, "Automatic model training step")
        if self.config.prefetch and threads > 1:
            self.paddle.base.core.set_num_threads(threads - 1)
        try:
            return self._run()
        finally:
            self.close()
            self.paddle.base.core.set_num_threads(threads)

    def _run(self) -> bool:
        from segmentation_core.auto.loss import deep_supervision_loss, supervision_feed

        paddle = self.paddle
        if self.done:
            return False
        self.model.train()
        last_ckpt = time.monotonic()
        n_classes = int(self.plan["n_classes"])
        val = None
        while True:
            # agreed by every rank: each step's gradient all-reduce waits for all of them, so
            # one rank out of time (its own clock) or cancelled must stop the others too
            stop, done = distributed.any_rank(
                self.should_stop is not None and self.should_stop(), self.finished()
            )
            if stop:
                self.save()
                return True
            if done:
                break
            t0 = time.monotonic()
            self.opt.set_lr(poly_lr(self.config.lr, self.frac()))
            x, y = self.next_batch()
            if self.graph is not None:
                feed = supervision_feed(x, y, self.output_shapes(), n_classes, self.weighted_ce)
                loss_v = self.graph.step(feed, self.opt.get_lr())
            else:
                out = self.model(paddle.to_tensor(x))
                loss = deep_supervision_loss(out, y, n_classes, self.weighted_ce)
                loss.backward()
                self.opt.step()
                self.opt.clear_grad()
                loss_v = float(loss)
            self.step += 1
            val = None
            if self.step % self.config.val_every_steps == 0 or self.finished():
                val = self.pseudo_dice()
                self.model.train()
            self.elapsed += time.monotonic() - t0
            self.history.append([self.step, round(loss_v, 5), val and list(val.values())])
            if self.progress is not None:
                self.progress(
                    {
                        "phase": "training",
                        "model": self.label,
                        "step": self.step,
                        "loss": loss_v,
                        "elapsed_s": self.elapsed,
                        "budget_s": self.budget_s,
                        "lr": self.opt.get_lr(),
                        "val": val,
                    }
                )
            if time.monotonic() - last_ckpt > 60 * self.config.checkpoint_minutes:
                self.save()
                last_ckpt = time.monotonic()
        self.done = True
        self.save()
        return False


def _turns_to_canonical(out_dir: Path) -> bool:
    """Whether this run trains in the canonical orientation: every new run does; a run begun
    before orientation was handled resumes as it began (its plan has no "orientation")."""
    path = out_dir / PLAN
    return not path.is_file() or "orientation" in read_json(path)


def _load_or_make_plan(cases, out_dir: Path, config: AutoTrainConfig, synth=None) -> dict:
    """The plan in `out_dir`, or a new one from the fingerprint of `cases` plus, with
    generated images (`synth`: a SynthSpec), a few of those (no cascade: a generated image has
    no low-resolution prediction to feed the second stage)."""
    path = out_dir / PLAN
    names = sorted(c.name for c in cases)
    budget = config.budget or Budget.cpu()
    fp_cases = list(cases)
    if synth is not None:
        names += [f"synth:{n}" for n in synth_source.map_names(synth)]
        picked = synth_source.map_names(synth)[: synth_source.FINGERPRINT_IMAGES]
        fp_cases += synth_source.fixed_cases(synth, picked, config.seed)
        budget = replace(budget, allow_cascade=False)
    if path.is_file():
        plan = read_json(path)
        if plan.get("cases") != names:
            raise AutoModelError(
                "this folder holds a run on other cases: give a new --out folder", out_dir
            )
        return plan
    names_by_value = {int(k): v for k, v in config.label_names.items()}
    pairs = orientation.mirror_pairs(names_by_value)  # by label value here
    fp = fingerprint(fp_cases, config.label_values, config.seed, pairs)
    del fp_cases
    plan = make_plan(
        fp, budget, names_by_value, config.minutes, config.spacing_mm, config.foreground
    )
    plan["cases"] = names
    plan["orientation"] = orientation.CANONICAL  # inference turns images to it as well
    plan["fingerprint"] = {k: v for k, v in fp.items() if k not in ("spacings_zyx", "shapes_zyx")}
    if is_rank0():
        write_json(path, plan)
    return plan


def _lowres_prediction(plan, stage_low, model_dir: Path, case: AutoCase, stage_full, threads):
    """The low-resolution model's classes for `case`, on the full-resolution stage grid."""
    from segmentation_core.auto.infer import stage_probabilities
    from segmentation_core.auto.postprocess import argmax_u8
    from segmentation_core.auto.runtime import StagePredictor

    sub = {**plan, "stages": [stage_low]}
    probs = stage_probabilities(
        sub, [[StagePredictor(model_dir, threads)]], case.image, case.spacing_zyx
    )
    shape = target_shape(case.image.shape, case.spacing_zyx, stage_full["spacing_zyx"])
    return resample(argmax_u8(probs), shape, order=0, dtype=np.uint8)


def validate_fold(plan, out_dir: Path, fold, val_cases: Sequence[AutoCase], threads: int) -> dict:
    """Segment the fold's validation cases with its exported models: Dice per class, without
    and with the largest-component filter."""
    from segmentation_core.auto.infer import stage_probabilities, to_image_grid
    from segmentation_core.auto.postprocess import keep_largest_components
    from segmentation_core.auto.runtime import StagePredictor

    preds = [
        [StagePredictor(export_dir(out_dir, fold, s["name"]), threads)] for s in plan["stages"]
    ]
    n = int(plan["n_classes"])
    without, with_lcc = [], []
    for case in val_cases:
        ref = label_to_classes(case.label, plan["label_values"])
        probs = stage_probabilities(plan, preds, case.image, case.spacing_zyx)
        a = to_image_grid(probs, case.image.shape)
        keep_largest_components(probs, list(range(1, n)))
        b = to_image_grid(probs, case.image.shape)
        without.append({c: class_dice(a, ref, c) for c in range(1, n)})
        with_lcc.append({c: class_dice(b, ref, c) for c in range(1, n)})
    return {
        "cases": [c.name for c in val_cases],
        "without": [{str(k): v for k, v in d.items()} for d in without],
        "with_lcc": [{str(k): v for k, v in d.items()} for d in with_lcc],
    }


def summarise(plan: dict, validations: list[dict]) -> tuple[dict, list[int]]:
    """Cross-validated mean Dice per label value and the label values that get the filter."""
    values = plan["label_values"]
    classes = list(range(1, len(values) + 1))
    without = [{int(k): v for k, v in d.items()} for val in validations for d in val["without"]]
    with_lcc = [{int(k): v for k, v in d.items()} for val in validations for d in val["with_lcc"]]
    lcc = decide_largest_component(without, with_lcc, classes)
    per_label = {}
    for c in classes:
        chosen = with_lcc if c in lcc else without
        scores = [d[c] for d in chosen if d.get(c) is not None]
        if scores:
            per_label[str(values[c - 1])] = float(np.mean(scores))
    mean = float(np.mean(list(per_label.values()))) if per_label else None
    cv = {"dice": per_label, "mean_dice": mean, "n_cases": len(without)}
    return cv, [int(values[c - 1]) for c in lcc]


def train_auto(
    cases: Sequence[AutoCase],
    out_dir,
    config: AutoTrainConfig | None = None,
    *,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    synth=None,
    synth_share: float = 1.0,
) -> dict:
    """Train (or resume) the automatic model in `out_dir`; returns the model card written.

    `synth` (a SynthSpec): draw `synth_share` of the training patches from images generated
    afresh from its label maps. Without `cases`, every patch is generated, the folds are over
    the maps (subjects), and a fold validates on one fixed generated image per held-out map."""
    import paddle

    config = config or AutoTrainConfig()
    if config.minutes <= 0 and config.max_steps <= 0:
        raise ValueError("give a time budget (minutes > 0) or a step count (max_steps > 0)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paddle.base.core.set_num_threads(max(1, int(config.threads)))
    cases = list(cases)
    if not cases and synth is None:
        raise ValueError("no training cases")
    if _turns_to_canonical(out_dir):
        cases = [orientation.canonical_case(c) for c in cases]
        if synth is not None:
            synth = replace(synth, maps=tuple(orientation.canonical_map(m) for m in synth.maps))
    if synth is not None:
        if config.label_values is None:  # the real cases' values, else all the maps give
            present = {int(v) for c in cases for v in np.unique(c.label) if v != 0}
            values = sorted(present) if cases else synth_source.default_values(synth)
            config = replace(config, label_values=values)
        if config.label_values is not None:
            synth_source.check_values(synth, config.label_values)
    plan = _load_or_make_plan(cases, out_dir, config, synth)
    if progress is not None:
        progress({"phase": "planned", "plan": plan})
    generated_only = synth is not None and not cases
    # cross-validation units: the patients, or the label maps (subjects) when all is generated
    units = synth_source.map_names(synth) if generated_only else [c.patient for c in cases]
    if config.fold == "all":
        assignment = [0] * len(units)
        n = 1
    else:
        assignment = folds_mod.assign_folds(units, config.n_folds, config.seed)
        n = folds_mod.n_folds(assignment)
    todo = fold_list(config, n)
    stages = plan["stages"]
    fold_budget = 60.0 * config.minutes / len(todo) if config.minutes > 0 else 0.0
    cancelled = False
    t_start = time.monotonic()
    for fold in todo:
        if fold == "all":
            tr, va = list(range(len(units))), []
        else:
            tr, va = folds_mod.split(assignment, fold)
        fold_synth = None
        if generated_only:
            fold_synth = (synth_source.subset(synth, [units[i] for i in tr]), 1.0)
            train_cases = []
            val_cases = synth_source.fixed_cases(synth, [units[i] for i in va], config.seed)
        else:
            fold_synth = None if synth is None else (synth, synth_share)
            train_cases, val_cases = [cases[i] for i in tr], [cases[i] for i in va]
        prev_by_case: dict[str, np.ndarray] = {}
        for si, stage in enumerate(stages):
            share = (LOWRES_SHARE if si == 0 else 1 - LOWRES_SHARE) if len(stages) > 1 else 1.0
            folder = stage_dir(out_dir, fold, stage["name"])
            label = f"{fold_name(fold)}/{stage['name']}"
            if progress is not None:
                progress({"phase": "preparing", "model": label})
            trainer = StageTrainer(
                plan,
                stage,
                [prepare_stage_case(c, plan, stage, prev_by_case.get(c.name)) for c in train_cases],
                [prepare_stage_case(c, plan, stage, prev_by_case.get(c.name)) for c in val_cases],
                folder,
                config,
                fold_budget * share,
                label,
                progress,
                should_stop,
                fold_synth,
            )
            cancelled = trainer.run()
            if is_rank0():
                from segmentation_core.auto.export import export_network

                export_network(trainer.net, 1 + int(stage["extra_channels"]), folder / "model")
            distributed.barrier()  # the other ranks read the exported low-resolution model
            if cancelled:
                break
            if si < len(stages) - 1:  # the cascade's input for the next stage
                prev_by_case = {
                    c.name: _lowres_prediction(
                        plan, stage, folder / "model", c, stages[si + 1], config.threads
                    )
                    for c in train_cases + val_cases
                }
        if cancelled:
            break
        if val_cases and is_rank0():
            if progress is not None:
                progress({"phase": "validating", "model": fold_name(fold)})
            result = validate_fold(plan, out_dir, fold, val_cases, config.threads)
            write_json(out_dir / fold_name(fold) / "validation.json", result)
    return _write_card(out_dir, plan, config, n, cancelled, time.monotonic() - t_start)


def _finished_folds(out_dir: Path, plan: dict, n: int) -> list:
    from segmentation_core.auto.train_state import STATE

    done = []
    for f in ["all", *range(n)]:
        states = [stage_dir(out_dir, f, s["name"]) / STATE for s in plan["stages"]]
        if all(p.is_file() and read_json(p).get("done") for p in states):
            done.append(f)
    return done


def _write_card(out_dir: Path, plan: dict, config, n: int, cancelled: bool, seconds: float):
    finished = _finished_folds(out_dir, plan, n)
    validations = [
        read_json(out_dir / fold_name(f) / "validation.json")
        for f in range(n)
        if (out_dir / fold_name(f) / "validation.json").is_file()
    ]
    cv, lcc = summarise(plan, validations) if validations else ({}, [])
    inference = ["all"] if "all" in finished else [f for f in finished if f != "all"]
    card = {
        "version": config.version or out_dir.name,
        "plan": plan,
        "inference_folds": inference,
        "cv": cv,
        "postprocessing": {"largest_component": lcc},
        "training": {
            "minutes": config.minutes,
            "fold": config.fold,
            "n_folds": n,
            "seconds_this_run": round(seconds, 1),
            "cancelled": cancelled,
            "config": {
                k: v
                for k, v in asdict(config).items()
                if k in ("n_folds", "threads", "seed", "max_steps", "lr", "label_values")
            },
        },
    }
    if is_rank0():
        write_card(out_dir, card)
    return card
