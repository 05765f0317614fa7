"""Tiny label maps made in code for the generator's tests (no files needed)."""

from __future__ import annotations

import numpy as np


def tiny_head(n: int = 24) -> np.ndarray:
    """An n^3 int32 'head': a skin shell (510) around a brain (3) holding a white-matter
    ball (2) and two small nuclei (17, 53), background 0; all well inside the grid."""
    z, y, x = np.indices((n, n, n), dtype=np.float64)
    c = (n - 1) / 2
    r = np.sqrt((z - c) ** 2 + (y - c) ** 2 + (x - c) ** 2)
    out = np.zeros((n, n, n), dtype=np.int32)
    out[r < 0.40 * n] = 510
    out[r < 0.33 * n] = 3
    out[r < 0.22 * n] = 2
    q = n // 6
    h = n // 2
    out[h - q : h, h - 2 : h + 3, h - q - 2 : h - 2] = 17
    out[h : h + q, h - 2 : h + 3, h + 2 : h + q + 2] = 53
    return out
