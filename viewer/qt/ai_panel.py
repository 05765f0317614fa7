"""The AI panel: engine choice, busy indicator and status (with the last latency), Accept
(Enter) / Reject (Esc) / Undo click (Backspace) buttons and a short help line. It only mirrors
the AI controller (`viewer.qt.ai_controller`), which does the work."""

from __future__ import annotations

from PyQt5 import QtWidgets

from viewer.qt.panels.layout import show_panel
from viewer.services.ai_service import ENGINES

HELP = (
    "Left click: include. Right click or Shift+click: exclude. "
    "Enter accepts into the active segment, Esc rejects, Backspace undoes the last click."
)


class AIPanel(QtWidgets.QWidget):
    short_title = "AI"  # its tab in the main window's narrow dock column

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.use_button = QtWidgets.QPushButton("Use the AI tool (A)")
        self.use_button.setCheckable(True)
        self.use_button.clicked.connect(lambda on: controller.activate(on))
        lay.addWidget(self.use_button)
        form = QtWidgets.QFormLayout()
        self.engine_box = QtWidgets.QComboBox()
        for key, text in ENGINES.items():
            self.engine_box.addItem(text, key)
        self.engine_box.setToolTip("Which click-to-segment engine answers the clicks")
        self.engine_box.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLength)
        self.engine_box.setMinimumContentsLength(10)
        self.engine_box.activated.connect(
            lambda i: controller.set_engine(self.engine_box.itemData(i))
        )
        form.addRow("Engine", self.engine_box)
        lay.addLayout(form)
        self.busy_bar = QtWidgets.QProgressBar()
        self.busy_bar.setRange(0, 0)  # an indeterminate, animated bar
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        keep = self.busy_bar.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the buttons do not jump at every click
        self.busy_bar.setSizePolicy(keep)
        self.busy_bar.setVisible(False)
        lay.addWidget(self.busy_bar)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        row = QtWidgets.QHBoxLayout()
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.accept_button.setToolTip("Put the preview into the active segment (Enter)")
        self.accept_button.clicked.connect(lambda: controller.accept())
        self.reject_button = QtWidgets.QPushButton("Reject")
        self.reject_button.setToolTip("Discard the clicks and the preview (Esc)")
        self.reject_button.clicked.connect(lambda: controller.reject())
        self.undo_button = QtWidgets.QPushButton("Undo click")
        row.setSpacing(2)
        self.undo_button.setToolTip("Take back the last click (Backspace)")
        self.undo_button.clicked.connect(lambda: controller.undo_click())
        for b in (self.accept_button, self.reject_button, self.undo_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        lay.addLayout(row)
        help_label = QtWidgets.QLabel(HELP)
        help_label.setWordWrap(True)
        help_label.setStyleSheet("color: gray")
        lay.addWidget(help_label)
        lay.addStretch(1)
        self._was_active = False
        self.refresh()

    def refresh(self) -> None:
        """Mirror the tool and service: busy state, message, buttons, engine."""
        c = self.controller
        tool = c.tool
        busy = c.busy()
        self.busy_bar.setVisible(busy)
        self.status.setText(tool.message or tool.status_text())
        self.accept_button.setEnabled(tool.has_preview() and not busy)
        self.reject_button.setEnabled(bool(tool.clicks) or tool.has_preview())
        self.undo_button.setEnabled(bool(tool.clicks) and not busy)
        self.use_button.setChecked(tool.active)
        if tool.active and not self._was_active:
            show_panel(self)  # its tab may be behind another panel's
        self._was_active = tool.active
        i = self.engine_box.findData(c.service.engine)
        if i >= 0 and i != self.engine_box.currentIndex():
            self.engine_box.setCurrentIndex(i)
