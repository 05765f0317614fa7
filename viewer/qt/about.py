"""Help > About: RadLabel's version and the versions and licences of the components it bundles,
and a button to the AI model's card. Versions come from package metadata, so Paddle is named
without being imported (the GUI process never loads it)."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable

from PyQt5 import QtCore, QtWidgets

from viewer import __version__

# (shown name, distribution, licence as its project publishes it)
COMPONENTS = (
    ("Qt", None, "LGPL-3.0"),
    ("PyQt5", "PyQt5", "GPL-3.0"),
    ("VTK", "vtk", "BSD-3-Clause"),
    ("pyqtgraph", "pyqtgraph", "MIT"),
    ("PaddlePaddle", "paddlepaddle", "Apache-2.0"),
    ("SimpleITK", "SimpleITK", "Apache-2.0"),
    ("pydicom", "pydicom", "MIT"),
    ("highdicom", "highdicom", "MIT"),
    ("NumPy", "numpy", "BSD-3-Clause"),
)


def component_versions() -> list[tuple[str, str, str]]:
    """(name, version, licence) of Python and each bundled component ("not installed" when
    its metadata is absent)."""
    rows = [("Python", platform.python_version(), "PSF-2.0")]
    for name, dist, licence in COMPONENTS:
        if dist is None:
            version = QtCore.QT_VERSION_STR
        else:
            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                version = "not installed"
        rows.append((name, version, licence))
    return rows


class AboutDialog(QtWidgets.QDialog):
    """Versions and licences, and a button that shows the model card."""

    def __init__(self, parent: QtWidgets.QWidget, show_model_card: Callable[[], object]) -> None:
        super().__init__(parent)
        self.setWindowTitle("About RadLabel")
        self.resize(520, 440)
        title = QtWidgets.QLabel(
            f"<h2>RadLabel {__version__}</h2>3D medical image annotation with AI click-to-segment."
        )
        self.table = QtWidgets.QTreeWidget()
        self.table.setHeaderLabels(["Component", "Version", "Licence"])
        self.table.setRootIsDecorated(False)
        self.table.setColumnWidth(0, 160)
        self.table.setColumnWidth(1, 140)
        for row in component_versions():
            self.table.addTopLevelItem(QtWidgets.QTreeWidgetItem(list(row)))
        self.model_card_button = QtWidgets.QPushButton("Model card...")
        self.model_card_button.clicked.connect(lambda _=False: show_model_card())
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.model_card_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        items = (self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount()))
        return [(it.text(0), it.text(1), it.text(2)) for it in items]
