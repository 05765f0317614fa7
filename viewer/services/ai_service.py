"""The AI service: one click-to-segment session for the open document, driven off the caller's
thread, with results handed back through a callback (Qt-free).

All work on the session (opening the engine, `set_image`, `add_click`, `undo`, `reset`,
`close`) runs on one worker thread, in submission order, so the session is never touched by
two threads. The Paddle engine's Predictor itself runs in the engine's worker process, so the
GUI thread stays free while a prediction is computed. Each request gets an id and carries the
service's *generation*; a new document, engine or reset bumps the generation, so a consumer can
drop answers that belong to an earlier state (`AIResult.generation != service.generation`).

The engines come from the one registry, `segmentation_core.engines`. When an engine cannot be
opened (for instance the shipped Paddle weights are absent) the service falls back to the engine
it declares as its fallback (classic for Paddle) and says so in `AIResult.message`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from segmentation_core.engines import fallback_for
from segmentation_core.engines import titles as ENGINES  # name -> title, read live
from segmentation_core.types import Prediction, SegmentationError
from viewer.tools.ai_tool import AIRequest

if TYPE_CHECKING:
    from segmentation_core.session import InteractiveSession
    from viewer.model.document import Document

log = logging.getLogger(__name__)

__all__ = ["AIRequest", "AIResult", "AIService", "ENGINES"]
SessionFactory = Callable[[str], "InteractiveSession"]
Listener = Callable[["AIResult"], None]


def default_session_factory(engine: str, model_dir: Path | None = None) -> InteractiveSession:
    from segmentation_core import open_session

    return open_session(engine=engine, model_dir=model_dir)


@dataclass(frozen=True)
class AIResult:
    """The answer to one request.

    kind: which request it answers.
    prediction: what changed (None for prepare/reset, or an undo with nothing to undo).
    error: a message for the user when the request failed (the session is then unchanged).
    engine: the engine actually in use; message: a notice such as a fallback to classic.
    """

    kind: AIRequest
    request_id: int
    generation: int
    prediction: Prediction | None = None
    error: str = ""
    engine: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class AIService:
    """Owns the interactive session of the open document and runs it on a worker thread.

    `listener(result)` is called on the worker thread after each request; a GUI marshals it to
    its own thread (a Qt signal does). `max_pending` bounds queued clicks: beyond it a click is
    refused (`request_click` returns None) rather than piling up behind a slow engine.
    """

    def __init__(
        self,
        engine: str = "paddle",
        *,
        listener: Listener | None = None,
        session_factory: SessionFactory | None = None,
        fallback_to_classic: bool = True,
        max_pending: int = 3,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.listener = listener
        self.requested_engine = engine
        self.engine = engine  # the engine in use (differs after a fallback)
        self.fallback_to_classic = fallback_to_classic
        self.max_pending = int(max_pending)
        # the model folder the engine reads (None: its default, the shipped model); a project
        # sets its active version here
        self.model_dir: Path | None = None
        self._factory = session_factory or (lambda e: default_session_factory(e, self.model_dir))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ai-service")
        self._lock = threading.Lock()
        self._pending = 0
        self._futures: list[Future] = []
        self._next_id = 0
        self.generation = 0
        self._image: tuple[np.ndarray, tuple[float, float, float]] | None = None
        self._image_token = 0
        # (token, image) published in one assignment: the worker reads both from the same
        # study (a new token with the old image would segment the next study on the old pixels)
        self._published: tuple[int, tuple[np.ndarray, tuple[float, float, float]] | None] = (
            0,
            None,
        )
        self._closed = False
        # worker-thread state: touched only by jobs running on the executor
        self._session: InteractiveSession | None = None
        self._opened_for: str | None = None
        self._opened_on: Path | None = None  # the model_dir the session was opened with
        self._session_token = -1
        self._notice: list[str] = []

    # --- state (caller's thread) ----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a request is queued or running."""
        with self._lock:
            return self._pending > 0

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def set_document(self, document: Document | None, prepare: bool = True) -> None:
        """Use the open document's image (or none); `prepare` readies the engine and image in
        the background now (else on the first click or `prepare()`)."""
        self.generation += 1
        token = self._image_token + 1
        if document is None or not document.volume.is_segmentable:
            image = None
        else:
            spacing = tuple(float(s) for s in document.geometry.spacing_zyx)
            image = (document.volume.array, spacing)
        self._published = (token, image)  # type: ignore[assignment]
        self._image_token, self._image = token, image  # type: ignore[assignment]
        if image is None:
            return
        if prepare:
            self.prepare()

    def prepare(self) -> int | None:
        """Open the engine and hand it the image in the background (cheap when already done)."""
        if self._image is None or self._closed:
            return None
        return self._submit(AIRequest.PREPARE, self._job_prepare)

    def set_engine(self, engine: str) -> int | None:
        """Switch to a registered engine; clicks so far are dropped."""
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.requested_engine = engine
        self.generation += 1
        return self._submit(AIRequest.PREPARE, self._job_switch(engine))

    def set_model_dir(self, model_dir: str | Path | None) -> bool:
        """Answer with the model in `model_dir` (None: the engine's default) from now on: the
        next request reopens the session on it (no request is queued for that, so it never
        crowds out a click); answers still in flight become stale. False when unchanged."""
        model_dir = Path(model_dir) if model_dir is not None else None
        if model_dir == self.model_dir:
            return False
        self.model_dir = model_dir  # read by the worker thread's next `_session_ready`
        self.generation += 1
        return True

    def request_click(self, zyx: tuple[int, int, int], positive: bool = True) -> int | None:
        """Queue a click; returns its request id, or None when refused (no image, too busy)."""
        if self._image is None or self._closed:
            return None
        with self._lock:
            if self._pending >= self.max_pending:
                return None
        pt = tuple(int(v) for v in zyx)
        token, gen = self._image_token, self.generation  # the study and clicks it was made on
        return self._submit(
            AIRequest.CLICK,
            lambda: self._on_study(token, gen, lambda s: s.add_click(pt, positive)),
        )

    def request_undo(self) -> int | None:
        """Queue taking back the last click."""
        if self._image is None or self._closed:
            return None
        token, gen = self._image_token, self.generation
        return self._submit(AIRequest.UNDO, lambda: self._on_study(token, gen, lambda s: s.undo()))

    def request_reset(self) -> int | None:
        """Forget all clicks; answers still in flight become stale (a new generation)."""
        self.generation += 1
        if self._image is None or self._closed:
            return None
        return self._submit(AIRequest.RESET, self._job_reset)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued request has been answered (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures)
        for f in futures:
            try:
                f.result(timeout=timeout)
            except TimeoutError:
                return False
            except CancelledError:
                continue
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Drop queued requests, close the session (stops a Paddle worker process), stop."""
        if self._closed:
            return
        self._closed = True
        self.generation += 1
        with self._lock:
            for f in self._futures:
                f.cancel()
        try:
            self._executor.submit(self._job_close)
        except RuntimeError:  # the interpreter is exiting: no new threads, close right here
            self._close_session()
        self._executor.shutdown(wait=wait)

    # --- submission -------------------------------------------------------------------------
    def _submit(self, kind: AIRequest, job: Callable[[], Prediction | None]) -> int | None:
        if self._closed:
            return None
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            self._pending += 1
            gen = self.generation
            fut = self._executor.submit(self._run, kind, rid, gen, job)
            self._futures = [f for f in self._futures if not f.done()] + [fut]
        return rid

    def _run(
        self, kind: AIRequest, rid: int, gen: int, job: Callable[[], Prediction | None]
    ) -> None:
        notice: list[str] = []
        self._notice = notice
        prediction, error = None, ""
        try:
            prediction = job()
        except SegmentationError as e:
            error = str(e)
        except Exception as e:  # an engine bug must not kill the worker thread
            log.exception("AI %s request failed", kind.value)
            error = f"AI engine failed unexpectedly: {type(e).__name__}: {e}"
        finally:
            with self._lock:
                self._pending -= 1
        result = AIResult(kind, rid, gen, prediction, error, self.engine, " ".join(notice))
        if self.listener is not None:
            try:
                self.listener(result)
            except Exception:
                log.exception("AI result listener failed")

    # --- jobs (worker thread) -----------------------------------------------------------------
    def _open(self, engine: str) -> None:
        model_dir = self.model_dir  # the folder this session answers with
        self._close_session()
        try:
            session = self._factory(engine)
            self.engine = engine
        except SegmentationError as e:
            fallback = fallback_for(engine) if self.fallback_to_classic else None
            if fallback is not None:
                session = self._factory(fallback)
                self.engine = fallback
                self._notice.append(
                    f"The {ENGINES[engine]} is unavailable ({e}); using the {fallback} engine."
                )
            else:
                raise
        self._session = session
        self._opened_for = engine
        self._opened_on = model_dir
        self._session_token = -1

    def _session_ready(self) -> InteractiveSession:
        if (
            self._session is None
            or self._opened_for != self.requested_engine
            or self._opened_on != self.model_dir
        ):
            self._open(self.requested_engine)
        token, image = self._published
        if image is None:
            raise SegmentationError("no image is open")
        if self._session_token != token:
            self._session.set_image(*image)
            self._session_token = token
        return self._session

    def _on_study(
        self, token: int, gen: int, step: Callable[[InteractiveSession], Prediction | None]
    ) -> Prediction | None:
        """`step(session)` only when the session holds the image of study `token` and nothing
        made the clicks stale since (`gen`: another study, engine, model or a reset): a click
        queued before must not land in the session of what is open now, where it would be a
        click the tool does not know about; it is dropped (its answer is stale anyway)."""
        session = self._session_ready()
        if self._session_token != token or self.generation != gen:
            return None
        return step(session)

    def _job_prepare(self) -> None:
        _warm(self._session_ready())

    def _job_switch(self, engine: str) -> Callable[[], None]:
        def job() -> None:
            self._opened_for = None  # retry even the engine that failed before
            if self._image is None:
                self._open(engine)
                _warm(self._session)
            else:
                _warm(self._session_ready())

        return job

    def _job_reset(self) -> None:
        if self._session is not None and self._session_token == self._image_token:
            self._session.reset()

    def _close_session(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            except Exception:
                log.exception("closing the AI session failed")
        self._session = None
        self._opened_for = None

    def _job_close(self) -> None:
        self._close_session()


def _warm(session) -> None:
    """Wait until the session's engine can answer at once: the Paddle worker process has loaded
    the model and run its first pass (otherwise the user's first click pays for it; the cost is
    in docs/benchmarks.md). The "prepare" answer, and so the panel's "ready", comes after this."""
    wait_ready = getattr(getattr(session, "predictor", None), "wait_ready", None)
    if wait_ready is not None:
        wait_ready()
