"""Project > Train automatic model... for real, through the main window: the dialog starts
`train-auto`'s training in its own process (the retrain's worker machinery), the panel's
training view shows its phases, steps, loss and validation Dice, the published version becomes
the project's automatic model and Auto-segment runs it; Cancel stops the process and a second
start resumes from the checkpoint; one training of a project at a time (the retrain's lock);
quitting during a run asks. Tiny generated cases, a few steps on 16^3 patches: seconds."""

from __future__ import annotations

import time

import pytest
from project_gui_helpers import double_click_row, make_cases, make_label
from PyQt5 import QtCore, QtWidgets

from viewer.project import LabelDef, Project
from viewer.project.auto_versions import auto_versions
from viewer.project.retrain import RetrainJob
from viewer.project.runs import list_runs
from viewer.qt.ai_controller import install_ai
from viewer.qt.auto_segment import install_auto_segment
from viewer.qt.panels import install_editing
from viewer.qt.project_controller import busy_text, install_project
from viewer.qt.training_view import auto_result_text, per_class_text

LABELS = [LabelDef(1, "Cube", (255, 48, 48))]
RUN_TIMEOUT_MS = 180_000  # a loaded 2-core machine; the runs take seconds
SHIFT_CTRL = QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier


@pytest.fixture
def pwin(window):
    install_editing(window, autosave=False)
    install_ai(window, engine="classic")
    install_project(window, user="alice")
    auto = install_auto_segment(window)
    window.project.auto_options = {"max_patch": 16}  # the tiny cases: one 16^3 patch
    window.auto_segment_controller = auto
    yield window
    window.ai.service.shutdown()


@pytest.fixture
def project_folder(tmp_path):
    """Two finished cases (the bright cube labelled 1); trains on 1 thread."""
    folder = tmp_path / "proj"
    project = Project.create(folder, "Cubes", LABELS)
    for i, image in enumerate(make_cases(tmp_path / "images", 2)):
        project.add_case(image, make_label(tmp_path / "images" / f"label{i}.nii.gz"), final=True)
    project.update_settings(retrain_threads=1)
    yield folder
    for run in list_runs(Project.open(folder).store):  # never leave a worker behind
        job = RetrainJob.attach(folder, run.run_id)
        if job.running():
            job.cancel()
            end = time.monotonic() + 120
            while job.running() and time.monotonic() < end:
                time.sleep(0.2)


def open_project(window, monkeypatch, folder) -> None:
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window.project.menu.open_action.trigger()
    assert window.project.project is not None, window.errors


def press(qtbot, window, key) -> None:
    """Ctrl+Shift+key on the window (active again: a dialog had the focus)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, key, SHIFT_CTRL)


def start_with_dialog(qtbot, window, *, fold_all: bool, folds: int = 2, resume=None):
    """Ctrl+Shift+T, the dialog's choices, Train: the running monitor."""
    press(qtbot, window, QtCore.Qt.Key_T)
    dialog = window.project.train_dialog
    assert dialog is not None and dialog.isVisible(), window.errors
    assert dialog.resume_id == resume and dialog.resume.isChecked() == (resume is not None)
    if resume is None:
        dialog.mode.setCurrentIndex(1 if fold_all else 0)
        dialog.folds.setValue(folds)
        dialog.minutes.setValue(5.0)
    qtbot.mouseClick(dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok), QtCore.Qt.LeftButton)
    monitor = window.project.monitor
    assert monitor is not None and monitor.running and monitor.kind == "auto", window.errors
    panel = window.project.panel
    assert panel.training.monitor is monitor and panel.training.cancel_button.isEnabled()
    assert not panel.train_auto_button.isEnabled() and not panel.retrain_button.isEnabled()
    return monitor


def progress_of(monitor) -> list[dict]:
    return [e for e in monitor.history if e.get("type") == "progress"]


