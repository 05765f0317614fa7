"""Fixtures for the viewer's Qt tests: pyqtgraph configured, synthetic documents, the window."""

from __future__ import annotations

import pytest
from qt_helpers import grab_rgb, phantom_document  # noqa: F401  (re-exported for fixtures)


@pytest.fixture
def qapp_configured(qapp):
    from viewer.qt.app import configure_pyqtgraph

    configure_pyqtgraph()
    return qapp


@pytest.fixture
def phantom():
    return phantom_document()


@pytest.fixture
def window(qapp_configured, qtbot, monkeypatch):
    from viewer.qt.main_window import MainWindow

    errors: list[str] = []
    monkeypatch.setattr(
        "PyQt5.QtWidgets.QMessageBox.critical", lambda *a, **k: errors.append(a[2]) or 0
    )
    w = MainWindow()
    w.errors = errors
    qtbot.addWidget(w)
    w.resize(900, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def editing(window):
    """The window with the editing panels installed (no autosave) and a phantom document."""
    from viewer.qt.panels import install_editing

    ctl = install_editing(window, autosave=False)
    doc = phantom_document()
    window.set_document(doc)
    return ctl, doc
