"""The default segment colours stand out on grey images (issue 13, defect 5): saturated, far
from every grey level, and each distinct in hue from the next."""

from __future__ import annotations

import colorsys

from viewer.model.segments import DEFAULT_COLOURS, SegmentTable, default_colour

MIN_CHROMA = 150  # max - min channel, of 255: the distance from the grey axis
MIN_HUE_STEP = 40.0  # degrees between neighbours (the palette cycles)


def _hue(rgb) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 360.0


def test_every_default_colour_is_far_from_every_grey():
    for rgb in DEFAULT_COLOURS:
        assert max(rgb) - min(rgb) >= MIN_CHROMA, rgb
        # against every grey level some channel differs by at least half the chroma
        assert min(max(abs(c - g) for c in rgb) for g in range(256)) >= MIN_CHROMA // 2, rgb
        assert colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[1] >= 0.6, rgb


def test_neighbouring_colours_differ_in_hue_and_none_repeats():
    n = len(DEFAULT_COLOURS)
    assert len(set(DEFAULT_COLOURS)) == n
    for i in range(n):
        a, b = _hue(DEFAULT_COLOURS[i]), _hue(DEFAULT_COLOURS[(i + 1) % n])
        step = min(abs(a - b), 360 - abs(a - b))
        assert step >= MIN_HUE_STEP, (DEFAULT_COLOURS[i], DEFAULT_COLOURS[(i + 1) % n], step)


def test_the_first_segment_gets_the_first_colour():
    table = SegmentTable()
    first = table.add("Lesion")
    assert first.colour == default_colour(first.id) == DEFAULT_COLOURS[0]
