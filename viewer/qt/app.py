"""GUI start-up: the QApplication, pyqtgraph's global configuration, and the main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

_CONFIGURED = False
# set to the launcher's time.time(): the window prints when it painted and when the study is
# open, then quits (a start-up benchmark of the bundle, which cannot run a child script)
STARTUP_PROBE = "RADLABEL_STARTUP_PROBE"


def configure_pyqtgraph() -> None:
    """Set pyqtgraph's global options once (row-major images: arrays are (row, col))."""
    global _CONFIGURED
    if not _CONFIGURED:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
        _CONFIGURED = True


def ensure_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The running QApplication, created (with pyqtgraph configured) when there is none."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setAttribute(QtCore.Qt.AA_ShareOpenGLContexts)
        app = QtWidgets.QApplication(["radlabel", *(argv or [])])
        app.setApplicationName("RadLabel")
        app.setOrganizationName("RadLabel")
    configure_pyqtgraph()
    return app


def create_main_window(path: str | None = None, label: str | None = None):
    """The main window, shown; `path` (and `label`), when given, open once it has painted."""
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing

    window = MainWindow()
    install_editing(window)  # history, editing panels, autosave, close prompt
    from viewer.qt.ai_controller import install_ai

    install_ai(window)  # AI click-to-segment tool (A), its panel, preview and markers
    from viewer.qt.measure_controller import install_measurements

    install_measurements(window)  # ruler, angle and ROI tools, their panel and sidecar
    from viewer.qt.pacs_actions import install_pacs

    install_pacs(window)  # File > Open from PACS..., PACS..., Export DICOM SEG to PACS...
    from viewer.qt.project_controller import install_project

    install_project(window)  # File > New/Open project..., the Project menu and panel
    from viewer.qt.auto_segment import install_auto_segment

    install_auto_segment(window)  # Segment > Auto-segment (Ctrl+Shift+A) with the automatic model
    from viewer.qt.welcome import install_welcome

    install_welcome(window, show_now=not path)  # first start: what to open, the three gestures
    window.show()
    if path:  # after the first paint: the empty window shows at once, the study follows

        def open_study() -> None:
            if window.open_path(path) and label:
                window.open_label(label)

        window.after_first_paint(open_study)
    return window


class _PaintProbe(QtCore.QObject):
    def __init__(self, t0: float) -> None:
        super().__init__()
        self.t0 = t0

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QtCore.QEvent.Paint:
            obj.removeEventFilter(self)
            print(f"startup-probe shown {time.time() - self.t0:.3f}", flush=True)
        return False


def _probe_startup(window, t0: float) -> None:
    window._startup_probe = _PaintProbe(t0)  # the event loop has not run: no paint yet
    window.grid.installEventFilter(window._startup_probe)

    def ready() -> None:
        if window.document is None and window.isVisible():
            QtCore.QTimer.singleShot(10, ready)
            return
        print(f"startup-probe ready {time.time() - t0:.3f}", flush=True)
        window.close()
        QtWidgets.QApplication.instance().quit()

    window.after_first_paint(ready)


def run_gui(argv: list[str]) -> int:
    """Start the GUI; `argv` may hold an image path (and `--label FILE`)."""
    parser = argparse.ArgumentParser(prog="radlabel", description="RadLabel viewer")
    parser.add_argument("path", nargs="?", help="image file or DICOM folder to open")
    parser.add_argument("--label", help="label file to open on the image")
    parser.add_argument("--debug", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    from viewer.logsetup import setup_logging

    setup_logging(debug=args.debug)
    from viewer.qt.platform_check import check_before_qapplication

    problem = check_before_qapplication()  # Qt would only say "could not load ... xcb"
    if problem:
        print(problem, file=sys.stderr)
        return 1
    app = ensure_app()
    window = create_main_window(args.path, args.label)
    from viewer.qt.crash_guard import CrashGuard

    CrashGuard(window).install()  # an error in a slot: a message, not an abort
    window.restore_dock_state()
    stamp = os.environ.get(STARTUP_PROBE)
    if stamp:  # benchmarks/bench_bundle_startup.py: time to a shown window, then quit
        _probe_startup(window, float(stamp))
    from viewer.qt.panels import offer_recovery

    # after a crash: offer the autosaved labels (after the study given on the command line opened)
    window.after_first_paint(lambda: offer_recovery(window))
    code = int(app.exec_())
    from viewer.qt.background_job import BackgroundJob

    if not BackgroundJob.stop_all():
        # a thread destroyed while it runs aborts the process (and its exit code) at teardown
        logging.getLogger(__name__).warning("a background job did not stop; leaving at once")
        logging.shutdown()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv[1:]))
