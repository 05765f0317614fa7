"""Argument types shared by the subcommands: values argparse alone would take (nan, inf, a
negative budget) and that would make a command run forever or do nothing."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _at_least_zero(text: str, parse: Callable[[str], float], what: str, kind: str) -> float:
    """`text` parsed by `parse`, finite and 0 or more, else argparse's one-line error."""
    try:
        value = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
    if (isinstance(value, float) and not math.isfinite(value)) or value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not {kind} (0 or more)")
    return value


def budget_minutes(text: str) -> float:
    """A time budget in minutes: a finite number, 0 or more (0: the step count decides)."""
    return _at_least_zero(text, float, "a number of minutes", "a number of minutes")


def step_count(text: str) -> int:
    """A number of steps: a whole number, 0 or more (0: the time budget decides)."""
    return int(_at_least_zero(text, int, "a whole number of steps", "a number of steps"))


def seed(text: str) -> int:
    """A random seed: a whole number, 0 or more (numpy's seed sequences take no negatives)."""
    return int(_at_least_zero(text, int, "a whole-number seed", "a seed"))


def millimetres(text: str) -> float:
    """A length in mm: a finite number, 0 or more."""
    return _at_least_zero(text, float, "a number of mm", "a length in mm")
