"""Argument types shared by the subcommands: values argparse alone would take (nan, inf, a
negative budget) and that would make a command run forever or do nothing."""

from __future__ import annotations

import argparse
import math


def budget_minutes(text: str) -> float:
    """A time budget in minutes: a finite number, 0 or more (0: the step count decides)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes (0 or more)")
    return value


def step_count(text: str) -> int:
    """A number of steps: a whole number, 0 or more (0: the time budget decides)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of steps") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of steps (0 or more)")
    return value


def seed(text: str) -> int:
    """A random seed: a whole number, 0 or more (numpy's seed sequences take no negatives)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole-number seed") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a seed (0 or more)")
    return value


def millimetres(text: str) -> float:
    """A length in mm: a finite number, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of mm") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a length in mm (0 or more)")
    return value
