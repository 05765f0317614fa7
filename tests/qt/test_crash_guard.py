"""An exception escaping a slot in the running GUI is logged and shown as one line; the window
and its labels stay (PyQt5 would otherwise abort the process)."""

from __future__ import annotations

import logging
import sys

import numpy as np
from PyQt5 import QtWidgets

from viewer.qt.crash_guard import CrashGuard


def _raise(error: BaseException):
    try:
        raise error
    except BaseException:
        return sys.exc_info()


def test_an_error_in_a_slot_is_one_line_and_keeps_the_labels(window, editing, caplog):
    ctl, doc = editing
    before = doc.labels.array.copy()
    guard = CrashGuard(window)
    with caplog.at_level(logging.ERROR, logger="viewer.qt.crash_guard"):
        guard(*_raise(TypeError("unsupported operand type(s)\nsecond line")))
    assert len(window.errors) == 1
    first = window.errors[0].splitlines()[0]
    assert first == "TypeError: unsupported operand type(s)"
    assert "radlabel.log" in window.errors[0]
    assert window.isVisible()
    np.testing.assert_array_equal(doc.labels.array, before)
    (record,) = [r for r in caplog.records if r.name == "viewer.qt.crash_guard"]
    assert record.exc_info[0] is TypeError  # the traceback goes to the log


def test_an_error_while_the_message_is_up_is_only_logged(window, monkeypatch):
    guard = CrashGuard(window)
    shown: list[str] = []

    def nested(*args, **kwargs):
        shown.append(args[2])
        guard(*_raise(ValueError("during the dialog")))
        return 0

    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", nested)
    guard(*_raise(RuntimeError("first")))
    assert [s.splitlines()[0] for s in shown] == ["RuntimeError: first"]
    assert guard.count == 2


def test_install_replaces_and_uninstall_restores_the_hook():
    previous = sys.excepthook
    guard = CrashGuard().install()
    try:
        assert sys.excepthook is guard
    finally:
        guard.uninstall()
    assert sys.excepthook is previous
