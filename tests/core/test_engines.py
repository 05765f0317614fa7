"""The engine registry: a dummy engine registered in a few lines is found by `open_session`, the
engine list and `evaluate`'s parser; what is not an engine is refused; fallbacks are declared."""

from __future__ import annotations

import numpy as np
import pytest
from dummy_engine import CubeEngine, CubeSession

from segmentation_core import open_session
from segmentation_core.engines import (
    POINTS,
    Engine,
    Session,
    SessionOptions,
    engine_names,
    fallback_for,
    get_engine,
    register,
    titles,
    unregister,
)
from segmentation_core.types import SegmentationError


@pytest.fixture
def cube_engine():
    register(CubeEngine())
    yield
    unregister("cube")


def test_built_in_engines_declare_what_they_are():
    assert engine_names() == ("paddle", "classic")
    assert dict(titles) == {"paddle": "Paddle model", "classic": "Classic (no learning)"}
    paddle, classic = get_engine("paddle"), get_engine("classic")
    assert isinstance(paddle, Engine) and isinstance(classic, Engine)
    assert paddle.model_formats == ("paddle-inference",) and classic.model_formats == ()
    assert paddle.capabilities == classic.capabilities == frozenset({POINTS})
    assert fallback_for("paddle") == "classic" and fallback_for("classic") is None


def test_a_registered_engine_is_listed_and_opened_by_open_session(cube_engine):
    assert engine_names() == ("paddle", "classic", "cube")
    assert titles["cube"] == "Cube (test)"
    session = open_session("cube", device="cpu", local_corrections=False)
    assert isinstance(session, CubeSession) and isinstance(session, Session)
    assert session.options == SessionOptions(device="cpu", local_corrections=False)
    session.set_image(np.zeros((4, 5, 6), np.int16), (1.0, 1.0, 1.0))
    p = session.add_click((0, 2, 5))
    assert p.bbox == (0, 1, 4, 2, 4, 6) and p.mask.shape == (2, 3, 2) and p.mask.all()


def test_evaluate_accepts_a_registered_engine(cube_engine):
    from viewer.cli.evaluate import parse_engines
    from viewer.errors import LoadError

    assert parse_engines("classic,cube") == ["classic", "cube"]
    unregister("cube")
    with pytest.raises(LoadError, match=r"unknown engine 'cube'; choose from paddle, classic$"):
        parse_engines("cube")


def test_unknown_engines_and_non_engines_are_refused():
    with pytest.raises(SegmentationError, match=r"^unknown engine 'x'; choose one of paddle, cl"):
        open_session("x")
    with pytest.raises(TypeError, match="does not implement"):
        register(object())  # type: ignore[arg-type]
    assert engine_names() == ("paddle", "classic")
