"""Runs the Paddle Predictor in a separate process, so its GIL-holding `run()` never blocks the UI.

The worker is stateless: it loads the model and maps input tensors to logits. Everything about
the session (image, clicks, masks) stays in the parent, so a dead worker loses nothing: the client
notices (exit, segfault, timeout), starts a fresh worker and raises a clear `EngineError` for that
one interaction; the next interaction simply works. Processes are started with the 'spawn'
context (safe with threads, and the only one that works the same in a PyInstaller bundle).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from segmentation_core.types import EngineCrashed, EngineError, EngineTimeout

READY_TIMEOUT_S = 120.0  # importing paddle + loading a model on a busy 2-core machine
POLL_S = 0.05
EXIT_WAIT_S = 5.0  # how long a worker whose pipe broke may take to be reaped


def _warmup_shape(model_dir: str) -> tuple[int, int, int]:
    from segmentation_core.model_store import DEFAULT_INFERENCE_PATCH, check_patch, read_meta

    try:
        return check_patch(read_meta(Path(model_dir))["inference_patch"])
    except (OSError, KeyError, ValueError, TypeError):
        return DEFAULT_INFERENCE_PATCH


def _worker_main(conn, model_dir: str, device: str, threads: int | None) -> None:
    """Entry point of the worker process: load, announce, then answer ("run", x) requests."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import warnings

    warnings.filterwarnings("ignore")
    try:
        from segmentation_core.encoding import IN_CHANNELS
        from segmentation_core.paddle_runtime import PaddlePredictor

        predictor = PaddlePredictor(Path(model_dir), device=device, threads=threads)
        # oneDNN builds its kernels on the first run: do it now, so the user's first click
        # does not pay for it (the patch shape is fixed, so the kernels are reused)
        predictor(np.zeros((1, IN_CHANNELS, *_warmup_shape(model_dir)), np.float32))
    except Exception as e:  # report why loading failed instead of dying silently
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", predictor.device))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # parent went away
        if msg[0] == "stop":
            return
        if msg[0] == "run":
            try:
                conn.send(("ok", predictor(msg[1])))
            except Exception as e:
                conn.send(("error", f"{type(e).__name__}: {e}"))


class WorkerPredictor:
    """Client side: `__call__(x)` sends a tensor to the worker and returns its logits."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        threads: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.device_request = device
        self.threads = threads
        self.timeout_s = timeout_s
        self.device = "unknown"
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self._ready = False
        self.start()

    # --- process management ----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start a worker (returns at once; the model loads in the background)."""
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_worker_main,
            args=(child, str(self.model_dir), self.device_request, self.threads),
            name="radlabel-inference",
            daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn, self._ready = proc, parent, False

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(("stop",))
                self._proc.join(timeout=2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()

    def __del__(self) -> None:
        try:
            self._kill()
        except Exception:
            pass

    def _restart(self) -> int | None:
        code = self._proc.exitcode if self._proc is not None else None
        self._kill()
        self.start()
        return code

    # --- requests ---------------------------------------------------------------------------
    def _receive(self, timeout_s: float):
        """Wait for one message, watching the process; raise EngineCrashed/EngineTimeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            broken = False
            try:
                if self._conn.poll(POLL_S):
                    return self._conn.recv()
            except (EOFError, OSError):
                broken = True  # the pipe broke: the process is gone or going, handled below
            if broken:
                # a killed process can still look alive for a moment (not yet reaped): wait
                # for it, so a crash is reported as a crash and not as a time-out
                self._proc.join(timeout=EXIT_WAIT_S)
            if not self._proc.is_alive():
                # a message may have arrived just before it exited
                try:
                    if self._conn.poll(0):
                        return self._conn.recv()
                except (EOFError, OSError):
                    pass
                code = self._restart()
                raise EngineCrashed(
                    f"the inference worker stopped unexpectedly (exit code {code}); "
                    "it has been restarted, please repeat the click"
                )
            if time.monotonic() > deadline:
                self._restart()
                raise EngineTimeout(
                    f"the inference worker did not answer within {timeout_s:.0f} s; "
                    "it has been restarted, please repeat the click"
                )

    def wait_ready(self) -> None:
        if self._ready:
            return
        msg = self._receive(READY_TIMEOUT_S)
        if msg[0] == "failed":
            self._kill()
            self.start()
            raise EngineError(f"the model could not be loaded: {msg[1]}")
        self.device = msg[1]
        self._ready = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._proc is None:
            self.start()
        self.wait_ready()
        try:
            self._conn.send(("run", np.ascontiguousarray(x, dtype=np.float32)))
        except (OSError, BrokenPipeError):
            self._receive(0.0)  # the worker is gone: waits for its exit, raises EngineCrashed
        msg = self._receive(self.timeout_s)
        if msg[0] == "error":
            raise EngineError(f"inference failed: {msg[1]}")
        return msg[1]

    def peak_rss_bytes(self) -> int | None:
        """Peak resident memory of the current worker (Linux /proc), for the harness."""
        from segmentation_core.memory import peak_rss_of_pid

        return peak_rss_of_pid(self.pid) if self.pid else None
