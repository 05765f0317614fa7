"""Retraining from the Project panel, for real: `RetrainJob` starts its worker process, the
panel polls it, the training view shows the phases, progress and curves, a new version appears
in the versions list; Cancel stops a run; reopening the project re-attaches to a running
retrain; quitting asks whether a running retrain keeps running. The event loop is measured
during a whole retrain: the window must stay responsive."""

from __future__ import annotations

import time

import pytest
from project_gui_helpers import make_cases, make_label
from PyQt5 import QtCore, QtWidgets

from viewer.project import LabelDef, Project
from viewer.project.retrain import RetrainJob
from viewer.qt.ai_controller import install_ai
from viewer.qt.panels import install_editing
from viewer.qt.project_controller import install_project

# a loaded 2-core machine trains a step in 2-10 s: room beyond the suite's 300 s default
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
LABELS = [LabelDef(1, "Cube", (255, 48, 48))]
# a generous bound for a busy 2-core machine: a frozen UI shows gaps of seconds
MAX_GAP_S = 0.5
RUN_TIMEOUT_MS = 420_000


class LoopProbe(QtCore.QObject):
    """Ticks every 10 ms on the UI thread and keeps the longest gap between two ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.last = time.perf_counter()
        self.max_gap = 0.0
        self.ticks = 0
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1


@pytest.fixture
def pwin(window):
    install_editing(window, autosave=False)
    install_ai(window, engine="classic")
    install_project(window, user="alice")
    # 10 steps (progress is reported every 10); the 3D view (VTK: half a second) is built
    # now, not during the measurement
    window.project.retrain_max_steps = 10
    assert window.view_3d is not None
    yield window
    window.ai.service.shutdown()


@pytest.fixture
def finished_project(tmp_path):
    """Two finished cases (the bright cube labelled 1); retrains on 1 thread."""
    folder = tmp_path / "proj"
    project = Project.create(folder, "Cubes", LABELS)
    for i, image in enumerate(make_cases(tmp_path / "images", 2)):
        project.add_case(image, make_label(tmp_path / "images" / f"label{i}.nii.gz"), final=True)
    project.update_settings(retrain_minutes=3.0, retrain_threads=1)
    yield folder
    job = RetrainJob.attach(folder)  # never leave a worker behind
    if job is not None:
        job.cancel()
        end = time.monotonic() + 120
        while job.running() and time.monotonic() < end:
            time.sleep(0.2)


def open_project(window, monkeypatch, folder) -> None:
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window.project.menu.open_action.trigger()
    assert window.project.project is not None, window.errors


def start_from_panel(window, qtbot):
    panel = window.project.panel
    qtbot.mouseClick(panel.retrain_button, QtCore.Qt.LeftButton)
    monitor = window.project.monitor
    assert monitor is not None and monitor.running, window.errors
    assert panel.training.monitor is monitor and panel.training.cancel_button.isEnabled()
    assert not panel.retrain_button.isEnabled()  # one at a time
    return monitor


def wait_for_training(qtbot, monitor) -> None:
    qtbot.waitUntil(
        lambda: {"type": "phase", "name": "training"} in _kinds(monitor) or not monitor.running,
        timeout=RUN_TIMEOUT_MS,
    )
    assert monitor.running, monitor.result


def _kinds(monitor) -> list[dict]:
    return [{k: e[k] for k in ("type", "name") if k in e} for e in monitor.history]


def test_retrain_from_the_panel_shows_progress_publishes_and_keeps_the_ui_responsive(
    pwin, qtbot, monkeypatch, finished_project
):
    open_project(pwin, monkeypatch, finished_project)
    panel = pwin.project.panel
    view = panel.training
    probe = LoopProbe()
    t0 = time.perf_counter()
    monitor = start_from_panel(pwin, qtbot)
    phases = []
    monitor.reported.connect(lambda e: e.get("type") == "phase" and phases.append(e["name"]))
    qtbot.waitUntil(lambda: not monitor.running, timeout=RUN_TIMEOUT_MS)
    seconds = time.perf_counter() - t0
    probe.timer.stop()
    result = monitor.result
    assert result["type"] == "done", result
    print(
        f"retrain from the panel: {seconds:.1f} s, {probe.ticks} ticks, "
        f"longest event-loop gap {probe.max_gap * 1000:.0f} ms"
    )
    assert probe.max_gap < MAX_GAP_S, f"the UI froze for {probe.max_gap:.2f} s"
    assert phases == ["loading", "training", "evaluating", "publishing", "ranking"]
    progress = [e for e in monitor.history if e.get("type") == "progress"]
    assert [e["step"] for e in progress] == [10] and result["steps"] == 10
    assert view.progress.value() == 1000
    # the curves hold exactly the reported losses and validation scores
    xs, ys = view.loss_curve.getData()
    assert list(xs) == [e["step"] for e in progress if e.get("loss") is not None]
    assert list(ys) == pytest.approx([e["loss"] for e in progress if e.get("loss") is not None])
    project = Project.open(finished_project)
    versions = project.versions()
    assert [v.version_id for v in versions] == [result["version"]]
    assert panel.versions.rowCount() == 1
    assert panel.versions.item(0, 0).text() == result["version"]
    assert view.status.text().startswith(f"Retrain done: version {result['version']}")
    # the gate decided; the window follows the project's active model either way
    assert pwin.ai.service.model_dir == project.active_model_dir()
    assert (project.active_version() == result["version"]) == result["activated"]
    assert panel.retrain_button.isEnabled() and not view.cancel_button.isEnabled()


def test_cancel_and_reattach_after_reopening_the_project(
    pwin, qtbot, monkeypatch, finished_project
):
    pwin.project.retrain_max_steps = 0  # the budget alone: it runs until cancelled
    open_project(pwin, monkeypatch, finished_project)
    monitor = start_from_panel(pwin, qtbot)
    run_id = monitor.job.run_id
    wait_for_training(qtbot, monitor)
    pwin.project.menu.close_action.trigger()
    assert pwin.project.monitor is None
    assert RetrainJob.attach(finished_project).running()  # closing the project leaves it running
    pwin.project.menu.recent_menu.actions()[0].trigger()
    again = pwin.project.monitor
    view = pwin.project.panel.training
    assert again is not None and again.job.run_id == run_id and view.monitor is again
    qtbot.waitUntil(lambda: view.status.text() == "Retrain: training...", timeout=10000)
    assert view.cancel_button.isEnabled() and not pwin.project.panel.retrain_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not again.running, timeout=RUN_TIMEOUT_MS)
    assert again.result["type"] == "cancelled", again.result
    assert view.status.text() == "Retrain cancelled."
    assert Project.open(finished_project).versions() == []
    assert pwin.project.panel.retrain_button.isEnabled()


def test_quitting_during_a_retrain_asks_whether_it_keeps_running(
    pwin, qtbot, monkeypatch, finished_project
):
    pwin.project.retrain_max_steps = 0  # the budget alone: it runs until cancelled
    open_project(pwin, monkeypatch, finished_project)
    monitor = start_from_panel(pwin, qtbot)
    wait_for_training(qtbot, monitor)
    answers = [QtWidgets.QMessageBox.Cancel, QtWidgets.QMessageBox.No]
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(title)
        return answers.pop(0)

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    pwin.close()
    assert pwin.isVisible() and monitor.running  # Cancel: RadLabel stays open, training goes on
    pwin.close()
    assert not pwin.isVisible() and asked == ["A retrain is running"] * 2
    job = RetrainJob.attach(finished_project, monitor.job.run_id)  # No: it is cancelled
    events: list[dict] = []

    def ended() -> bool:
        events.extend(job.poll())
        return any(e.get("type") in ("cancelled", "done", "error") for e in events)

    qtbot.waitUntil(ended, timeout=RUN_TIMEOUT_MS)
    assert events[-1]["type"] == "cancelled", events[-1]


def test_submit_starts_a_retrain_by_itself_when_the_project_asks(
    pwin, qtbot, monkeypatch, tmp_path
):
    folder = tmp_path / "auto"
    project = Project.create(folder, "Auto", LABELS)
    image = make_cases(tmp_path / "images", 1)[0]
    project.add_case(image, make_label(tmp_path / "label.nii.gz"))  # its label: the original
    project.update_settings(retrain_minutes=3.0, retrain_threads=1)
    open_project(pwin, monkeypatch, folder)
    panel = pwin.project.panel
    assert panel.auto_retrain.text() == "by hand only"  # off by default
    panel.auto_retrain.setValue(1)  # retrain after every finished case
    assert Project.open(folder).settings()["auto_retrain_after"] == 1
    pwin.project.open_case("case0")
    assert int(pwin.document.labels.array.sum()) > 0  # the cube, opened from the original
    qtbot.mouseClick(panel.submit_button, QtCore.Qt.LeftButton)
    monitor = pwin.project.monitor
    assert monitor is not None and monitor.running and panel.training.monitor is monitor
    qtbot.mouseClick(panel.training.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not monitor.running, timeout=RUN_TIMEOUT_MS)
    assert monitor.result["type"] == "cancelled", monitor.result
