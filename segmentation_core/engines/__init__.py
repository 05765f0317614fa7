"""Click-to-segment engines behind one interface, found through one registry.

An engine (`base.Engine`) says what it is (name, title), what a user may give it (capabilities:
points, boxes, scribbles), which model formats it reads, and opens a `base.Session` for a model
folder. `registry` lists the engines; `segmentation_core.open_session`, the AI service, its
panel and `evaluate` all read it, so registering an engine is the one step that makes it
selectable everywhere (see CONTRIBUTING.md, "Add an engine").
"""

from __future__ import annotations

from segmentation_core.engines.base import (
    BOXES,
    POINTS,
    SCRIBBLES,
    Engine,
    Session,
    SessionOptions,
)
from segmentation_core.engines.registry import (
    engine_names,
    engines,
    fallback_for,
    get_engine,
    register,
    titles,
    unregister,
)

__all__ = [
    "BOXES",
    "POINTS",
    "SCRIBBLES",
    "Engine",
    "Session",
    "SessionOptions",
    "engine_names",
    "engines",
    "fallback_for",
    "get_engine",
    "register",
    "titles",
    "unregister",
]
