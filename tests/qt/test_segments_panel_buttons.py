"""The segments panel's tool buttons, clicked with the mouse: each calls its action once and
without Qt's `checked` argument (Export CSV... must ask for a path, not write to 'False')."""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from viewer.model.statistics import segment_statistics, statistics_csv


def _click(qtbot, panel, key: str) -> None:
    qtbot.mouseClick(panel.buttons[key], QtCore.Qt.LeftButton)


def _names(doc) -> list[str]:
    return [doc.segments.get(i).name for i in doc.segments.ids()]


def test_add_up_down_remove_buttons_edit_the_segment_table(window, editing, qtbot):
    ctl, doc = editing
    panel = ctl.segments_panel
    first = _names(doc)
    assert len(first) == 1 and panel.table.rowCount() == 1  # the phantom's segment
    _click(qtbot, panel, "add")
    added = ctl.state.active_segment_id
    name = doc.segments.get(added).name
    assert name != "False" and _names(doc) == [*first, name]
    assert panel.table.rowCount() == 2
    assert ctl.history.undo_names() == [f"Add segment {name}"]
    _click(qtbot, panel, "up")
    assert _names(doc) == [name, *first]
    _click(qtbot, panel, "down")
    assert _names(doc) == [*first, name]
    _click(qtbot, panel, "remove")
    assert _names(doc) == first and panel.table.rowCount() == 1
    assert len(ctl.history.undo_names()) == 4


def test_export_csv_button_asks_for_a_path_and_writes_the_statistics(
    window, editing, qtbot, tmp_path, monkeypatch
):
    ctl, doc = editing
    panel = ctl.segments_panel
    target = tmp_path / "stats.csv"
    asked = []
    monkeypatch.setattr(
        QtWidgets.QFileDialog,
        "getSaveFileName",
        lambda *a, **k: asked.append(a[1:]) or (str(target), "CSV (*.csv)"),
    )
    _click(qtbot, panel, "csv")
    assert asked == [("Export statistics", "segment_statistics.csv", "CSV (*.csv)")]
    assert target.read_text(encoding="utf-8") == statistics_csv(segment_statistics(doc))
    assert window.errors == []


def test_remove_leaves_a_locked_segment_and_says_why(window, editing, qtbot):
    ctl, doc = editing
    panel = ctl.segments_panel
    before = doc.labels.array.copy()
    lock_item = panel.table.item(0, 3)
    lock_item.setCheckState(QtCore.Qt.Checked)
    ctl.set_active_segment(doc.segments.ids()[0])
    _click(qtbot, panel, "remove")
    name = doc.segments.get(doc.segments.ids()[0]).name
    assert len(doc.segments) == 1 and (doc.labels.array == before).all()
    assert window.statusBar().currentMessage() == f"{name} is locked: unlock it to remove it"
