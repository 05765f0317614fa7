"""Segment > Auto-segment through the main window, with the real tiny automatic model
(`auto_model_factory`) run by the real `predict_volume` in its worker process: the result is
one undo step (Ctrl+Z restores the exact labels and segments), locked segments keep every voxel
and their value, Cancel leaves the document as it was, the geometry is kept, the status bar
names the model version, and without a model the action is disabled and says why."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from auto_model_factory import LABELS, SPACING_ZYX, VERSION, tiny_image, train_tiny_auto_model
from PyQt5 import QtCore, QtWidgets

from viewer.model import Geometry, Volume
from viewer.model.document import Document

TIMEOUT_MS = 120_000
DIRECTION = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return train_tiny_auto_model(tmp_path_factory.mktemp("auto") / "model")


@pytest.fixture(scope="module")
def study(model_dir):
    """The image the tests segment and the model's answer, from predict_volume in this process."""
    from segmentation_core.auto import predict_volume
    from viewer.services.auto_segment import default_threads

    image, _ = tiny_image(11)
    # the document's direction goes with the image: the model sees it turned to its orientation
    answer = predict_volume(
        model_dir, image, SPACING_ZYX, direction=DIRECTION, threads=default_threads()
    )
    assert sorted(np.unique(answer).tolist()) == [0, 1, 2]
    return image, answer


def _document(image: np.ndarray, labels: np.ndarray, names: dict, locked=()) -> Document:
    spacing_xyz = tuple(reversed(SPACING_ZYX))
    geo = Geometry(image.shape, spacing_xyz, (12.5, -40.0, 7.25), DIRECTION)
    doc = Document(Volume(image.copy(), geo, "MR", name="tiny"))
    doc.replace_labels(labels.copy())
    for sid, name in names.items():
        doc.segments.get(sid).name = name
        doc.segments.get(sid).locked = sid in locked
    doc.dirty = False
    return doc


def _table(doc) -> list:
    return [(s.id, s.name, s.colour, s.visible, s.locked) for s in doc.segments]


@pytest.fixture
def auto(window):
    from viewer.qt.auto_segment import install_auto_segment
    from viewer.qt.panels import install_editing

    install_editing(window, autosave=False)
    return install_auto_segment(window)


def _press_auto_segment(qtbot, window) -> None:
    qtbot.keyClick(window, QtCore.Qt.Key_A, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)


def test_auto_segment_is_one_undo_step_and_keeps_the_geometry(
    qtbot, window, auto, model_dir, study
):
    image, answer = study
    old = np.zeros(image.shape, np.uint16)
    old[:, :3, :3] = 5  # a segment the model does not know
    doc = _document(image, old, {5: "Lesion"})
    window.set_document(doc)
    geometry = doc.volume.geometry
    table_before = _table(doc)
    assert auto.set_model_dir(model_dir)
    assert auto.action.isEnabled()
    assert VERSION in auto.action.toolTip()

    with qtbot.waitSignal(auto.finished, timeout=TIMEOUT_MS) as done:
        _press_auto_segment(qtbot, window)
        # the key returned at once: the model works in the background, the labels wait
        assert auto.running() and not auto.action.isEnabled()
        assert np.array_equal(doc.labels.array, old)
    report = done.args[0]
    expected = np.where(answer > 0, answer, old).astype(np.uint16)
    assert np.array_equal(doc.labels.array, expected)
    assert [(s.id, s.name) for s in doc.segments] == [(5, "Lesion"), (1, "Liver"), (2, "Spleen")]
    assert report.voxels == {n: int(np.count_nonzero(answer == v)) for v, n in LABELS.items()}
    assert window.history.undo_names() == [f"Auto-segment ({VERSION})"]
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(f"Auto-segmented with model {VERSION}: Liver ")
    )
    assert doc.volume.geometry is geometry and doc.labels.geometry == geometry
    assert mp.active_children() == []

    window.activateWindow()  # the progress dialog had the focus
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, QtCore.Qt.Key_Z, QtCore.Qt.ControlModifier)  # one undo: all of it
    assert np.array_equal(doc.labels.array, old)
    assert _table(doc) == table_before
    assert not window.history.can_undo()
    assert doc.labels.geometry == geometry


