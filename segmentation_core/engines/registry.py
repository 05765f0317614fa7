"""The one list of engines: built-ins registered here, others through `register`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from segmentation_core.engines.base import Engine
from segmentation_core.engines.classic import ClassicEngine
from segmentation_core.engines.paddle import PaddleEngine
from segmentation_core.types import SegmentationError

_ENGINES: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    """Add `engine` (replacing one of the same name); returns it, so it can decorate."""
    if not isinstance(engine, Engine):
        raise TypeError(f"{engine!r} does not implement segmentation_core.engines.Engine")
    _ENGINES[engine.name] = engine
    return engine


def unregister(name: str) -> None:
    _ENGINES.pop(name, None)


def engines() -> list[Engine]:
    """The registered engines, in registration order (the order of the engine list)."""
    return list(_ENGINES.values())


def engine_names() -> tuple[str, ...]:
    return tuple(_ENGINES)


def get_engine(name: str) -> Engine:
    try:
        return _ENGINES[name]
    except KeyError:
        raise SegmentationError(
            f"unknown engine {name!r}; choose one of {', '.join(_ENGINES)}"
        ) from None


def fallback_for(name: str) -> str | None:
    """The engine to open when `name` cannot be opened, or None."""
    engine = _ENGINES.get(name)
    fallback = engine.fallback if engine is not None else None
    return fallback if fallback in _ENGINES and fallback != name else None


class _Titles(Mapping[str, str]):
    """name -> title of the registered engines, read live (a view, not a copy)."""

    def __getitem__(self, name: str) -> str:
        return _ENGINES[name].title

    def __iter__(self) -> Iterator[str]:
        return iter(list(_ENGINES))

    def __len__(self) -> int:
        return len(_ENGINES)


titles: Mapping[str, str] = _Titles()

register(PaddleEngine())
register(ClassicEngine())