def test_train_from_the_menu_shows_progress_publishes_and_auto_segment_uses_it(
    pwin, qtbot, monkeypatch, project_folder
):
    pwin.project.auto_max_steps = 3
    open_project(pwin, monkeypatch, project_folder)
    panel = pwin.project.panel
    view = panel.training
    assert pwin.project.menu.train_auto_action.isEnabled() and panel.train_auto_button.isEnabled()
    assert panel.auto_models.text() == "Automatic model: none trained yet"
    monitor = start_with_dialog(qtbot, pwin, fold_all=False, folds=2)
    assert Project.open(project_folder).settings()["auto_train_minutes"] == 5.0  # remembered
    qtbot.waitUntil(lambda: not monitor.running, timeout=RUN_TIMEOUT_MS)
    result = monitor.result
    assert result["type"] == "done", result
    phases = [(e["name"], e.get("model")) for e in monitor.history if e.get("type") == "phase"]
    assert phases == [
        ("planning", None),
        ("training", "fold_0/fullres"),
        ("evaluating", "fold_0"),
        ("training", "fold_1/fullres"),
        ("evaluating", "fold_1"),
        ("publishing", None),
    ]
    progress = progress_of(monitor)
    # three steps per fold, counted over the run for the curve; the last one measured
    assert [e["step"] for e in progress] == [1, 2, 3, 4, 5, 6]
    assert [e["stage_step"] for e in progress] == [1, 2, 3, 1, 2, 3]
    assert [e["fraction"] for e in progress] == pytest.approx([1 / 6, 2 / 6, 0.5, 4 / 6, 5 / 6, 1])
    measured = [e for e in progress if e["val"] is not None]
    assert [e["step"] for e in measured] == [3, 6]
    assert all(list(e["val_per_class"]) == ["Cube"] for e in measured)
    assert view.progress.value() == 1000
    xs, ys = view.loss_curve.getData()
    assert list(xs) == [1, 2, 3, 4, 5, 6]
    assert list(ys) == pytest.approx([e["loss"] for e in progress])
    vx, vy = view.val_curve.getData()
    assert list(vx) == [3, 6] and list(vy) == pytest.approx([e["val"] for e in measured])
    assert view.plot.toolTip() == per_class_text(6, measured[-1]["val_per_class"])
    # published as the first automatic version, active (none was), with its cv Dice
    assert result["version"] == "auto-001" and result["activated"] is True
    assert isinstance(result["candidate_dice"], float) and result["active_dice"] is None
    expected = (
        "Automatic training done: auto-001 is now the active automatic model "
        f"(cross-validated Dice {result['candidate_dice']:.3f})."
    )
    assert auto_result_text(result) == expected
    assert view.status.text() == expected
    assert pwin.statusBar().currentMessage() == expected
    project = Project.open(project_folder)
    assert auto_versions(project) == ["auto-001"]
    assert project.active_auto_model_dir() == project_folder / "auto_models" / "auto-001"
    assert panel.auto_models.text() == "Automatic model: auto-001 active (1 version)"
    assert panel.train_auto_button.isEnabled() and not view.cancel_button.isEnabled()
    events = [e["event"] for e in project.journal()]
    assert events.count("auto_train_start") == 1 and events.count("auto_train_done") == 1
    assert not (project_folder / "retrain.lock").exists()

    # Auto-segment (Ctrl+Shift+A) in a case now runs the new version
    auto = pwin.auto_segment_controller
    double_click_row(qtbot, panel.cases, panel.row_of_case("case0"))
    assert pwin.project.session.case_id == "case0"
    assert auto.action.isEnabled() and "auto-001" in auto.action.toolTip()
    with qtbot.waitSignal(auto.finished, timeout=RUN_TIMEOUT_MS):
        press(qtbot, pwin, QtCore.Qt.Key_A)
    assert pwin.statusBar().currentMessage().startswith("Auto-segmented with model auto-001")
    assert pwin.history.undo_names() == ["Auto-segment (auto-001)"]


def test_cancel_stops_the_process_and_a_second_start_resumes(
    pwin, qtbot, monkeypatch, project_folder
):
    pwin.project.auto_max_steps = 100_000  # the budget alone: it runs until cancelled
    open_project(pwin, monkeypatch, project_folder)
    view = pwin.project.panel.training
    monitor = start_with_dialog(qtbot, pwin, fold_all=True)
    run_id = monitor.job.run_id
    qtbot.waitUntil(lambda: len(progress_of(monitor)) >= 2, timeout=RUN_TIMEOUT_MS)
    assert view.status.text().startswith("Training fold_all/fullres: step ")
    assert view.cancel_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not monitor.running, timeout=RUN_TIMEOUT_MS)
    assert monitor.result["type"] == "cancelled", monitor.result
    assert view.status.text() == "Automatic training cancelled."
    assert monitor.job.wait(30)  # the worker process ended
    checkpointed = progress_of(monitor)[-1]["stage_step"]  # each step reports before the check
    assert monitor.result["steps"] == len(progress_of(monitor)) == checkpointed
    assert auto_versions(Project.open(project_folder)) == []
    assert pwin.project.panel.train_auto_button.isEnabled()

    # the second start offers the cancelled run, and continues from its checkpoint
    again = start_with_dialog(qtbot, pwin, fold_all=True, resume=run_id)
    assert again.job.run_id == run_id
    qtbot.waitUntil(lambda: len(progress_of(again)) >= 1, timeout=RUN_TIMEOUT_MS)
    assert progress_of(again)[0]["stage_step"] == checkpointed + 1
    qtbot.mouseClick(view.cancel_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: not again.running, timeout=RUN_TIMEOUT_MS)
    assert again.result["type"] == "cancelled", again.result


