"""Project > Train automatic model...: the small dialog before the automatic model's training
starts -- its time budget (minutes; the project's `auto_train_minutes`), cross-validation folds
or one model on every case, and, when the last automatic run was cancelled on the same cases,
whether to resume it (its own settings then apply)."""

from __future__ import annotations

from PyQt5 import QtWidgets

CV_TEXT = "Cross-validation (folds per patient)"
ALL_TEXT = "One model on every case (no cross-validation)"


class AutoTrainDialog(QtWidgets.QDialog):
    def __init__(self, parent, minutes: float, folds: int = 5, resumable=None) -> None:
        """`resumable`: (run_id, its run.json settings) of a cancelled run, or None."""
        super().__init__(parent)
        self.setWindowTitle("Train automatic model")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(
            QtWidgets.QLabel(
                "Trains the project's automatic segmentation model on its finished cases, in "
                "the background; the Project panel shows the progress. The new model becomes "
                "active only if its cross-validated Dice is at least the active one's."
            )
        )
        form = QtWidgets.QFormLayout()
        self.minutes = QtWidgets.QDoubleSpinBox()
        self.minutes.setRange(0.5, 100000.0)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(float(minutes))
        self.minutes.setToolTip("Wall-clock budget of the training, every fold together")
        form.addRow("Time budget", self.minutes)
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems([CV_TEXT, ALL_TEXT])
        self.mode.setToolTip(
            "Cross-validation measures the model (the gate needs it) and ensembles the folds; "
            "one model on every case is faster but unmeasured"
        )
        form.addRow("Models", self.mode)
        self.folds = QtWidgets.QSpinBox()
        self.folds.setRange(2, 10)
        self.folds.setValue(int(folds))
        form.addRow("Folds", self.folds)
        self.mode.currentIndexChanged.connect(lambda i: self.folds.setEnabled(i == 0))
        lay.addLayout(form)
        self.resume = QtWidgets.QCheckBox()
        self.resume_id = None
        if resumable is not None:
            run_id, settings = resumable
            self.resume_id = run_id
            fold = settings.get("fold", "cv")
            how = "one model" if fold == "all" else f"{settings.get('folds', 5)} folds"
            self.resume.setText(
                f"Resume the cancelled run {run_id} ({float(settings.get('minutes', 0)):g} min, "
                f"{how}) from its checkpoint"
            )
            self.resume.setChecked(True)
            self.resume.toggled.connect(self._resume_toggled)
            lay.addWidget(self.resume)
            self._resume_toggled(True)
        else:
            self.resume.hide()
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel
        )
        self.buttons.button(QtWidgets.QDialogButtonBox.Ok).setText("Train")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def _resume_toggled(self, on: bool) -> None:
        # a resumed run keeps its own settings: the fields would not apply
        for w in (self.minutes, self.mode):
            w.setEnabled(not on)
        self.folds.setEnabled(not on and self.mode.currentIndex() == 0)

    def choice(self) -> dict:
        """What to start: {"minutes", "fold" ("cv" / "all"), "folds", "resume" (run id/None)}."""
        return {
            "minutes": float(self.minutes.value()),
            "fold": "cv" if self.mode.currentIndex() == 0 else "all",
            "folds": int(self.folds.value()),
            "resume": self.resume_id if self.resume.isChecked() else None,
        }
