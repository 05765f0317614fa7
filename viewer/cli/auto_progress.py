"""The terminal progress line of `train-auto`: a bar, the loss and the pseudo-Dice per class."""

from __future__ import annotations

import time


def progress_printer(label_values: list[int] | None = None, every_s: float = 5.0):
    """A `progress(info)` callback printing one line per validation or every `every_s`."""
    start = time.monotonic()
    last = [0.0]

    def show(info: dict) -> None:
        phase = info.get("phase")
        if phase != "training":
            if phase in ("preparing", "validating"):
                print(f"{phase} {info.get('model', '')}", flush=True)
            return
        now = time.monotonic()
        if info.get("val") is None and now - last[0] < every_s:
            return
        last[0] = now
        frac = min(1.0, info["elapsed_s"] / info["budget_s"]) if info["budget_s"] else 0.0
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        val = ""
        if info.get("val"):
            values = label_values or []
            parts = [
                f"{values[c - 1] if 0 < c <= len(values) else c}:{d:.2f}"
                for c, d in sorted(info["val"].items())
            ]
            val = " val Dice " + " ".join(parts)
        print(
            f"{info['model']} [{bar}] step {info['step']:5d} loss {info['loss']:.4f}{val} "
            f"({now - start:.0f} s)",
            flush=True,
        )

    return show
