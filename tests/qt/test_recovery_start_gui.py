"""The GUI starts over a damaged recovery folder: one status-bar line, the folder set aside, and
nothing reported at the next start (issue 20 item 4). Start-up is the path `run_gui` takes:
`create_main_window()` then `offer_recovery(window)`."""

from __future__ import annotations

import pytest
from PyQt5 import QtWidgets
from recovery_damage import KINDS, damage, write_session

from viewer.qt.app import create_main_window
from viewer.qt.panels import offer_recovery
from viewer.services.recovery_check import QUARANTINE
from viewer.services.recovery_store import recovery_root


def _start(qtbot, monkeypatch, answer=QtWidgets.QMessageBox.No):
    asked: list[str] = []

    def question(_parent, _title, text, *_a, **_k):
        asked.append(text)
        return answer

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    window = create_main_window()
    qtbot.addWidget(window)
    offer_recovery(window)
    return window, asked


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["meta_is_a_list", "pid_is_null", "zlib_bomb_4gb"])
def test_gui_starts_over_a_damaged_autosave_and_reports_it_once(qtbot, monkeypatch, kind):
    root = recovery_root()
    bad = write_session(root, value=2)
    damage(kind, bad)
    window, asked = _start(qtbot, monkeypatch, answer=QtWidgets.QMessageBox.Yes)
    assert window.isVisible()
    message = window.statusBar().currentMessage()
    (moved,) = (root / QUARANTINE).iterdir()
    assert message.startswith("Damaged autosave set aside (") and message.endswith(str(moved))
    assert asked == []  # nothing left to offer
    assert not bad.exists()
    window.close()
    # the next start: no note, no question
    window2, asked2 = _start(qtbot, monkeypatch)
    assert window2.isVisible() and window2.statusBar().currentMessage() == ""
    assert asked2 == [] and list((root / QUARANTINE).iterdir()) == [moved]


@pytest.mark.timeout(120)
def test_every_damaged_kind_at_once_leaves_the_good_autosave_offered(qtbot, monkeypatch):
    root = recovery_root()
    good = write_session(root, value=1)
    for i, kind in enumerate(KINDS):
        damage(kind, write_session(root, value=10 + i))
    window, asked = _start(qtbot, monkeypatch)  # answered "No": the good one stays
    assert window.isVisible()
    assert window.statusBar().currentMessage().endswith(f"(and {len(KINDS) - 1} more; see the log)")
    assert len(asked) == 1 and "/x.nii: labels autosaved" in asked[0]
    assert sorted(p.name for p in root.iterdir()) == [QUARANTINE, good.name]
    assert len(list((root / QUARANTINE).iterdir())) == len(KINDS)
