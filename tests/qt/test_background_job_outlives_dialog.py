"""A background job outlives the dialog that started it: closing an Export dialog (deleted on
close) while its job still runs, or quitting while one runs, must not abort the process (Qt
aborts when a running QThread is destroyed). Run in a child process: an abort would end pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys, time
from PyQt5 import QtCore, QtWidgets
from viewer.qt.background_job import BackgroundJob

app = QtWidgets.QApplication([])
done = []

def work(progress, cancel):
    time.sleep(0.8)  # a unit of work that does not look at cancel
    done.append(1)
    return "ok"

dialog = QtWidgets.QDialog()
dialog.setAttribute(QtCore.Qt.WA_DeleteOnClose)
dialog.show()
job = BackgroundJob(work, dialog)
job.start()
del job
dialog.close()  # deleted on close: the job's old parent goes while it runs
del dialog
for _ in range(20):
    app.processEvents()
    QtCore.QThread.msleep(10)
MODE = sys.argv[1]
if MODE == "finish":
    t0 = time.time()
    while BackgroundJob.running and time.time() - t0 < 10:
        app.processEvents()
        QtCore.QThread.msleep(20)
    print("finished", len(done), len(BackgroundJob.running))
else:  # quit at once, as run_gui does after the window closed
    print("stopped", BackgroundJob.stop_all(5000), len(done))
"""


@pytest.mark.parametrize("mode, expected", [("finish", "finished 1 0"), ("quit", "stopped True 1")])
def test_closing_the_owner_of_a_running_job_does_not_abort(mode, expected):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == expected
    assert "Destroyed while thread is still running" not in r.stderr
