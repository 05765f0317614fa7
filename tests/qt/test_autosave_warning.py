"""An autosave that starts failing (full disk, read-only home) tells the user in the window, from
the autosave thread, once: the labels are no longer protected against a crash."""

from __future__ import annotations

import threading

from PyQt5 import QtWidgets

from viewer.qt.panels import install_editing


def test_an_autosave_failure_on_its_thread_reaches_the_window(window, qtbot, monkeypatch):
    warned: list[str] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a, **k: warned.append(a[2]) or 0)
    ctl = install_editing(window, autosave=True)
    try:
        message = "Autosave failed: [Errno 28] No space left on device"
        worker = threading.Thread(target=ctl.autosave.on_failure, args=(message,))
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: len(warned) == 1, timeout=5000)
        assert warned[0].splitlines()[0] == message
        assert "save them (Ctrl+S)" in warned[0]
        assert window.statusBar().currentMessage() == message
    finally:
        ctl.autosave.stop(clean=True)