def test_one_training_at_a_time_and_quitting_asks(pwin, qtbot, monkeypatch, project_folder):
    pwin.project.auto_max_steps = 100_000
    open_project(pwin, monkeypatch, project_folder)
    # another program (another host) trains this project: the one error line, nothing starts
    lock = project_folder / "retrain.lock"
    lock.write_text('{"user": "bob", "host": "elsewhere", "pid": 1, "time": 0}')
    press(qtbot, pwin, QtCore.Qt.Key_T)
    dialog = pwin.project.train_dialog
    qtbot.mouseClick(dialog.buttons.button(QtWidgets.QDialogButtonBox.Ok), QtCore.Qt.LeftButton)
    assert pwin.errors == [
        f"{lock}: a training of this project is running (started by bob on elsewhere): one at "
        "a time, retrain or automatic model"
    ]
    assert pwin.project.monitor is None and lock.exists()
    lock.unlink()

    monitor = start_with_dialog(qtbot, pwin, fold_all=True)
    dialog = pwin.project.train_dialog
    # this window trains already: Retrain now and a second Train are refused with one line
    pwin.project.menu.retrain_action.trigger()
    assert pwin.statusBar().currentMessage() == busy_text("the automatic model's training")
    pwin.statusBar().clearMessage()
    press(qtbot, pwin, QtCore.Qt.Key_T)
    assert pwin.project.train_dialog is dialog  # no new dialog
    assert pwin.statusBar().currentMessage() == busy_text("the automatic model's training")
    assert pwin.project.monitor is monitor and len(pwin.errors) == 1  # no new error box
    assert len(list_runs(Project.open(project_folder).store)) == 1

    # quitting asks; Cancel keeps RadLabel open, No cancels the training
    qtbot.waitUntil(lambda: len(progress_of(monitor)) >= 1, timeout=RUN_TIMEOUT_MS)
    answers = [QtWidgets.QMessageBox.Cancel, QtWidgets.QMessageBox.No]
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(title)
        return answers.pop(0)

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    pwin.close()
    assert pwin.isVisible() and monitor.running
    pwin.close()
    assert not pwin.isVisible() and asked == ["An automatic training is running"] * 2
    job = RetrainJob.attach(project_folder, monitor.job.run_id)
    events: list[dict] = []

    def ended() -> bool:
        events.extend(job.poll())
        return any(e.get("type") in ("cancelled", "done", "error") for e in events)

    qtbot.waitUntil(ended, timeout=RUN_TIMEOUT_MS)
    assert events[-1]["type"] == "cancelled", events[-1]


def test_the_action_needs_two_finished_cases_and_its_shortcut_clashes_with_nothing(
    pwin, qtbot, monkeypatch, tmp_path
):
    folder = tmp_path / "one"
    project = Project.create(folder, "One", LABELS)
    image = make_cases(tmp_path / "images", 1)[0]
    project.add_case(image, make_label(tmp_path / "label.nii.gz"), final=True)
    open_project(pwin, monkeypatch, folder)
    action = pwin.project.menu.train_auto_action
    assert not action.isEnabled() and not pwin.project.panel.train_auto_button.isEnabled()
    assert action.toolTip().endswith(": needs 2 finished cases, the project has 1")
    assert action in pwin.project.menu.menu.actions()
    keys: dict[str, list[str]] = {}
    for a in pwin.findChildren(QtWidgets.QAction):
        for key in a.shortcuts():
            keys.setdefault(key.toString(), []).append(a.text())
    assert keys["Ctrl+Shift+T"] == ["Train &automatic model..."]
    assert {k: v for k, v in keys.items() if len(v) > 1} == {}
