"""A tiny Qt-free observer: the model emits, views subscribe (views are never called directly)."""

from __future__ import annotations

from collections.abc import Callable


class Event:
    """A list of callbacks; `emit` calls each with the given arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args, **kwargs) -> None:
        for cb in list(self._callbacks):
            cb(*args, **kwargs)
