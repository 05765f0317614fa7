"""ViewState names what changed with a `ViewChange`, once per real change."""

from __future__ import annotations

import numpy as np

from viewer.model.view_state import ViewChange, ViewState, WindowLevel


def test_each_setter_emits_its_kind_once_and_only_on_change():
    state = ViewState()
    seen: list[ViewChange] = []
    state.changed.connect(seen.append)
    state.set_cursor([1.0, 2.0, 3.0])
    state.set_cursor([1.0, 2.0, 3.0])  # the same place: nothing to redraw
    state.set_window(WindowLevel(100.0, 20.0))
    state.set_window(WindowLevel(100.0, 20.0))
    state.set_display(invert=True)
    state.set_overlay(overlay_opacity=2.0)
    assert seen == [ViewChange.CURSOR, ViewChange.WINDOW, ViewChange.DISPLAY, ViewChange.OVERLAY]
    assert all(type(k) is ViewChange for k in seen)
    assert np.array_equal(state.cursor_world, [1.0, 2.0, 3.0]) and state.overlay_opacity == 1.0
    assert [k.value for k in seen] == ["cursor", "window", "display", "overlay"]
