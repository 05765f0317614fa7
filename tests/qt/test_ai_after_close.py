"""An AI answer still in flight when the window closes is dropped (the views are released by
then: applying it raised "wrapped C/C++ object ... has been deleted" from the overlay), and a
service shut down while Python exits closes its session without a new thread."""

from __future__ import annotations

from viewer.qt.ai_controller import install_ai
from viewer.qt.panels import install_editing
from viewer.services.ai_service import AIRequest, AIResult, AIService


def test_answer_arriving_after_close_is_dropped(window, phantom, qtbot):
    install_editing(window, autosave=False)
    window.set_document(phantom)
    ai = install_ai(window, engine="classic")
    applied: list[AIResult] = []
    original = ai.tool.apply_result
    ai.tool.apply_result = lambda r: applied.append(r) or original(r)
    late = AIResult(AIRequest.CLICK, 1, ai.service.generation, error="late answer")
    window.close()  # no unsaved labels: the close is final and releases the views
    ai.sig_result.emit(late)  # as the service's thread would, after the close
    qtbot.wait(50)
    assert applied == []
    assert window.statusBar().currentMessage() != "late answer"


def test_shutdown_when_no_new_thread_can_start_still_closes_the_session():
    closed: list[str] = []

    class Session:
        def close(self) -> None:
            closed.append("closed")

    service = AIService("classic", session_factory=lambda engine: Session())
    service._session = Session()
    service._executor.shutdown(wait=True)  # as at interpreter exit: submit() raises RuntimeError
    service.shutdown(wait=True)
    assert closed == ["closed"]
