"""The training view of the Project panel: a running retrain's phase, progress bar, live loss and
validation curves (pyqtgraph) and Cancel. `RetrainMonitor` polls the `RetrainJob` (a separate
process) with a QTimer, so the window never waits for it; the view only mirrors the monitor."""

from __future__ import annotations

import logging

import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

log = logging.getLogger(__name__)
POLL_MS = 250  # how often the job's new events are read: cheap (a file or pipe read)
TERMINAL = ("done", "cancelled", "error")


class RetrainMonitor(QtCore.QObject):
    """Polls one RetrainJob. `reported(dict)` for every event it reports; `ended(dict)` once,
    with the terminal event (done / cancelled / error)."""

    reported = QtCore.pyqtSignal(object)
    ended = QtCore.pyqtSignal(object)

    def __init__(self, job, parent=None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.job = job
        self.history: list[dict] = []  # every event so far (a view attached later replays it)
        self.result: dict | None = None
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    @property
    def running(self) -> bool:
        return self.result is None

    def cancel(self) -> None:
        """Ask the job to stop: it checkpoints, still exports, and reports "cancelled"."""
        if self.running:
            self.job.cancel()

    def poll(self) -> None:
        try:
            events = list(self.job.poll())
            alive = self.job.running()
            if not alive:  # whatever it wrote before it ended
                events += list(self.job.poll())
        except Exception as e:  # a broken job must not take the window down
            log.exception("polling the retrain failed")
            events, alive = [{"type": "error", "message": f"{type(e).__name__}: {e}"}], False
        for e in events:
            self._take(e)
        if self.result is None and not alive:
            self._take({"type": "error", "message": "the retrain process ended without a result"})

    def _take(self, event: dict) -> None:
        if self.result is not None:
            return
        self.history.append(event)
        self.reported.emit(event)
        if event.get("type") in TERMINAL:
            self.result = event
            self.timer.stop()
            self.ended.emit(event)


class TrainingView(QtWidgets.QWidget):
    """Phase line, progress bar, loss and validation curves and Cancel of one retrain."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.monitor: RetrainMonitor | None = None
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.status = QtWidgets.QLabel("No retrain running.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        row = QtWidgets.QHBoxLayout()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        row.addWidget(self.progress, 1)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the retrain: it keeps a checkpoint and its model")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(140)
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend(offset=(-5, 5))
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.loss_curve = self.plot.plot([], [], pen=pg.mkPen((255, 190, 0), width=1), name="loss")
        self.val_curve = self.plot.plot(
            [], [], pen=pg.mkPen((40, 200, 255), width=2), symbol="o", symbolSize=5, name="val"
        )
        lay.addWidget(self.plot)
        self.loss: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def attach(self, monitor: RetrainMonitor) -> None:
        """Show `monitor`'s retrain (its events so far, then live)."""
        if self.monitor is not None:
            self.monitor.reported.disconnect(self.on_event)
        self.monitor = monitor
        self.loss, self.val = [], []
        self.progress.setValue(0)
        self.status.setText("Retrain starting...")
        for e in monitor.history:
            self.on_event(e, redraw=False)
        self._redraw()
        monitor.reported.connect(self.on_event)
        self.cancel_button.setEnabled(monitor.running)

    def cancel(self) -> None:
        if self.monitor is not None and self.monitor.running:
            self.monitor.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: the retrain saves a checkpoint and stops...")

    def on_event(self, e: dict, redraw: bool = True) -> None:
        kind = e.get("type")
        if kind == "progress":
            step = int(e.get("step", 0))
            if e.get("loss") is not None:
                self.loss.append((step, float(e["loss"])))
            if e.get("val") is not None:
                self.val.append((step, float(e["val"])))
            budget = float(e.get("budget_s") or 0.0)
            if budget > 0:
                self.progress.setValue(int(min(float(e.get("elapsed_s", 0.0)) / budget, 1) * 1000))
            self.status.setText(progress_text(e))
            if redraw:
                self._redraw()
        elif kind == "phase":
            self.status.setText(f"Retrain: {e.get('name', '')}...")
        elif kind in TERMINAL:
            self.cancel_button.setEnabled(False)
            self.status.setText(result_text(e))
            if kind == "done":
                self.progress.setValue(1000)

    def _redraw(self) -> None:
        if self.loss:
            xs, ys = zip(*self.loss, strict=True)
            self.loss_curve.setData(list(xs), list(ys))
        else:
            self.loss_curve.setData([], [])
        if self.val:
            xs, ys = zip(*self.val, strict=True)
            self.val_curve.setData(list(xs), list(ys))
        else:
            self.val_curve.setData([], [])


def progress_text(e: dict) -> str:
    """'Training: step 12, loss 0.412, 1:05 of 10:00' (and the validation score when measured)."""
    text = f"Training: step {int(e.get('step', 0))}"
    if e.get("loss") is not None:
        text += f", loss {float(e['loss']):.3f}"
    if e.get("val") is not None:
        text += f", validation {float(e['val']):.3f}"
    return text + f", {_mmss(e.get('elapsed_s'))} of {_mmss(e.get('budget_s'))}"


def result_text(e: dict) -> str:
    """The line shown when a retrain ended."""
    kind = e.get("type")
    if kind == "cancelled":
        return "Retrain cancelled."
    if kind == "error":
        return f"Retrain failed: {e.get('message', 'unknown error')}"
    version = e.get("version", "?")
    cand, act = mean_dice(e.get("candidate")), mean_dice(e.get("active"))
    scores = ""
    if cand is not None:
        scores = f" (mean Dice {cand:.3f}" + (f" vs {act:.3f} active" if act is not None else "")
        scores += ")"
    if e.get("activated"):
        return f"Retrain done: version {version} is now active{scores}."
    return f"Retrain done: version {version} kept as a candidate{scores}; the active one stays."


def mean_dice(metrics: dict | None) -> float | None:
    """Mean of Dice@1/3/5 (the gating score), None when not measured."""
    if not metrics:
        return None
    values = [metrics.get(k) for k in ("dice@1", "dice@3", "dice@5")]
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _mmss(seconds) -> str:
    s = int(round(float(seconds or 0.0)))
    return f"{s // 60}:{s % 60:02d}"
