"""The welcome page shown over the empty views at first start (issue 19): open the demo study, an
image or a DICOM folder, the recent files, and a three-step tour of the core gestures. It can be
dismissed ("Show at start" off keeps it away) and comes back from Help > Welcome page. While no
image is open and the page is closed, each empty slice view says what to do.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

from viewer.qt.help_menu import bundled_file
from viewer.qt.settings import recent_files

SETTING_SHOW = "welcome/show_at_start"
DEMO_IMAGE = "resources/demo/ct_abdomen_demo.nii.gz"
EMPTY_VIEW_TEXT = (
    "No image open.\nFile > Open image... (Ctrl+O), Open DICOM folder... (Ctrl+D),\n"
    "or drop a file here. Help > Welcome page opens the demo study."
)
# (title, what to do): the gestures a new user needs first
TOUR = (
    (
        "1. Click to segment",
        "Press <b>A</b> (AI tool) and click inside a structure in any slice view: the AI "
        "outlines it in 3D as a preview. Pick or add the segment it goes to in the "
        "<i>Segments</i> panel first.",
    ),
    (
        "2. Correct",
        "Left-click where the preview misses the structure, right-click where it spills over; "
        "each click refines it. <b>Enter</b> accepts it into the labels, <b>Esc</b> drops it, "
        "<b>Backspace</b> takes back the last click. Fine touch-ups: brush <b>B</b>, eraser "
        "<b>E</b>; <b>Ctrl+Z</b> undoes.",
    ),
    (
        "3. Save and export",
        "<b>Ctrl+S</b> saves the labels (NIfTI, NRRD, ...) next to your work; <b>File > "
        "Export...</b> (Ctrl+E) writes NIfTI, DICOM SEG, meshes or a training data set; "
        "<b>File > Export DICOM SEG to PACS...</b> sends the result to your PACS.",
    ),
)


class WelcomePage(QtWidgets.QFrame):
    """The page itself: open buttons, recent files, the tour, "Show at start" and Close."""

    def __init__(self, window: QtWidgets.QMainWindow, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.window = window
        self.setObjectName("welcome")
        self.setAutoFillBackground(True)
        self.setFrameShape(QtWidgets.QFrame.StyledPanel)
        title = QtWidgets.QLabel("<h2>Welcome to RadLabel</h2>3D medical image annotation")
        self.demo_button = QtWidgets.QPushButton("Open the demo study")
        self.demo_button.setToolTip("A small abdominal CT shipped with RadLabel")
        self.image_button = QtWidgets.QPushButton("Open image...")
        self.dicom_button = QtWidgets.QPushButton("Open DICOM folder...")
        self.demo_button.clicked.connect(lambda _=False: self.open_demo())
        self.image_button.clicked.connect(lambda _=False: window._open_file_dialog())
        self.dicom_button.clicked.connect(lambda _=False: window._open_folder_dialog())
        opens = QtWidgets.QHBoxLayout()
        for b in (self.demo_button, self.image_button, self.dicom_button):
            opens.addWidget(b)
        self.recent_box = QtWidgets.QGroupBox("Recent files")
        self.recent_layout = QtWidgets.QVBoxLayout(self.recent_box)
        self.tour = QtWidgets.QStackedWidget()
        for heading, text in TOUR:
            page = QtWidgets.QLabel(f"<h3>{heading}</h3>{text}")
            page.setWordWrap(True)
            page.setAlignment(QtCore.Qt.AlignTop | QtCore.Qt.AlignLeft)
            self.tour.addWidget(page)
        self.back_button = QtWidgets.QPushButton("< Back")
        self.next_button = QtWidgets.QPushButton("Next >")
        self.step_label = QtWidgets.QLabel()
        self.back_button.clicked.connect(lambda _=False: self.show_step(self.step() - 1))
        self.next_button.clicked.connect(lambda _=False: self.show_step(self.step() + 1))
        steps = QtWidgets.QHBoxLayout()
        steps.addWidget(self.back_button)
        steps.addStretch(1)
        steps.addWidget(self.step_label)
        steps.addStretch(1)
        steps.addWidget(self.next_button)
        tour_box = QtWidgets.QGroupBox("The three gestures")
        tour_lay = QtWidgets.QVBoxLayout(tour_box)
        tour_lay.addWidget(self.tour, 1)
        tour_lay.addLayout(steps)
        self.show_at_start = QtWidgets.QCheckBox("Show this page at start")
        self.close_button = QtWidgets.QPushButton("Close")
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.show_at_start)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(opens)
        lay.addWidget(self.recent_box)
        lay.addWidget(tour_box, 1)
        lay.addLayout(bottom)
        self.show_step(0)

    def step(self) -> int:
        return self.tour.currentIndex()

    def show_step(self, index: int) -> None:
        index = max(0, min(index, self.tour.count() - 1))
        self.tour.setCurrentIndex(index)
        self.step_label.setText(f"Step {index + 1} of {self.tour.count()}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < self.tour.count() - 1)

    def fill_recent(self) -> None:
        """One button per recent file (newest first); a line saying so when there are none."""
        while self.recent_layout.count():
            item = self.recent_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        paths = recent_files(self.window.settings)[:6]
        if not paths:
            self.recent_layout.addWidget(QtWidgets.QLabel("None yet."))
        for path in paths:
            b = QtWidgets.QPushButton(path)
            b.setFlat(True)
            b.setStyleSheet("text-align: left")
            b.clicked.connect(lambda _=False, p=path: self.window.open_path(p))
            self.recent_layout.addWidget(b)

    def recent_paths(self) -> list[str]:
        items = (self.recent_layout.itemAt(i).widget() for i in range(self.recent_layout.count()))
        return [w.text() for w in items if isinstance(w, QtWidgets.QPushButton)]

    def open_demo(self) -> bool:
        return bool(self.window.open_path(str(bundled_file(DEMO_IMAGE))))


class Welcome(QtCore.QObject):
    """Owns the page over `window.grid` and the empty-view hints; follows the document."""

    def __init__(self, window: QtWidgets.QMainWindow, show_now: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.page = WelcomePage(window, window.grid)
        self.page.close_button.clicked.connect(lambda _=False: self.dismiss())
        self.page.show_at_start.toggled.connect(self._remember_choice)
        self.hints = {}
        for name, sv in window.slice_views.items():
            hint = QtWidgets.QLabel(EMPTY_VIEW_TEXT, sv)
            hint.setAlignment(QtCore.Qt.AlignCenter)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: #bbb; background: transparent")
            hint.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents)
            self.hints[name] = hint
            sv.installEventFilter(self)
        window.grid.installEventFilter(self)
        window.document_changed.connect(self._on_document)
        self.action = QtWidgets.QAction("&Welcome page", window)
        self.action.triggered.connect(lambda _=False: self.show())
        help_menu = getattr(window, "help_menu", None)
        if help_menu is not None:
            first = help_menu.menu.actions()[0] if help_menu.menu.actions() else None
            help_menu.menu.insertAction(first, self.action)
        shown = str(window.settings.value(SETTING_SHOW, "true")).lower() == "true"
        self.page.show_at_start.setChecked(shown)
        if shown and show_now and window.document is None:
            self.show()
        else:
            self.page.hide()
        self._update_hints()

    def is_shown(self) -> bool:
        return not self.page.isHidden()

    def show(self) -> None:
        self.page.fill_recent()
        self._place()
        self.page.show()
        self.page.raise_()
        self._update_hints()

    def dismiss(self) -> None:
        self.page.hide()
        self._update_hints()

    def _remember_choice(self, on: bool) -> None:
        self.window.settings.setValue(SETTING_SHOW, "true" if on else "false")

    def _on_document(self, document) -> None:
        if document is not None:
            self.page.hide()  # the image is what the user wants to see now
        self._update_hints()

    def _update_hints(self) -> None:
        empty = self.window.document is None and not self.is_shown()
        for name, hint in self.hints.items():
            hint.setVisible(empty)
            if empty:
                hint.setGeometry(self.window.slice_views[name].rect())
                hint.raise_()

    def _keep_on_top(self) -> None:
        if self.is_shown():
            self.page.raise_()

    def _place(self) -> None:
        """The page sits centred over the view grid, at most 760 x 620."""
        grid = self.window.grid.rect()
        w, h = min(760, grid.width() - 20), min(620, grid.height() - 20)
        self.page.setGeometry(
            grid.x() + (grid.width() - w) // 2, grid.y() + (grid.height() - h) // 2, w, h
        )

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QtCore.QEvent.ChildAdded and obj is self.window.grid:
            # the 3D view is built after the first paint and would cover the page
            QtCore.QTimer.singleShot(0, self._keep_on_top)
        elif ev.type() == QtCore.QEvent.Resize:
            if obj is self.window.grid and self.is_shown():
                self._place()
            elif obj in self.window.slice_views.values():
                self._update_hints()
        return False


def install_welcome(window: QtWidgets.QMainWindow, show_now: bool = True) -> Welcome:
    """Add the welcome page and the empty-view hints to `window` (as `window.welcome`); the page
    shows now when `show_now` and the user has not turned "Show this page at start" off
    (False: an image named on the command line is about to open)."""
    window.welcome = Welcome(window, show_now)
    return window.welcome
