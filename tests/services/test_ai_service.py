"""The AI service: one session per document on a worker thread, answers by callback, engine
errors as messages, fallback to the classic engine, stale answers marked by generation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from segmentation_core import open_session
from segmentation_core.types import EngineCrashed, EngineError
from viewer.io import load_volume
from viewer.model.document import Document
from viewer.services.ai_service import AIRequest, AIResult, AIService


@pytest.fixture
def doc(test_data) -> Document:
    return Document(load_volume(str(test_data / "prostate_phantom_image.nrrd")))


class CountingSession:
    """A real classic session that counts set_image calls, closes, and can fail on demand."""

    def __init__(self, log: dict) -> None:
        self.inner = open_session(engine="classic")
        self.log = log
        log["opened"] = log.get("opened", 0) + 1

    def set_image(self, array, spacing):
        self.log.setdefault("images", []).append((array.shape, tuple(spacing)))
        self.inner.set_image(array, spacing)

    def add_click(self, zyx, positive=True):
        if self.log.get("crash"):
            raise EngineCrashed("the inference worker died (test); it has been restarted")
        if self.log.get("bug"):
            raise RuntimeError("boom")
        self.log.setdefault("threads", set()).add(threading.current_thread().name)
        return self.inner.add_click(zyx, positive)

    def undo(self):
        return self.inner.undo()

    def reset(self):
        self.inner.reset()

    def close(self):
        self.log["closed"] = self.log.get("closed", 0) + 1


def collect(service: AIService) -> list[AIResult]:
    out: list[AIResult] = []
    service.listener = out.append
    return out


def test_clicks_run_off_the_callers_thread_and_set_image_once_per_document(doc, test_data):
    log: dict = {}
    service = AIService("classic", session_factory=lambda e: CountingSession(log))
    results = collect(service)
    try:
        service.set_document(doc)
        a = service.request_click((6, 30, 40), True)
        b = service.request_click((6, 31, 40), False)
        assert service.wait(60)
        kinds = [(r.kind, r.request_id) for r in results]
        assert kinds[1:] == [("click", a), ("click", b)] and kinds[0][0] == "prepare"
        assert all(r.ok and r.engine == "classic" for r in results)
        p = results[1].prediction
        assert p.mask.dtype == bool and p.mask.shape == tuple(
            hi - lo for lo, hi in zip(p.bbox[:3], p.bbox[3:])
        )
        assert log["images"] == [(doc.volume.array.shape, doc.geometry.spacing_zyx)]
        assert log["threads"] and threading.current_thread().name not in log["threads"]
        # a second document: new image, new generation, the same engine session
        gen = service.generation
        doc2 = Document(load_volume(str(test_data / "prostate_phantom_image.nrrd")))
        service.set_document(doc2)
        service.request_click((6, 30, 40))
        service.wait(60)
        assert service.generation == gen + 1 and results[-1].generation == gen + 1
        assert len(log["images"]) == 2 and log["opened"] == 1
    finally:
        service.shutdown()
    assert log["closed"] == 1


def test_engine_failures_are_messages_and_the_service_goes_on(doc):
    log: dict = {}
    service = AIService("classic", session_factory=lambda e: CountingSession(log))
    results = collect(service)
    try:
        service.set_document(doc)
        log["crash"] = True
        service.request_click((6, 30, 40))
        log_wait = service.wait(60)
        assert log_wait and results[-1].kind is AIRequest.CLICK
        assert "worker died" in results[-1].error and results[-1].prediction is None
        log["crash"] = False
        log["bug"] = True
        service.request_click((6, 30, 40))
        service.wait(60)
        assert results[-1].error.startswith("AI engine failed unexpectedly: RuntimeError: boom")
        log["bug"] = False
        service.request_click((6, 30, 40))
        service.wait(60)
        assert results[-1].ok
        # the crash and the bug left nothing behind: the answer is a fresh session's first one
        ref = open_session(engine="classic")
        ref.set_image(doc.volume.array, log["images"][-1][1])
        want = ref.add_click((6, 30, 40))
        assert results[-1].prediction.bbox == want.bbox and want.mask.sum() > 10
        np.testing.assert_array_equal(results[-1].prediction.mask, want.mask)
        service.request_click((99, 0, 0))  # outside the image: the session says so
        service.wait(60)
        assert "outside the image" in results[-1].error
    finally:
        service.shutdown()


def test_paddle_unavailable_falls_back_to_classic_and_says_so(doc):
    opened: list[str] = []

    def factory(engine: str):
        opened.append(engine)
        if engine == "paddle":
            raise EngineError("/models/base: no exported model there (missing model.json)")
        return open_session(engine="classic")

    service = AIService("paddle", session_factory=factory)
    results = collect(service)
    try:
        service.set_document(doc)
        service.request_click((6, 30, 40))
        service.wait(60)
        assert opened == ["paddle", "classic"], "the failed engine is not retried on each click"
        assert results[0].kind is AIRequest.PREPARE and results[0].engine == "classic"
        assert "Paddle model is unavailable" in results[0].message
        assert "no exported model" in results[0].message
        assert results[1].ok and results[1].engine == "classic" and service.engine == "classic"
        service.set_engine("paddle")  # asking again retries
        service.wait(60)
        assert opened == ["paddle", "classic", "paddle", "classic"]
    finally:
        service.shutdown()

    strict = AIService("paddle", session_factory=factory, fallback_to_classic=False)
    results = collect(strict)
    try:
        strict.set_document(doc)
        strict.wait(60)
        assert "no exported model" in results[0].error
    finally:
        strict.shutdown()


def test_reset_and_new_document_make_answers_stale(doc):
    gate = threading.Event()

    def factory(engine):
        s = open_session(engine="classic")
        click = s.add_click

        def slow(zyx, positive=True):
            gate.wait(30)
            return click(zyx, positive)

        s.add_click = slow
        return s

    service = AIService("classic", session_factory=factory)
    results = collect(service)
    try:
        service.set_document(doc)
        service.request_click((6, 30, 40))
        assert service.busy
        service.request_reset()
        gate.set()
        service.wait(60)
        click = next(r for r in results if r.kind is AIRequest.CLICK)
        assert click.generation < service.generation, "the consumer can tell it is stale"
        assert not service.busy
    finally:
        gate.set()
        service.shutdown()
    assert service.request_click((6, 30, 40)) is None  # shut down: refused, no exception


def test_no_image_refuses_clicks_and_bad_engine_names(doc):
    service = AIService("classic")
    try:
        assert service.request_click((0, 0, 0)) is None
        with pytest.raises(ValueError, match="unknown engine"):
            service.set_engine("torch")
    finally:
        service.shutdown()
    with pytest.raises(ValueError, match="unknown engine"):
        AIService("torch")


def test_a_new_model_dir_reopens_the_session_there_at_the_next_click(doc, monkeypatch, tmp_path):
    from viewer.services import ai_service

    opened: list = []
    log: dict = {}

    def factory(engine, model_dir=None):
        opened.append(model_dir)
        return CountingSession(log)

    monkeypatch.setattr(ai_service, "default_session_factory", factory)
    service = AIService("classic")
    service.set_document(doc, prepare=False)
    zyx = tuple(s // 2 for s in doc.geometry.shape_zyx)
    service.request_click(zyx)
    assert service.wait(30)
    assert opened == [None]
    generation = service.generation
    assert service.set_model_dir(tmp_path / "v2")
    assert service.generation == generation + 1  # answers still in flight are stale
    assert not service.set_model_dir(tmp_path / "v2")  # the same folder: nothing to do
    assert service.pending == 0  # nothing queued: it never crowds out a click
    service.request_click(zyx)
    assert service.wait(30)
    assert opened == [None, tmp_path / "v2"] and log["closed"] == 1
    service.request_click(zyx)
    assert service.wait(30) and opened == [None, tmp_path / "v2"]  # opened once
    service.shutdown()


def _ball_study(centres) -> Document:
    from viewer.model.geometry import Geometry
    from viewer.model.volume import Volume

    a = np.zeros((24, 24, 24), np.float32)
    z, y, x = np.ogrid[:24, :24, :24]
    for c in centres:
        a[(z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= 16] = 1000
    return Document(Volume(a, Geometry((24, 24, 24))))


def test_a_click_queued_on_one_study_never_lands_in_the_next_ones_session():
    """The user clicks on study A while the engine is still opening, then opens study B: A's
    click must not become a hidden click (and a blob in the preview) in B's session."""
    study_a = _ball_study([(6, 6, 6)])
    study_b = _ball_study([(6, 6, 6), (17, 17, 17)])  # B has tissue where A was clicked
    opening, go_on = threading.Event(), threading.Event()
    sessions = []

    def slow_open(engine):
        opening.set()
        go_on.wait(10)  # the engine is still opening when the user switches study
        sessions.append(open_session(engine="classic"))
        return sessions[-1]

    results = []
    svc = AIService("classic", session_factory=slow_open)
    svc.listener = results.append
    svc.set_document(study_a, prepare=False)
    svc.request_click((6, 6, 6))
    assert opening.wait(10)
    svc.set_document(study_b, prepare=False)
    go_on.set()
    assert svc.wait(30)
    (stale,) = results
    assert stale.prediction is None and stale.error == "" and stale.generation != svc.generation
    svc.request_click((17, 17, 17))
    assert svc.wait(30)
    (session,) = sessions
    assert [c.zyx for c in session.clicks] == [(17, 17, 17)]
    mask = session.segmentation()
    assert (bool(mask[6, 6, 6]), bool(mask[17, 17, 17])) == (False, True)
    svc.shutdown()
