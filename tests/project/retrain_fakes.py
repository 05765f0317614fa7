"""A stand-in trainer and evaluator for the retrain's orchestration tests (gating, publishing,
journal): the real fine-tuning is covered by test_project_retrain_real.py."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FakeResult:
    model_dir: Path
    steps: int
    seconds: float
    history: list = field(default_factory=list)
    cancelled: bool = False


def fake_trainer(tag: str, steps: int = 3):
    """Exports a model folder whose weights file holds `tag` (the evaluator reads it back)."""

    def train(cases, init_model_dir, work_dir, config, progress, should_stop, replay=()):
        for step in range(1, steps + 1):
            if should_stop():
                return FakeResult(Path(work_dir) / "model", step - 1, 0.1, cancelled=True)
            progress({"step": step, "loss": 1.0 / step, "elapsed_s": step, "budget_s": 60})
        out = Path(work_dir) / "model"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        (out / "model.pdiparams").write_text(tag)
        (out / "model.json").write_text("{}")
        (out / "meta.json").write_text("{}")
        train.seen = [c.name for c in cases]
        train.replay = [c.name for c in replay]
        return FakeResult(out, steps, 0.1, [[s, 1.0 / s, None] for s in range(1, steps + 1)])

    return train


def fake_evaluator(scores: dict[str, float]):
    """Dice from the weights file's tag (`scores[tag]`), 'base' for any other model folder."""

    def evaluate(model_dir, cases, values, *, threads=2, should_stop=None):
        p = Path(model_dir) / "model.pdiparams"
        tag = p.read_text() if p.stat().st_size < 64 else "base"
        d = scores[tag]
        return {
            "dice@1": d,
            "dice@3": d,
            "dice@5": d,
            "noc@85": 1.0,
            "n_targets": 2 * len(cases),
            "cases": [c.name for c in cases],
            "clicks": 5,
        }

    return evaluate
