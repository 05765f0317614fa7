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


def test_one_event_per_property_fires_only_for_its_own_changes():
    state = ViewState()
    fired: list[str] = []
    for kind in ViewChange:
        getattr(state.events, kind.value).connect(lambda k=kind.value: fired.append(k))
    state.set_window(WindowLevel(80.0, 40.0))
    state.set_cursor([0.0, 0.0, 5.0])
    state.set_window(WindowLevel(80.0, 40.0))  # unchanged: silent
    state.set_overlay(outline=True)
    assert fired == ["window", "cursor", "overlay"]
