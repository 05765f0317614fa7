"""The AI tool without Qt: view events -> clicks -> preview -> one undoable command, on real CT
with the classic engine (fast), plus the click mapping and busy rules with a recording backend."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import ndimage

from segmentation_core import open_session
from segmentation_core.masks import dice
from viewer.commands import History
from viewer.model.document import Document
from viewer.services.ai_service import AIService
from viewer.tools.ai_tool import AITool
from viewer.tools.base import ViewEvent
from viewer.tools.editor_state import EditorState

LIVER, SPLEEN = 5, 1


def inner_point(mask: np.ndarray, spacing_zyx) -> tuple[int, int, int]:
    """The voxel deepest inside `mask` (largest distance to its border)."""
    dist = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing_zyx)[1:-1, 1:-1, 1:-1]
    return tuple(int(v) for v in np.unravel_index(np.argmax(dist), mask.shape))  # type: ignore[return-value]


def make_tool(doc: Document, segment_id: int | None, engine: str = "classic"):
    state = EditorState(active_segment_id=segment_id)
    service = AIService(engine)
    tool = AITool(doc, state, service)
    service.listener = tool.apply_result  # worker thread; the tests read only after wait()
    service.set_document(doc)
    return tool, service, state


@pytest.fixture
def service_cleanup():
    made: list[AIService] = []
    yield made
    for s in made:
        s.shutdown()


def test_click_preview_accept_is_one_undo_step_and_undo_is_bit_identical(ct, service_cleanup):
    truth = ct.labels.array == LIVER
    doc = Document(ct.volume)  # same CT, empty label map
    seg = doc.segments.add("Liver")
    tool, service, _ = make_tool(doc, seg.id)
    service_cleanup.append(service)
    history = History(doc)
    before = doc.labels.array.copy()

    c = inner_point(truth, doc.geometry.spacing_zyx)
    assert tool.on_press(ViewEvent(tuple(float(v) for v in c), axis=0, button="left")) is None
    assert service.wait(60)
    assert [k.positive for k in tool.clicks] == [True] and tool.clicks[0].done
    assert tool.has_preview()
    assert np.array_equal(doc.labels.array, before), "a preview must not touch the label map"
    assert dice(tool.preview, truth) > 0.6, "the classic engine should find most of the liver"
    np.testing.assert_allclose(tool.points_world(True)[0], doc.geometry.index_to_world(c))
    preview = tool.preview.copy()

    command = tool.accept()
    assert command is not None and command.name == "AI segmentation on Liver"
    history.push(command)
    assert history.undo_names() == ["AI segmentation on Liver"]
    assert np.array_equal(doc.labels.array == seg.id, preview)
    assert not tool.clicks and not tool.has_preview()
    assert service.wait(60)
    history.undo()
    assert np.array_equal(doc.labels.array, before)
    assert doc.labels.array.dtype == before.dtype
    history.redo()
    assert np.array_equal(doc.labels.array == seg.id, preview)


def test_negative_click_and_undo_click_restore_previous_preview(ct, service_cleanup):
    doc = Document(ct.volume)
    seg = doc.segments.add("Liver")
    tool, service, _ = make_tool(doc, seg.id)
    service_cleanup.append(service)
    truth = ct.labels.array == LIVER
    c = inner_point(truth, doc.geometry.spacing_zyx)
    tool.add_click(c, True)
    service.wait(60)
    first = tool.preview.copy()
    # a negative click on a previewed voxel outside the liver, if any; else any previewed voxel
    wrong = np.argwhere(first & ~truth)
    neg = tuple(int(v) for v in (wrong[len(wrong) // 2] if len(wrong) else np.argwhere(first)[0]))
    tool.on_press(ViewEvent(tuple(float(v) for v in neg), axis=0, button="right"))
    service.wait(60)
    assert [k.positive for k in tool.clicks] == [True, False]
    assert not tool.preview[neg], "the negative click's voxel must leave the preview"
    assert tool.points_world(False).shape == (1, 3)
    assert tool.undo_click()
    service.wait(60)
    assert [k.positive for k in tool.clicks] == [True]
    assert np.array_equal(tool.preview, first)


def test_locked_and_other_segments_follow_the_overwrite_option(ct, service_cleanup):
    doc = ct
    before = doc.labels.array.copy()
    doc.segments.get(LIVER).locked = True
    lesion = doc.segments.add("Lesion")
    tool, service, state = make_tool(doc, lesion.id)
    service_cleanup.append(service)
    history = History(doc)
    # a click in the spleen: the prediction spreads into neighbours, the liver is locked
    tool.add_click(inner_point(before == SPLEEN, doc.geometry.spacing_zyx), True)
    tool.add_click(inner_point(before == LIVER, doc.geometry.spacing_zyx), True)
    service.wait(60)
    preview = tool.preview.copy()
    assert (preview & (before == LIVER)).any(), "the test needs a prediction over the liver"
    assert (preview & (before != 0) & (before != LIVER)).any()

    state.overwrite_others = True
    command = tool.accept()
    history.push(command)
    after = doc.labels.array
    assert np.array_equal(after[before == LIVER], before[before == LIVER]), "locked: untouched"
    painted = preview & (before != LIVER)
    assert np.all(after[painted] == lesion.id)
    assert np.array_equal(after[~preview], before[~preview])
    history.undo()
    assert np.array_equal(doc.labels.array, before)

    # overwrite off: only background voxels are claimed
    state.overwrite_others = False
    tool.add_click(inner_point(before == LIVER, doc.geometry.spacing_zyx), True)
    service.wait(60)
    preview = tool.preview.copy()
    history.push(tool.accept())
    after = doc.labels.array
    assert np.array_equal(after[before != 0], before[before != 0])
    assert np.all(after[preview & (before == 0)] == lesion.id)


def test_accept_refuses_a_locked_active_segment_and_keeps_the_preview(ct, service_cleanup):
    doc = ct
    doc.segments.get(LIVER).locked = True
    tool, service, _ = make_tool(doc, LIVER)
    service_cleanup.append(service)
    tool.add_click(inner_point(doc.labels.array == LIVER, doc.geometry.spacing_zyx), True)
    service.wait(60)
    assert tool.accept() is None
    assert "locked" in tool.message
    assert tool.has_preview(), "a refused accept keeps the work"


def test_reject_drops_preview_and_answers_in_flight(ct, service_cleanup):
    doc = Document(ct.volume)
    seg = doc.segments.add("Liver")
    tool, service, _ = make_tool(doc, seg.id)
    service_cleanup.append(service)
    tool.add_click(inner_point(ct.labels.array == LIVER, doc.geometry.spacing_zyx), True)
    tool.reject()  # the click is still queued or running: its answer is now stale
    service.wait(60)
    assert not tool.clicks and not tool.has_preview()
    assert tool.accept() is None


class RecordingBackend:
    """Stands in for the service: records requests; `busy` is set by the test."""

    def __init__(self) -> None:
        self.generation = 0
        self.busy = False
        self.requests: list[tuple] = []
        self.refuse = False

    def request_click(self, zyx, positive=True):
        if self.refuse:
            return None
        self.requests.append(("click", tuple(zyx), positive))
        return len(self.requests)

    def request_undo(self):
        self.requests.append(("undo",))
        return len(self.requests)

    def request_reset(self):
        self.generation += 1
        self.requests.append(("reset",))
        return len(self.requests)


def test_buttons_and_modifiers_map_to_positive_and_negative(ct):
    backend = RecordingBackend()
    tool = AITool(ct, EditorState(active_segment_id=LIVER), backend)
    tool.on_press(ViewEvent((10.2, 40.0, 50.6), axis=0, button="left"))
    tool.on_press(ViewEvent((10.0, 40.0, 52.0), axis=1, button="right"))
    tool.on_press(
        ViewEvent((10.0, 41.0, 50.0), axis=2, button="left", modifiers=frozenset({"shift"}))
    )
    tool.on_press(ViewEvent((10.0, 41.0, 50.0), axis=2, button="middle"))
    tool.on_press(ViewEvent((-5.0, 41.0, 50.0), axis=2, button="left"))  # outside the image
    assert backend.requests == [
        ("click", (10, 40, 51), True),
        ("click", (10, 40, 52), False),
        ("click", (10, 41, 50), False),
    ]
    assert "inside the image" in tool.message
    backend.refuse = True
    assert not tool.add_click((10, 40, 50))
    assert "ignored" in tool.message and len(tool.clicks) == 3
    backend.busy = True
    assert tool.accept() is None and "Wait" in tool.message
    assert not tool.undo_click() and "Wait" in tool.message


def test_clicks_beyond_the_queue_are_refused_while_a_prediction_runs(ct, service_cleanup):
    gate = threading.Event()

    class SlowSession:
        def __init__(self) -> None:
            self.inner = open_session(engine="classic")

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def add_click(self, zyx, positive=True):
            gate.wait(30)
            return self.inner.add_click(zyx, positive)

    service = AIService("classic", session_factory=lambda _e: SlowSession(), max_pending=1)
    service_cleanup.append(service)
    tool = AITool(ct, EditorState(active_segment_id=LIVER), service)
    service.listener = tool.apply_result
    service.set_document(ct)
    assert service.wait(60)  # engine and image ready
    c = inner_point(ct.labels.array == LIVER, ct.geometry.spacing_zyx)
    try:
        assert tool.add_click(c)  # this click fills the queue and waits at the gate
        assert service.busy
        assert not tool.add_click(c) and "ignored" in tool.message
        assert tool.accept() is None
    finally:
        gate.set()
    service.wait(60)
    assert not service.busy and len(tool.clicks) == 1 and tool.has_preview()