def test_locked_segments_keep_their_voxels_and_values(qtbot, window, auto, model_dir, study):
    image, answer = study
    old = np.zeros(image.shape, np.uint16)
    old[2:14, 2:10, 2:10] = 3  # "Liver", locked: the model's Liver is left out
    old[2:14, 12:22, 12:22] = 1  # "Bone", locked, on value 1 (the model's Liver value)
    old[0:2, :, :] = 2  # "Spleen", unlocked: the model's answer replaces it
    doc = _document(image, old, {1: "Bone", 2: "Spleen", 3: "Liver"}, locked=(1, 3))
    window.set_document(doc)
    locked = np.isin(old, [1, 3])
    # the test can fail: the model claims locked voxels for both of its structures
    assert np.count_nonzero(locked & (answer == 1)) and np.count_nonzero(locked & (answer == 2))
    assert auto.set_model_dir(model_dir)

    button = window.toolbar.widgetForAction(auto.action)
    with qtbot.waitSignal(auto.finished, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(button, QtCore.Qt.LeftButton)
    expected = old.copy()
    expected[(old == 2) & (answer != 2)] = 0
    expected[(answer == 2) & ~locked] = 2
    assert np.array_equal(doc.labels.array, expected)
    assert np.array_equal(doc.labels.array[locked], old[locked])
    assert [(s.id, s.name, s.locked) for s in doc.segments] == [
        (1, "Bone", True), (2, "Spleen", False), (3, "Liver", True),
    ]  # fmt: skip
    assert done.args[0].locked == ["Liver"]
    assert "locked, left as they were: 'Liver'" in window.statusBar().currentMessage()


def _lock_in_panel(qtbot, window, segment_id: int) -> None:
    """Tick the segment's Lock box in the Segments panel, as a user does."""
    panel = window.editing.segments_panel
    row = [s.id for s in window.document.segments].index(segment_id)
    panel.table.item(row, 3).setCheckState(QtCore.Qt.Checked)
    assert window.document.segments.get(segment_id).locked


@pytest.mark.parametrize("when", ["while the model runs", "after the merge was computed"])
def test_a_lock_set_during_the_run_is_honoured(
    qtbot, window, auto, model_dir, study, monkeypatch, when
):
    """The merge is computed off the UI thread; a lock ticked before it lands is honoured,
    also when it comes after the merge was computed (the merge is then redone at landing)."""
    import threading

    import viewer.qt.auto_segment as module

    image, answer = study
    old = np.zeros(image.shape, np.uint16)
    old[2:14, 2:22, 2:22] = 2  # "Spleen", unlocked when the run starts
    doc = _document(image, old, {2: "Spleen"})
    window.set_document(doc)
    assert np.count_nonzero((old == 2) & (answer != 2))  # the model would change it
    assert auto.set_model_dir(model_dir)
    computed, release = threading.Event(), threading.Event()
    real = module.auto_result_command

    def merge_then_wait(*args, **kwargs):
        out = real(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            computed.set()
            assert release.wait(60)
        return out

    monkeypatch.setattr(module, "auto_result_command", merge_then_wait)
    with qtbot.waitSignal(auto.finished, timeout=TIMEOUT_MS) as done:
        _press_auto_segment(qtbot, window)
        if when == "after the merge was computed":
            qtbot.waitUntil(computed.is_set, timeout=TIMEOUT_MS)
        _lock_in_panel(qtbot, window, 2)
        release.set()
    expected = old.copy()
    expected[(answer == 1) & (old != 2)] = 1
    assert np.array_equal(doc.labels.array, expected)
    assert done.args[0].locked == ["Spleen"]
    assert window.history.undo_names() == ["Lock Spleen", f"Auto-segment ({VERSION})"]


def test_cancel_leaves_the_document_unchanged(qtbot, window, auto, model_dir, study):
    image, _ = study
    old = np.zeros(image.shape, np.uint16)
    old[4:8, 4:8, 4:8] = 1
    doc = _document(image, old, {1: "Liver"})
    window.set_document(doc)
    table_before = _table(doc)
    assert auto.set_model_dir(model_dir)
    with qtbot.waitSignal(auto.finished, timeout=TIMEOUT_MS) as done:
        auto.action.trigger()  # Segment > Auto-segment
        dialog = auto.progress
        qtbot.waitExposed(dialog)
        cancel = next(b for b in dialog.findChildren(QtWidgets.QPushButton) if b.text() == "Cancel")
        qtbot.mouseClick(cancel, QtCore.Qt.LeftButton)
        # Qt hides a progress dialog on Cancel; it stays shown until the job has stopped
        assert (dialog.isVisible(), dialog.labelText()) == (True, "Cancelling...")
    assert done.args[0] is None
    assert np.array_equal(doc.labels.array, old)
    assert _table(doc) == table_before
    assert not window.history.can_undo() and not doc.dirty
    assert window.statusBar().currentMessage().startswith("Auto-segment cancelled")
    assert auto.action.isEnabled() and auto.progress is None
    assert mp.active_children() == []


def test_without_a_model_the_action_is_disabled_and_says_why(qtbot, window, auto, tmp_path):
    assert not auto.action.isEnabled()
    assert auto.action.toolTip() == "Auto-segment (Ctrl+Shift+A): Open an image first."
    image, label = tiny_image(3)
    window.set_document(_document(image, label, {}))
    assert not auto.action.isEnabled()
    assert "No automatic model: choose one with Segment > Choose automatic model..." in (
        auto.action.toolTip()
    )
    assert not auto.set_model_dir(tmp_path)  # not a model folder: one line, nothing kept
    assert window.errors == [
        f"{tmp_path}: not an automatic segmentation model (no auto_model.json)"
    ]
    assert not auto.action.isEnabled()
    before = window.document.labels.array.copy()
    _press_auto_segment(qtbot, window)  # the disabled shortcut does nothing
    assert not auto.running() and np.array_equal(window.document.labels.array, before)
    menu_titles = [a.text() for a in window.menuBar().actions()]
    assert "&Segment" in menu_titles
    assert [a.text() for a in auto.menu.actions()][:2] == [
        "Auto-segment", "Choose automatic model...",
    ]  # fmt: skip


def test_the_shortcut_is_listed_and_clashes_with_no_other_key(qtbot, window):
    from viewer.qt.ai_controller import install_ai
    from viewer.qt.auto_segment import install_auto_segment
    from viewer.qt.measure_controller import install_measurements
    from viewer.qt.pacs_actions import install_pacs
    from viewer.qt.panels import install_editing

    install_editing(window, autosave=False)
    install_ai(window, engine="classic")
    install_measurements(window)
    install_pacs(window)
    install_auto_segment(window)
    keys: dict[str, list[str]] = {}
    for action in window.findChildren(QtWidgets.QAction):
        for key in action.shortcuts():
            keys.setdefault(key.toString(), []).append(action.text())
    assert keys["Ctrl+Shift+A"] == ["Auto-segment"]
    assert {k: v for k, v in keys.items() if len(v) > 1} == {}
    qtbot.keyClick(window, QtCore.Qt.Key_F1)
    dialog = window.help_menu.dialogs["shortcuts"]
    qtbot.keyClicks(dialog.filter_box, "auto")
    assert dialog.visible_rows() == [("Auto-segment", "Ctrl+Shift+A")]


def test_in_a_project_case_the_active_auto_model_runs_and_its_result_is_the_original(
    qtbot, window, model_dir, study, tmp_path, monkeypatch
):
    """With a project open: the project's active automatic model (published by the project's
    own code) is the one that runs, and in a case without an original label the automatic
    result is saved as the case's `original`."""
    import shutil

    from project_gui_helpers import double_click_row

    from viewer.io import save_volume
    from viewer.project import LabelDef, Project
    from viewer.project.auto_versions import publish_auto_model, work_dir
    from viewer.project.labels_io import read_label_file
    from viewer.qt.ai_controller import install_ai
    from viewer.qt.auto_segment import install_auto_segment
    from viewer.qt.panels import install_editing
    from viewer.qt.project_controller import install_project

    image, answer = study
    grid = Geometry(image.shape, tuple(reversed(SPACING_ZYX)), (12.5, -40.0, 7.25), DIRECTION)
    save_volume(image, grid, tmp_path / "case.nii.gz")
    labels = [LabelDef(1, "Liver", (255, 48, 48)), LabelDef(2, "Spleen", (40, 200, 255))]
    project = Project.create(tmp_path / "proj", "Abdomen", labels)
    case_id = project.add_case(tmp_path / "case.nii.gz").case_id
    shutil.copytree(model_dir, work_dir(project))  # where train-auto --project trains
    record = publish_auto_model(project, work_dir(project))
    assert record["activated"] and project.active_auto_model_dir().name == record["version"]

    install_editing(window, autosave=False)
    install_ai(window, engine="classic")
    install_project(window, user="alice")
    auto = install_auto_segment(window)
    try:
        monkeypatch.setattr(
            QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(project.folder)
        )
        window.project.menu.open_action.trigger()
        panel = window.project.panel
        double_click_row(qtbot, panel.cases, panel.row_of_case(case_id))
        assert window.project.session.case_id == case_id
        assert auto.action.isEnabled() and not auto.choose_action.isEnabled()
        assert record["version"] in auto.action.toolTip()
        with qtbot.waitSignal(auto.finished, timeout=TIMEOUT_MS):
            _press_auto_segment(qtbot, window)
        doc = window.document
        assert np.array_equal(doc.labels.array, answer)  # Liver and Spleen kept their values
        assert [(s.id, s.name) for s in doc.segments] == [(1, "Liver"), (2, "Spleen")]
        assert (
            window.statusBar()
            .currentMessage()
            .startswith(f"Auto-segmented with model {record['version']}: ")
        )
        original = Project.open(project.folder).label_path(case_id, "original")
        assert original is not None
        assert np.array_equal(read_label_file(original, grid, {0, 1, 2}), answer)
    finally:
        window.ai.service.shutdown()


def test_an_unreadable_project_file_gives_a_reason_not_an_error(qtbot, window, auto, monkeypatch):
    """project.json unreadable for a moment (a network share): Auto-segment says why it cannot
    run instead of raising out of a slot (which would drop a finished result)."""
    from viewer.errors import LoadError

    class Unreadable:
        def active_auto_model_dir(self):
            raise LoadError("cannot read the project file (Input/output error)", "/p/project.json")

    monkeypatch.setattr(auto, "_project", lambda: Unreadable())
    choice = auto.model()
    assert choice.folder is None
    assert choice.reason == (
        "The project cannot be read: /p/project.json: cannot read the project file "
        "(Input/output error)"
    )


def test_closing_the_window_during_a_run_cancels_without_waiting_for_it(
    qtbot, window, auto, model_dir, study, monkeypatch
):
    """The model takes a while to stop (a worker process winding down): the window closes at
    once, the job stops on its own afterwards, and its result lands nowhere."""
    import threading

    import viewer.qt.auto_segment as auto_segment
    from viewer.qt.background_job import BackgroundJob

    started, released = threading.Event(), threading.Event()

    def slow_to_stop(*_args, should_stop, **_kwargs):
        started.set()
        while not should_stop():
            released.wait(0.01)
        released.wait(30)  # stops only when the test lets it
        return None

    monkeypatch.setattr(auto_segment, "run_auto_segment", slow_to_stop)
    image, _ = study
    doc = _document(image, np.zeros(image.shape, np.uint16), {})
    window.set_document(doc)
    assert auto.set_model_dir(model_dir)
    landed = []
    auto.finished.connect(landed.append)
    auto.action.trigger()
    job = auto.job
    assert started.wait(30)
    window.close()
    assert job.isRunning()  # before: close() waited here until the model had stopped
    assert job.cancel_event.is_set() and auto.job is None and auto.progress is None
    assert job in BackgroundJob.running  # kept alive until it ends
    released.set()
    qtbot.waitUntil(lambda: not job.isRunning(), timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert landed == [] and not window.history.can_undo()
    assert np.count_nonzero(doc.labels.array) == 0
