"""Strict JSON for the commands' `--json` output: JSON has no NaN or Infinity, and other
readers (jq, JavaScript, most JSON libraries) refuse Python's `NaN` tokens."""

from __future__ import annotations

import json
import math


def finite(value):
    """`value` with every non-finite float replaced by None (null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value, indent: int = 1) -> str:
    """`value` as strict JSON text (non-finite floats as null)."""
    return json.dumps(finite(value), indent=indent, allow_nan=False)
