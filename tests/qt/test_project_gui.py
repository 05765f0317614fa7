"""Projects in the main window (offscreen), driven through its actions, panel and keys, against
the real `viewer.project.Project`: new and open project, a case's lock (another user's case
opens read-only, naming them), Ctrl+S saving a draft, the first accepted AI result kept as
`original` once, Submit writing `final`, and Activate switching the AI tool's model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from project_gui_helpers import (
    click_row,
    double_click_row,
    make_cases,
    show_voxel,
    viewport_pos,
)
from PyQt5 import QtCore, QtWidgets

from viewer.project import LabelDef, Project
from viewer.qt.ai_controller import install_ai
from viewer.qt.panels import install_editing
from viewer.qt.project_controller import install_project
from viewer.qt.settings import recent_projects

LABELS = [LabelDef(1, "Tumour", (255, 48, 48)), LabelDef(2, "Organ", (40, 200, 255))]


@pytest.fixture
def pwin(window):
    """The window with editing, the AI tool (classic engine: fast) and projects, user alice."""
    install_editing(window, autosave=False)
    install_ai(window, engine="classic")
    install_project(window, user="alice")
    yield window
    window.ai.service.shutdown()


@pytest.fixture
def project_dir(tmp_path):
    """A project with three cases (no labels yet), made through the Project API."""
    folder = tmp_path / "proj"
    project = Project.create(folder, "Study", LABELS)
    for image in make_cases(tmp_path / "images", 3):
        project.add_case(image)
    return folder


def open_through_menu(window, qtbot, monkeypatch, folder) -> None:
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window.project.menu.open_action.trigger()
    assert window.project.project is not None, window.errors


def open_case_by_row(window, qtbot, case_id: str) -> None:
    panel = window.project.panel
    row = panel.row_of_case(case_id)
    assert row >= 0
    double_click_row(qtbot, panel.cases, row)


def paint(window, qtbot, voxel) -> None:
    """One brush click on `voxel` in the axial view (the active segment)."""
    window.editing.select_tool("brush")
    show_voxel(window, voxel)
    ax = window.slice_views["axial"]
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, voxel, window.document)
    )


def test_new_project_from_the_documents_segments(pwin, qtbot, tmp_path, monkeypatch, phantom):
    pwin.set_document(phantom)  # segment 1 "Segment 1" in the first default colour
    seg = phantom.segments.get(1)
    folder = tmp_path / "new project"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    pwin.project.menu.new_action.trigger()
    dialog = pwin.project.menu.new_dialog
    assert dialog.isVisible() and not dialog.ok_button.isEnabled()
    qtbot.mouseClick(
        dialog.folder_edit.parentWidget().findChild(QtWidgets.QPushButton), QtCore.Qt.LeftButton
    )
    assert dialog.folder_edit.text() == str(folder)
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Livers 2026")
    assert dialog.ok_button.isEnabled(), dialog.preview.text()
    qtbot.mouseClick(dialog.ok_button, QtCore.Qt.LeftButton)
    project = pwin.project.project
    assert project is not None and project.name == "Livers 2026"
    reopened = Project.open(folder)
    assert reopened.labels == [LabelDef(1, seg.name, tuple(seg.colour))]
    assert "Livers 2026" in pwin.project.panel.header.text()
    assert recent_projects(pwin.settings)[0] == str(folder)
    assert pwin.project.model_label.text() == "Project Livers 2026: model base (shipped)"


def test_new_project_from_a_label_set_json(pwin, qtbot, tmp_path, monkeypatch):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps([d.to_dict() for d in LABELS]))
    folder = tmp_path / "p2"
    pwin.project.menu.new_action.trigger()
    dialog = pwin.project.menu.new_dialog
    assert dialog.source_box.currentText() == "A label-set JSON file"  # no image is open
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(labels), ""))
    qtbot.mouseClick(dialog.json_browse, QtCore.Qt.LeftButton)
    qtbot.keyClicks(dialog.folder_edit, str(folder))
    assert dialog.name() == "p2"  # named after the folder until typed
    assert dialog.preview.text() == "Labels: 1 Tumour, 2 Organ"
    qtbot.mouseClick(dialog.ok_button, QtCore.Qt.LeftButton)
    assert Project.open(folder).labels == LABELS


def test_new_project_dialog_refuses_a_bad_label_set(pwin, qtbot, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"value": 0, "name": "x", "color": [1, 2, 3]}]))
    pwin.project.menu.new_action.trigger()
    dialog = pwin.project.menu.new_dialog
    qtbot.keyClicks(dialog.folder_edit, str(tmp_path / "p3"))
    qtbot.keyClicks(dialog.json_edit, str(bad))
    assert not dialog.ok_button.isEnabled()
    assert dialog.preview.text() == f"{bad}: label value 0 outside 1..65535"


def test_open_project_lists_cases_and_recent_reopens(pwin, qtbot, monkeypatch, project_dir):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    panel = pwin.project.panel
    ids = [panel.cases.item(i, 0).text() for i in range(panel.cases.rowCount())]
    assert ids == ["case0", "case1", "case2"]
    assert [panel.cases.item(i, 1).text() for i in range(3)] == ["new"] * 3
    pwin.project.menu.close_action.trigger()
    assert pwin.project.project is None and panel.cases.rowCount() == 0
    recent = pwin.project.menu.recent_menu.actions()
    assert [a.text() for a in recent] == [str(project_dir)]
    recent[0].trigger()
    assert pwin.project.project is not None and panel.cases.rowCount() == 3


def test_a_damaged_case_is_left_out_and_named_while_the_others_open(
    pwin, qtbot, monkeypatch, project_dir
):
    (project_dir / "cases" / "case1" / "case.json").write_bytes(b"\xff not json")
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    panel = pwin.project.panel
    ids = [panel.cases.item(i, 0).text() for i in range(panel.cases.rowCount())]
    assert ids == ["case0", "case2"] and pwin.errors == []
    message = pwin.statusBar().currentMessage()
    assert message.startswith("A damaged case is left out: ")
    assert str(project_dir / "cases" / "case1" / "case.json") in message


def test_open_project_on_a_folder_without_one_says_so(pwin, qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(
        QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path)
    )
    pwin.project.menu.open_action.trigger()
    assert pwin.project.project is None
    assert pwin.errors == [f"{tmp_path / 'project.json'}: no project file here"]


def test_open_case_takes_its_lock_and_another_users_case_is_read_only(
    pwin, qtbot, monkeypatch, project_dir
):
    other = Project.open(project_dir)  # a second instance: bob edits case1
    assert other.acquire_lock("case1", "bob")
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    panel = pwin.project.panel
    assert panel.cases.item(panel.row_of_case("case1"), 2).text() == "bob (editing)"

    open_case_by_row(pwin, qtbot, "case0")
    project = pwin.project.project
    assert pwin.project.session.case_id == "case0" and not pwin.read_only
    assert project.lock_holder("case0") == "alice"
    assert pwin.document.volume.source_path.endswith("case0.nii.gz")
    assert [(s.id, s.name) for s in pwin.document.segments] == [(1, "Tumour"), (2, "Organ")]
    assert pwin.editing.registry.actions["brush"].isEnabled()

    open_case_by_row(pwin, qtbot, "case1")  # switching releases case0
    assert project.lock_holder("case0") is None
    assert pwin.project.session.case_id == "case1"
    assert pwin.read_only == "Case case1 is being edited by bob: it is open read-only."
    assert pwin.statusBar().currentMessage() == pwin.read_only
    assert not pwin.editing.registry.actions["brush"].isEnabled()
    assert not pwin.ai.panel.isEnabled() and not panel.submit_button.isEnabled()
    assert project.lock_holder("case1") == "bob"  # still bob's
    # B does not select the brush, and a command is refused: the labels stay empty
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_B)
    assert pwin.active_tool is None
    pwin.editing.segments_panel.add_segment("sneaky")
    assert len(pwin.document.segments) == 2 and not pwin.history.can_undo()
    # neither Ctrl+S nor Ctrl+Return writes into bob's case
    qtbot.keyClick(pwin, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    qtbot.keyClick(pwin, QtCore.Qt.Key_Return, QtCore.Qt.ControlModifier)
    record = project.case("case1")
    assert record.state == "new" and not record.has_draft and not record.has_final
    assert pwin.statusBar().currentMessage() == pwin.read_only

    other.release_lock("case1", "bob")
    open_case_by_row(pwin, qtbot, "case1")  # asked again: now it is free
    assert not pwin.read_only and project.lock_holder("case1") == "alice"
    assert pwin.editing.registry.actions["brush"].isEnabled() and pwin.ai.panel.isEnabled()
    pwin.project.menu.close_action.trigger()
    assert Project.open(project_dir).lock_holder("case1") is None
    assert pwin.document is None


def test_ctrl_s_saves_a_draft_into_the_project(pwin, qtbot, monkeypatch, project_dir):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case2")
    monkeypatch.setattr(
        QtWidgets.QFileDialog,
        "getSaveFileName",
        lambda *a, **k: pytest.fail("Ctrl+S in a project must not ask for a file"),
    )
    pwin.editing.tools_panel.options_for("brush").size.setValue(1.0)
    paint(pwin, qtbot, (6, 15, 15))
    labels = pwin.document.labels.array.copy()
    assert int((labels == 1).sum()) == 1  # one voxel, value 1 (Tumour, the active segment)
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    project = Project.open(project_dir)
    record = project.case("case2")
    assert record.state == "in_progress" and record.editor == "alice"
    from viewer.io.labels.load_save import load_labels

    draft = load_labels(project.label_path("case2", "draft")).labelmap.array
    np.testing.assert_array_equal(draft, labels)
    assert not pwin.editing.has_unsaved_changes()
    assert pwin.project.panel.cases.item(2, 1).text() == "in progress"
    # the draft is what the case opens with next time
    pwin.project.menu.close_action.trigger()
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case2")
    np.testing.assert_array_equal(pwin.document.labels.array, labels)


def test_first_accepted_ai_result_is_kept_as_original_once(pwin, qtbot, monkeypatch, project_dir):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case0")
    ai = pwin.ai
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_A)
    assert pwin.active_tool is ai.tool
    ax = pwin.slice_views["axial"]
    voxel = (6, 16, 16)  # the cube's centre
    show_voxel(pwin, voxel)
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, voxel, pwin.document)
    )
    qtbot.waitUntil(lambda: ai.tool.has_preview() and not ai.busy(), timeout=30000)
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Return)
    first = pwin.document.labels.array.copy()
    assert int((first == 1).sum()) > 0
    project = Project.open(project_dir)
    from viewer.io.labels.load_save import load_labels

    original = project.label_path("case0", "original")
    np.testing.assert_array_equal(load_labels(original).labelmap.array, first)
    assert project.case("case0").has_original
    # a second accepted result (after an edit) does not replace it
    pwin.editing.select_tool("eraser")
    pwin.editing.tools_panel.options_for("eraser").size.setValue(1.0)
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, voxel, pwin.document)
    )
    assert pwin.document.labels.array[voxel] == 0
    qtbot.keyClick(pwin, QtCore.Qt.Key_A)
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, voxel, pwin.document)
    )
    qtbot.waitUntil(lambda: ai.tool.has_preview() and not ai.busy(), timeout=30000)
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Return)
    np.testing.assert_array_equal(load_labels(original).labelmap.array, first)
    assert pwin.project.session.clicks == 3  # two AI clicks and one eraser click


def test_submit_writes_final_marks_finished_releases_and_moves_on(
    pwin, qtbot, monkeypatch, project_dir
):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case1")
    pwin.editing.tools_panel.options_for("brush").size.setValue(1.0)
    paint(pwin, qtbot, (6, 15, 15))
    pwin.editing.segments_panel.table.selectRow(1)  # Organ, value 2
    assert pwin.editing.state.active_segment_id == 2
    paint(pwin, qtbot, (6, 20, 20))
    expected = np.zeros_like(pwin.document.labels.array)
    expected[6, 15, 15], expected[6, 20, 20] = 1, 2
    np.testing.assert_array_equal(pwin.document.labels.array, expected)
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_Return, QtCore.Qt.ControlModifier)  # Submit
    project = Project.open(project_dir)
    record = project.case("case1")
    assert record.state == "finished" and record.has_final and record.clicks == 2
    assert pwin.project.monitor is None  # automatic retraining is off by default
    assert record.time_spent_s > 0
    from viewer.io.labels.load_save import load_labels

    final = load_labels(project.label_path("case1", "final")).labelmap.array
    np.testing.assert_array_equal(final, expected)
    assert project.lock_holder("case1") is None
    # "open the next case after Submit" is on: the next new case (case0) is open and locked
    assert pwin.project.session.case_id == "case0"
    assert project.lock_holder("case0") == "alice"
    panel = pwin.project.panel
    assert panel.cases.item(panel.row_of_case("case1"), 1).text() == "finished"


def test_submit_without_moving_on_leaves_the_case_read_only(pwin, qtbot, monkeypatch, project_dir):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    pwin.project.panel.next_after_submit.setChecked(False)
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_N, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    assert pwin.project.session.case_id == "case0"  # new cases first, oldest first
    qtbot.mouseClick(pwin.project.panel.next_button, QtCore.Qt.LeftButton)
    assert pwin.project.session.case_id == "case1"  # not the case open here
    assert Project.open(project_dir).lock_holder("case0") is None
    qtbot.mouseClick(pwin.project.panel.submit_button, QtCore.Qt.LeftButton)
    assert Project.open(project_dir).case("case1").state == "finished"
    assert pwin.read_only.startswith("Case case1 is submitted")
    assert not pwin.project.panel.submit_button.isEnabled()


def test_activate_switches_the_active_model_and_the_ai_models_folder(
    pwin, qtbot, monkeypatch, project_dir, tmp_path
):
    import shutil

    from segmentation_core.model_store import default_model_dir
    from viewer.services import ai_service

    project = Project.open(project_dir)
    # two versions published the way a retrain does (copies of the shipped model)
    for activate in (True, False):
        src = tmp_path / f"m{activate}"
        shutil.copytree(default_model_dir(), src)
        project.publish_version(
            src,
            {
                "parent": None,
                "cases": [],
                "metrics": {"candidate": {"dice@1": 0.5, "dice@3": 0.6, "dice@5": 0.7}},
            },
            activate=activate,
        )
    v1, v2 = [v.version_id for v in project.versions()]
    opened_with = []
    real = ai_service.default_session_factory

    def recording(engine, model_dir=None):
        opened_with.append(model_dir)
        return real(engine, model_dir)

    monkeypatch.setattr(ai_service, "default_session_factory", recording)
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    assert pwin.ai.service.model_dir == project.store.models_dir / v1 / "model"
    assert pwin.project.model_label.text() == f"Project Study: model {v1}"
    panel = pwin.project.panel
    assert [panel.versions.item(i, 4).text() for i in range(2)] == ["active", ""]
    assert panel.versions.item(0, 2).text() == "0.600"
    open_case_by_row(pwin, qtbot, "case0")
    click_row(qtbot, panel.versions, panel.row_of_version(v2))
    qtbot.mouseClick(panel.activate_button, QtCore.Qt.LeftButton)
    assert Project.open(project_dir).active_version() == v2
    assert [panel.versions.item(i, 4).text() for i in range(2)] == ["", "active"]
    assert pwin.project.model_label.text() == f"Project Study: model {v2}"
    # the next AI click opens a session on v2's model
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_A)
    ax = pwin.slice_views["axial"]
    voxel = (6, 16, 16)
    show_voxel(pwin, voxel)
    qtbot.mouseClick(
        ax.canvas.viewport(), QtCore.Qt.LeftButton, pos=viewport_pos(ax, voxel, pwin.document)
    )
    assert len(pwin.ai.tool.clicks) == 1  # taken, not refused behind queued work
    qtbot.waitUntil(lambda: pwin.ai.tool.has_preview() and not pwin.ai.busy(), timeout=30000)
    assert opened_with[-1] == project.store.models_dir / v2 / "model"
    # back to the shipped model while a preview is on screen: that segmentation keeps v2 ...
    qtbot.mouseClick(panel.base_button, QtCore.Qt.LeftButton)
    assert Project.open(project_dir).active_version() is None
    assert pwin.project.model_label.text() == "Project Study: model base (shipped)"
    assert pwin.ai.tool.has_preview()
    assert pwin.ai.service.model_dir == project.store.models_dir / v2 / "model"
    qtbot.keyClick(ax.canvas, QtCore.Qt.Key_Escape)  # ... until it is rejected
    assert pwin.ai.service.model_dir == default_model_dir()
    # another instance activates v1: the panel (re-read while shown) and the AI tool follow
    Project.open(project_dir).activate(v1, user="bob")
    panel.timer.setInterval(50)
    qtbot.waitUntil(lambda: panel.versions.item(0, 4).text() == "active", timeout=5000)
    assert pwin.ai.service.model_dir == project.store.models_dir / v1 / "model"


def test_project_keys_clash_with_no_other_action(qtbot, qapp_configured, monkeypatch):
    """Every key of the fully built window triggers one action only."""
    from viewer.qt.app import create_main_window
    from viewer.qt.project_menu import NEXT_CASE_KEYS, SUBMIT_KEYS

    window = create_main_window()
    qtbot.addWidget(window)
    try:
        seen: dict[str, str] = {}
        for action in window.findChildren(QtWidgets.QAction):
            for key in action.shortcuts():
                text = key.toString()
                assert text not in seen, f"{text}: {seen[text]} and {action.text()}"
                seen[text] = action.text()
        assert seen["Ctrl+Shift+N"] == "&Next case"
        assert {seen[k] for k in SUBMIT_KEYS} == {"&Submit case"}
        assert NEXT_CASE_KEYS == ["Ctrl+Shift+N"]
    finally:
        window.ai.service.shutdown()
        window.close()


def test_opening_another_image_ends_the_case_and_gives_its_lock_back(
    pwin, qtbot, monkeypatch, project_dir, tmp_path
):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case0")
    assert pwin.editing.save_handler is not None
    other = make_cases(tmp_path / "elsewhere", 1)[0]
    assert pwin.open_path(str(other))
    assert Project.open(project_dir).lock_holder("case0") is None
    assert pwin.project.session is None and pwin.editing.save_handler is None


def test_a_case_whose_image_is_gone_is_refused_in_one_line_and_not_locked(
    pwin, qtbot, monkeypatch, project_dir, tmp_path
):
    image = tmp_path / "images" / "case1.nii.gz"
    image.unlink()
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case1")
    assert pwin.project.session is None and pwin.document is None
    assert len(pwin.errors) == 1 and pwin.errors[0].startswith(str(image))
    assert "\n" not in pwin.errors[0]
    assert Project.open(project_dir).lock_holder("case1") is None


def test_switching_cases_asks_about_unsaved_labels_and_save_keeps_a_draft(
    pwin, qtbot, monkeypatch, project_dir
):
    from viewer.io.labels.load_save import load_labels

    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case0")
    pwin.editing.tools_panel.options_for("brush").size.setValue(1.0)
    paint(pwin, qtbot, (6, 15, 15))
    painted = pwin.document.labels.array.copy()
    answers = [QtWidgets.QMessageBox.Cancel, QtWidgets.QMessageBox.Save]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: answers.pop(0))
    open_case_by_row(pwin, qtbot, "case1")  # Cancel: case0 stays open, and locked
    project = Project.open(project_dir)
    assert pwin.project.session.case_id == "case0" and project.lock_holder("case0") == "alice"
    assert project.lock_holder("case1") is None
    open_case_by_row(pwin, qtbot, "case1")  # Save: into the project as case0's draft
    assert pwin.project.session.case_id == "case1" and answers == []
    assert project.case("case0").state == "in_progress"
    np.testing.assert_array_equal(
        load_labels(project.label_path("case0", "draft")).labelmap.array, painted
    )
    assert project.lock_holder("case0") is None and project.lock_holder("case1") == "alice"


def test_next_case_opens_the_open_case_the_model_is_least_sure_about(
    pwin, qtbot, monkeypatch, tmp_path
):
    """No new case left: Next case goes to the case in progress whose draft the active model
    finds worst from one click (measured off the UI by viewer.project.uncertainty)."""
    pytest.importorskip("paddle")
    from project_gui_helpers import CUBE, GRID, SHAPE

    from viewer.model.labelmap import LabelMap
    from viewer.project.uncertainty import cached, refresh

    folder = tmp_path / "proj"
    project = Project.create(folder, "Study", LABELS)
    seen, hidden = np.zeros(SHAPE, np.uint16), np.zeros(SHAPE, np.uint16)
    seen[CUBE] = 1  # the bright cube of the image: the model finds it
    hidden[3:9, 0:9, 22:32] = 1  # plain background in the image: nothing to find
    for image, draft in zip(make_cases(tmp_path / "images", 2), (seen, hidden)):
        record = project.add_case(image)
        project.save_label(record.case_id, "draft", LabelMap(GRID, draft), user="bob")
    refresh(project, threads=1)
    model_dir = project.active_model_dir()
    assert cached(project, "case1", model_dir) > cached(project, "case0", model_dir)
    assert project.next_case().case_id == "case0"  # least recently touched, without the model
    open_through_menu(pwin, qtbot, monkeypatch, folder)
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_N, QtCore.Qt.ControlModifier | QtCore.Qt.ShiftModifier)
    assert pwin.project.session.case_id == "case1"


def test_a_save_after_someone_else_saved_the_case_is_refused_and_keeps_both(
    pwin, qtbot, monkeypatch, project_dir
):
    """Alice's lock went stale (her laptop slept); Bob took the case, submitted it and gave
    it back. Alice's next Ctrl+S must not overwrite Bob's final, nor lose her labels."""
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    open_case_by_row(pwin, qtbot, "case1")
    pwin.editing.tools_panel.options_for("brush").size.setValue(1.0)
    paint(pwin, qtbot, (6, 15, 15))
    alice = pwin.document.labels.array.copy()

    other = Project.open(project_dir)
    other.release_lock("case1", "alice")  # as if broken as stale by Bob's window
    assert other.acquire_lock("case1", "bob")
    pwin.project._touch_lock()  # the heartbeat notices and says so
    assert pwin.statusBar().currentMessage() == (
        "Case case1 is now being edited by bob: saving here will be refused if they save it; "
        "keep your labels with Save labels as..."
    )
    bob = np.zeros_like(alice)
    bob[6, 20:24, 20:24] = 2
    import time

    time.sleep(0.01)  # a later stamp than Alice's open
    other.submit("case1", bob, user="bob", time_spent_s=5, clicks=3)
    other.release_lock("case1", "bob")
    pwin.project._touch_lock()  # free again: this window takes it back
    assert other.lock_holder("case1") == "alice"

    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    (error,) = pwin.errors
    prefix = f"{project_dir / 'cases' / 'case1'}: case case1 was saved by bob at "
    assert error.startswith(prefix) and error.endswith(
        "after you opened it; nothing was written: keep your labels with Save labels as..., "
        "then reopen the case"
    )
    project = Project.open(project_dir)
    from viewer.io.labels.load_save import load_labels

    np.testing.assert_array_equal(
        load_labels(project.label_path("case1", "final")).labelmap.array, bob
    )
    assert project.label_path("case1", "draft") is None
    np.testing.assert_array_equal(pwin.document.labels.array, alice)  # still open, unsaved
    assert pwin.editing.has_unsaved_changes()


def test_a_draft_saved_on_a_finished_case_is_what_it_reopens_with(
    pwin, qtbot, monkeypatch, project_dir
):
    open_through_menu(pwin, qtbot, monkeypatch, project_dir)
    pwin.project.panel.next_after_submit.setChecked(False)
    open_case_by_row(pwin, qtbot, "case2")
    pwin.editing.tools_panel.options_for("brush").size.setValue(1.0)
    paint(pwin, qtbot, (6, 15, 15))
    submitted = pwin.document.labels.array.copy()
    qtbot.mouseClick(pwin.project.panel.submit_button, QtCore.Qt.LeftButton)
    project = Project.open(project_dir)
    assert (
        project.case("case2").state == "finished" and project.label_path("case2", "draft") is None
    )

    pwin.set_document(None)  # leave the submitted case, then open it again to correct it
    open_case_by_row(pwin, qtbot, "case2")
    np.testing.assert_array_equal(pwin.document.labels.array, submitted)
    paint(pwin, qtbot, (6, 20, 20))
    corrected = pwin.document.labels.array.copy()
    pwin.activateWindow()
    qtbot.keyClick(pwin, QtCore.Qt.Key_S, QtCore.Qt.ControlModifier)
    assert pwin.errors == []

    pwin.set_document(None)
    open_case_by_row(pwin, qtbot, "case2")
    np.testing.assert_array_equal(pwin.document.labels.array, corrected)
    # submitting again makes the correction the final and removes the draft
    qtbot.mouseClick(pwin.project.panel.submit_button, QtCore.Qt.LeftButton)
    project = Project.open(project_dir)
    assert project.label_path("case2", "draft") is None
    assert not (project_dir / "cases" / "case2" / "draft.nii.gz").exists()
    from viewer.io.labels.load_save import load_labels

    np.testing.assert_array_equal(
        load_labels(project.label_path("case2", "final")).labelmap.array, corrected
    )
