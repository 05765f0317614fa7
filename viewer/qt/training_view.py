"""The training view of the Project panel: a running training's phase, progress bar, live loss and
validation curves (pyqtgraph) and Cancel -- the interactive model's retrain or the automatic
model's training (`job.kind`: "retrain" / "auto"; the same run events, the automatic one adds
its fold/stage, the run's fraction done and the validation Dice per class, shown in the curve's
tooltip). `RetrainMonitor` polls the `RetrainJob` (a separate process) with a QTimer, so the
window never waits for it; the view only mirrors the monitor."""

from __future__ import annotations

import logging

import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

log = logging.getLogger(__name__)
POLL_MS = 250  # how often the job's new events are read: cheap (a file or pipe read)
TERMINAL = ("done", "cancelled", "error")
TITLES = {"retrain": "Retrain", "auto": "Automatic training"}


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

    @property
    def kind(self) -> str:
        """ "retrain" (the interactive model) or "auto" (the automatic model)."""
        return str(getattr(self.job, "kind", "retrain") or "retrain")

    @property
    def title(self) -> str:
        return TITLES.get(self.kind, "Training")

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
            log.exception("polling the training failed")
            events, alive = [{"type": "error", "message": f"{type(e).__name__}: {e}"}], False
        for e in events:
            self._take(e)
        if self.result is None and not alive:
            message = f"the {self.title.lower()} process ended without a result"
            self._take({"type": "error", "message": message})

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
    """Phase line, progress bar, loss and validation curves and Cancel of one training."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.monitor: RetrainMonitor | None = None
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.status = QtWidgets.QLabel("No training running.")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        row = QtWidgets.QHBoxLayout()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        row.addWidget(self.progress, 1)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the training: it keeps a checkpoint to resume from")
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
        self.title = "Retrain"

    def attach(self, monitor: RetrainMonitor) -> None:
        """Show `monitor`'s retrain (its events so far, then live)."""
        if self.monitor is not None:
            self.monitor.reported.disconnect(self.on_event)
        self.monitor = monitor
        self.title = monitor.title
        self.loss, self.val = [], []
        self.progress.setValue(0)
        self.plot.setToolTip("")
        self.status.setText(f"{self.title} starting...")
        for e in monitor.history:
            self.on_event(e, redraw=False)
        self._redraw()
        monitor.reported.connect(self.on_event)
        self.cancel_button.setEnabled(monitor.running)

    def cancel(self) -> None:
        if self.monitor is not None and self.monitor.running:
            self.monitor.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText(
                f"Cancelling: the {self.title.lower()} saves a checkpoint and stops..."
            )

    def on_event(self, e: dict, redraw: bool = True) -> None:
        kind = e.get("type")
        if kind == "progress":
            step = int(e.get("step", 0))
            if e.get("loss") is not None:
                self.loss.append((step, float(e["loss"])))
            if e.get("val") is not None:
                self.val.append((step, float(e["val"])))
            if e.get("val_per_class"):
                self.plot.setToolTip(per_class_text(step, e["val_per_class"]))
            budget = float(e.get("budget_s") or 0.0)
            if e.get("fraction") is not None:  # the automatic training: over all its models
                self.progress.setValue(int(min(float(e["fraction"]), 1) * 1000))
            elif budget > 0:
                self.progress.setValue(int(min(float(e.get("elapsed_s", 0.0)) / budget, 1) * 1000))
            self.status.setText(progress_text(e))
            if redraw:
                self._redraw()
        elif kind == "phase":
            model = f" {e['model']}" if e.get("model") else ""
            self.status.setText(f"{self.title}: {e.get('name', '')}{model}...")
        elif kind in TERMINAL:
            self.cancel_button.setEnabled(False)
            self.status.setText(result_text(e, self.title))
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
    """'Training: step 12, loss 0.412, 1:05 of 10:00' (and the validation score when measured;
    the automatic training names its fold/stage: 'Training fold_0/fullres: step 12, ...')."""
    model = f" {e['model']}" if e.get("model") else ""
    text = f"Training{model}: step {int(e.get('step', 0))}"
    if e.get("loss") is not None:
        text += f", loss {float(e['loss']):.3f}"
    if e.get("val") is not None:
        text += f", validation {float(e['val']):.3f}"
    return text + f", {_mmss(e.get('elapsed_s'))} of {_mmss(e.get('budget_s'))}"


def per_class_text(step: int, per_class: dict) -> str:
    """'Validation Dice at step 50: Liver 0.912, Spleen 0.874' (the curve shows their mean)."""
    parts = ", ".join(f"{name} {float(d):.3f}" for name, d in per_class.items())
    return f"Validation Dice at step {step}: {parts}"


def result_text(e: dict, title: str = "Retrain") -> str:
    """The line shown when a training ended (`title`: "Retrain" or "Automatic training")."""
    kind = e.get("type")
    if kind == "cancelled":
        return f"{title} cancelled."
    if kind == "error":
        return f"{title} failed: {e.get('message', 'unknown error')}"
    if e.get("kind") == "auto":
        return auto_result_text(e)
    version = e.get("version", "?")
    cand, act = mean_dice(e.get("candidate")), mean_dice(e.get("active"))
    scores = ""
    if cand is not None:
        scores = f" (mean Dice {cand:.3f}" + (f" vs {act:.3f} active" if act is not None else "")
        scores += ")"
    if e.get("activated"):
        return f"Retrain done: version {version} is now active{scores}."
    return f"Retrain done: version {version} kept as a candidate{scores}; the active one stays."


def auto_result_text(e: dict) -> str:
    """'Automatic training done: auto-002 is now active (cross-validated Dice 0.812 vs 0.790).'"""
    version = e.get("version", "?")
    cand, act = e.get("candidate_dice"), e.get("active_dice")
    scores = ""
    if cand is not None:
        scores = f" (cross-validated Dice {float(cand):.3f}"
        scores += f" vs {float(act):.3f} active)" if act is not None else ")"
    if e.get("activated"):
        return f"Automatic training done: {version} is now the active automatic model{scores}."
    active = f" {e['active_version']}" if e.get("active_version") else ""
    return f"Automatic training done: {version} kept; the active automatic model{active} stays{scores}."


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
