"""Run by tests/auto/test_distributed.py under `python -m paddle.distributed.launch`: the real
`train_auto` on two tiny cases, where only rank 1 is asked to stop after its second step (as a
cancel or a rank's own clock running out would). Each rank records the steps it took.
Usage: SCRIPT OUT_DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from auto_model_factory import LABELS, SPACING_ZYX, tiny_image

from segmentation_core.auto import distributed as dist
from segmentation_core.auto.cases import AutoCase
from segmentation_core.auto.train import AutoTrainConfig, train_auto


def main(out: Path) -> None:
    steps: list[int] = []

    def progress(info: dict) -> None:
        if info.get("phase") == "training":
            steps.append(int(info["step"]))

    cases = [AutoCase(f"case{s}", *tiny_image(s), SPACING_ZYX, "MR") for s in (0, 1)]
    config = AutoTrainConfig(
        minutes=0, max_steps=6, fold="all", threads=1, label_names=LABELS, version="dist"
    )
    card = train_auto(
        cases,
        out / "model",
        config,
        progress=progress,
        should_stop=lambda: dist.rank() == 1 and len(steps) >= 2,
    )
    record = {"rank": dist.rank(), "steps": steps, "cancelled": card["training"]["cancelled"]}
    (out / f"rank{dist.rank()}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
