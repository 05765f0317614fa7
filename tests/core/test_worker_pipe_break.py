"""A worker whose pipe broke is reported as crashed even before the OS has reaped it."""

from __future__ import annotations

import pytest

from segmentation_core.types import EngineCrashed
from segmentation_core.worker import WorkerPredictor


class _DyingProcess:
    """Looks alive until someone waits for it, like a SIGKILLed child not yet reaped."""

    pid = 4242
    exitcode = -9

    def __init__(self) -> None:
        self.reaped = False

    def is_alive(self) -> bool:
        return not self.reaped

    def join(self, timeout=None) -> None:
        self.reaped = True

    def kill(self) -> None:
        pass


class _BrokenPipe:
    def poll(self, timeout=0):
        raise EOFError

    def recv(self):
        raise EOFError

    def send(self, msg):
        raise BrokenPipeError

    def close(self) -> None:
        pass


def _predictor_with_dying_worker() -> tuple[WorkerPredictor, list[int]]:
    w = WorkerPredictor.__new__(WorkerPredictor)
    w._proc, w._conn, w._ready = _DyingProcess(), _BrokenPipe(), True
    w.timeout_s = 0.0
    starts: list[int] = []
    w.start = lambda: starts.append(1)  # no real process in this unit test
    return w, starts


def test_broken_pipe_on_send_is_a_crash_not_a_timeout():
    w, starts = _predictor_with_dying_worker()
    import numpy as np

    with pytest.raises(EngineCrashed, match="restarted"):
        w(np.zeros((1, 1, 2, 2, 2), np.float32))
    assert starts == [1]


def test_broken_pipe_while_waiting_is_a_crash_not_a_timeout():
    w, starts = _predictor_with_dying_worker()
    with pytest.raises(EngineCrashed, match="exit code -9"):
        w._receive(0.0)
    assert starts == [1]
