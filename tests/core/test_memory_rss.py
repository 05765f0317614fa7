"""The harness's memory probe: a resettable peak, so a run reports its own peak."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.memory import current_rss_bytes, peak_rss_self_bytes, reset_peak_rss

MB = 1 << 20


def test_peak_is_reset_and_then_sees_a_new_allocation():
    big = np.ones(160 * MB, np.uint8)  # touched, so resident
    del big
    if not reset_peak_rss() or current_rss_bytes() is None:
        pytest.skip("no resettable peak on this system")
    start = current_rss_bytes()
    assert peak_rss_self_bytes() - start < 100 * MB  # the 160 MB before the reset is forgotten
    a = np.ones(64 * MB, np.uint8)
    assert peak_rss_self_bytes() - start >= 60 * MB
    del a
