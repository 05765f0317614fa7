"""The main window: four linked views, menus, toolbar, status bar, docks, opening files, and the
extension API other parts of the app use (`add_panel`, `set_active_tool`, `execute`,
`slice_views` for markers and overlay items)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from viewer.commands.history import History
from viewer.errors import RadLabelError
from viewer.model.document import Document
from viewer.model.view_state import (
    AUTO_PRESET,
    CT_PRESETS,
    ViewState,
    WindowLevel,
    auto_window,
    default_window,
    effective_modality,
    presets_for,
)
from viewer.model.volume import MetaKey
from viewer.model.window_text import preset_label
from viewer.qt.help_menu import install_help_menu
from viewer.qt.layouts import LAYOUTS, ViewGrid
from viewer.qt.settings import add_recent_file, app_settings, recent_files
from viewer.qt.slice_view import SliceView
from viewer.qt.unsaved_guard import confirm_unsaved
from viewer.qt.window_readout import WindowReadout
from viewer.tools.base import Tool

if TYPE_CHECKING:
    from viewer.qt.ai_controller import AIController
    from viewer.qt.auto_segment import AutoSegmentController
    from viewer.qt.measure_controller import MeasureController
    from viewer.qt.pacs_actions import PacsActions
    from viewer.qt.panels.editing import EditingController
    from viewer.qt.project_controller import ProjectController

log = logging.getLogger(__name__)
SLICE_VIEWS = ("axial", "coronal", "sagittal")
PANEL_WIDTH = 320  # px, the docked panels' column: the slice views get the rest
SCREEN_FRACTION = 0.8  # of the screen's available area, the first window size
DOCK_STATE_VERSION = 2  # bump when the dock arrangement changes: older saved states are ignored


class MainWindow(QtWidgets.QMainWindow):
    """RadLabel's window. `document_changed` is emitted with the new Document (or None)."""

    document_changed = QtCore.pyqtSignal(object)
    labels_opened = QtCore.pyqtSignal(str)  # a label file was read into the document (its path)
    closed = QtCore.pyqtSignal()  # the close was final: the views are released

    def __init__(self, settings: QtCore.QSettings | None = None, with_3d: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("RadLabel")
        self.setAcceptDrops(True)
        self.settings = settings or app_settings()
        self.document: Document | None = None
        self.state = ViewState()
        self.history = History()  # every command goes through it (undo/redo, clean state)
        self.active_tool: Tool | None = None
        # the parts installed after construction (`viewer.qt.app.create_main_window` installs
        # them all; tests install what they need), each through its `set_*` below
        self._editing: EditingController | None = None
        self._ai: AIController | None = None
        self._measure: MeasureController | None = None
        self._pacs: PacsActions | None = None
        self._project: ProjectController | None = None
        # non-empty: why the labels cannot be changed now (a project case another user holds);
        # `execute` then refuses every command and shows this line instead
        self.read_only = ""
        self._auto_segment: AutoSegmentController | None = None
        self.goto_dialog = None  # View > Go to..., made when first opened
        self.export_dialog = None  # the last File > Export dialog (deleted when closed)
        self.slice_views = {v: SliceView(v, self.state) for v in SLICE_VIEWS}
        views: dict[str, QtWidgets.QWidget] = dict(self.slice_views)
        # VTK (import, GL context, first render) costs seconds on a busy machine: the 3D view is
        # built after the window's first paint (or when `view_3d` is first asked for)
        self._with_3d = with_3d
        self._view_3d = None
        self._painted = False
        self._after_paint: list = []
        views["3d"] = _placeholder("3D view: starting..." if with_3d else "3D view off")
        for sv in self.slice_views.values():
            sv.sigMaximise.connect(self._toggle_maximise)
            sv.sigHover.connect(self._show_hover)
            sv.sigCommand.connect(self.execute)
        self.grid = ViewGrid(views)
        self._paint_watch = _FirstPaint(self.grid, self._on_first_paint)  # starts deferred work
        self.setCentralWidget(self.grid)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self._dock_columns: dict[int, list[QtWidgets.QDockWidget]] = {}
        self.setDockOptions(
            QtWidgets.QMainWindow.AnimatedDocks | QtWidgets.QMainWindow.AllowTabbedDocks
        )
        self.setTabPosition(QtCore.Qt.AllDockWidgetAreas, QtWidgets.QTabWidget.North)
        self._build_actions()
        self._build_toolbar()
        self.window_readout = WindowReadout(self)  # W/L in the views' corner, keys 0-8
        self.help_menu = install_help_menu(self)
        self.status_label = QtWidgets.QLabel(document_summary(None))
        self.statusBar().addWidget(self.status_label, 1)
        self._restore_settings()

    # --- installed parts -----------------------------------------------------------------------
    @property
    def editing(self) -> EditingController | None:
        """Editing tools, panels, Edit menu and autosave (`install_editing`), or None."""
        return self._editing

    def set_editing(self, editing: EditingController) -> None:
        self._editing = _install_once("editing", self._editing, editing)

    @property
    def ai(self) -> AIController | None:
        """The AI click-to-segment tool and its panel (`install_ai`), or None."""
        return self._ai

    def set_ai(self, ai: AIController) -> None:
        self._ai = _install_once("ai", self._ai, ai)

    @property
    def measure(self) -> MeasureController | None:
        """The measurement tools and panel (`install_measurements`), or None."""
        return self._measure

    def set_measure(self, measure: MeasureController) -> None:
        self._measure = _install_once("measure", self._measure, measure)

    @property
    def pacs(self) -> PacsActions | None:
        """The PACS entries of the File menu (`install_pacs`), or None."""
        return self._pacs

    def set_pacs(self, pacs: PacsActions) -> None:
        self._pacs = _install_once("pacs", self._pacs, pacs)

    @property
    def project(self) -> ProjectController | None:
        """Projects: menus, the Project panel, cases and retraining (`install_project`)."""
        return self._project

    def set_project(self, project: ProjectController) -> None:
        self._project = _install_once("project", self._project, project)

    @property
    def auto_segment(self) -> AutoSegmentController | None:
        """Segment > Auto-segment with the automatic model (`install_auto_segment`), or None."""
        return self._auto_segment

    def set_auto_segment(self, auto: AutoSegmentController) -> None:
        self._auto_segment = _install_once("auto_segment", self._auto_segment, auto)

    # --- extension API -------------------------------------------------------------------------
    def add_panel(
        self, widget: QtWidgets.QWidget, title: str, area=QtCore.Qt.RightDockWidgetArea
    ) -> QtWidgets.QDockWidget:
        """Dock `widget` under `title`; it gets an entry in View > Panels. The panel sits in a
        scroll area: otherwise the stacked panels' minimum sizes force the window beyond the
        screen, and any panel that grows (a busy bar, a longer message) resizes the slice views.

        One column per dock area, PANEL_WIDTH wide: the first panel of an area stays visible on
        its own (Segments); every later one joins a tab group below it, so the slice views keep
        most of the screen. `widget.short_title`, when present, names the tab."""
        # a panel may name a shorter `short_title` for its tab and title bar
        dock = QtWidgets.QDockWidget(getattr(widget, "short_title", title), self)
        dock.setObjectName(f"dock_{title}")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        self.addDockWidget(area, dock)
        column = self._dock_columns.setdefault(int(area), [])
        if len(column) >= 2:
            self.tabifyDockWidget(column[-1], dock)
            column[1].raise_()  # the group's first panel is the one shown at start
        column.append(dock)
        orientation = (
            QtCore.Qt.Horizontal
            if area in (QtCore.Qt.LeftDockWidgetArea, QtCore.Qt.RightDockWidgetArea)
            else QtCore.Qt.Vertical
        )
        self.resizeDocks([dock], [PANEL_WIDTH], orientation)
        if len(column) == 2 and orientation == QtCore.Qt.Horizontal:
            # the always-visible panel gets about 40 % of the column, the tab group the rest
            h = max(self.height() - 120, 400)
            self.resizeDocks(column, [int(h * 0.4), int(h * 0.6)], QtCore.Qt.Vertical)
        toggle = dock.toggleViewAction()
        toggle.setText(title)
        self.panels_menu.addAction(toggle)
        self.docks[title] = dock
        return dock

    def show_dock(self, title: str) -> None:
        """Bring the panel docked under `title` to the front (reopened when it was closed)."""
        dock = self.docks.get(title)
        if dock is not None:
            if dock.isHidden():
                dock.show()
            dock.raise_()

    def set_active_tool(self, tool: Tool | None) -> None:
        """Make `tool` receive the slice views' mouse events (None: crosshair navigation)."""
        if self.active_tool is not None and self.active_tool is not tool:
            self.active_tool.deactivate()
        self.active_tool = tool
        if tool is not None:
            tool.set_document(self.document)
            tool.activate()
        for sv in self.slice_views.values():
            sv.set_tool(tool)

    def execute(self, command) -> None:
        """Apply a command to the open document as one undoable step of `self.history`."""
        if self.document is None:
            return
        if self.read_only:
            self.statusBar().showMessage(self.read_only, 10000)
            return
        self.history.push(command)

    @property
    def view_3d(self):
        """The 3D view (VolumeView3D), built now if the first paint has not built it yet; None
        for a window made `with_3d=False`."""
        if self._with_3d and self._view_3d is None:
            self._build_3d()
        return self._view_3d

    def _build_3d(self) -> None:
        from viewer.qt.volume_view_3d import VolumeView3D  # imports VTK

        view = VolumeView3D(self.state)
        view.sigMaximise.connect(self._toggle_maximise)
        placeholder = self.grid.views["3d"]
        self.grid.grid.replaceWidget(placeholder, view)
        self.grid.views["3d"] = view
        view.setVisible(not placeholder.isHidden())
        placeholder.deleteLater()
        self._view_3d = view
        if self.document is not None:
            view.set_document(self.document)

    def after_first_paint(self, fn) -> None:
        """Run `fn()` once the window has painted (soon, when it already has): slow start-up
        work waits until the user sees the window."""
        if self._painted:
            QtCore.QTimer.singleShot(0, fn)
        else:
            self._after_paint.append(fn)

    def _on_first_paint(self) -> None:
        self._painted = True
        QtCore.QTimer.singleShot(0, self._run_after_paint)

    def _run_after_paint(self) -> None:
        calls, self._after_paint = self._after_paint, []
        for fn in calls:
            fn()
        if self._with_3d and self._view_3d is None and self.isVisible():
            self._build_3d()

    # --- documents -----------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self.document = document
        self.history.set_document(document)  # the old entries refer to other voxels
        if document is not None:
            lo, hi = document.geometry.world_bounds()
            centre = document.geometry.index_to_world(
                (np.asarray(document.geometry.shape_zyx) - 1) / 2.0
            )
            self.state.cursor_world = np.clip(centre, lo, hi)
            if document.volume.is_segmentable:
                self.state.window = default_window(document.volume.array, self.modality())
            name = document.volume.name or os.path.basename(document.volume.source_path)
            self.setWindowTitle(f"RadLabel - {name}")
        else:
            self.setWindowTitle("RadLabel")
        for sv in self.slice_views.values():
            sv.set_document(document)
        if self._view_3d is not None:
            self._view_3d.set_document(document)
        if self.active_tool is not None:
            self.active_tool.set_document(document)
        self._fill_presets()
        self.status_label.setText(document_summary(document))  # not the last image's voxel
        self.document_changed.emit(document)

    def open_path(self, path: str, series_uid: str | None = None) -> bool:
        """Open an image file or DICOM folder; on error show it and keep the current document."""
        from viewer.io import load_volume

        path = os.fspath(path)
        if os.path.isdir(path) and series_uid is None:
            return self.open_dicom_folder(path)  # the study browser loads in the background
        try:
            volume = load_volume(path, series_uid=series_uid)
        except RadLabelError as e:
            self.show_error("Cannot open", e.message)
            return False
        except Exception as e:  # an unexpected failure must not take the window down
            log.exception("opening %s failed", path)
            self.show_error("Cannot open", f"{path}: {type(e).__name__}: {e}")
            return False
        return self.adopt_volume(volume, path, f"opening {path}")

    def adopt_volume(
        self,
        volume,
        source: str,
        action: str,
        remember: bool = True,
        document: Document | None = None,
    ) -> bool:
        """Make a loaded volume the open document, after the unsaved-labels question (`action`
        names what would replace them); its load notes go to the status bar. `document`: one
        already built on `volume` (with labels and segments, e.g. a project case), else an
        empty one."""
        if document is not None and document.volume is not volume:
            raise ValueError("the document given is not built on the volume given")
        if not confirm_unsaved(self, action):
            return False
        self.set_document(document if document is not None else Document(volume))
        self.show_load_notes(source, volume)
        if remember:
            self._remember(source)
        return True

    def show_load_notes(self, path: str, volume) -> None:
        """What the loader had to say (e.g. a series resampled onto a regular grid): one line
        in the status bar and the log."""
        self._show_notes(path, list(volume.metadata.get(MetaKey.WARNINGS) or []), 30000)

    def _show_notes(self, path: str, notes: list[str], ms: int) -> None:
        if notes:
            log.warning("%s: %s", path, "; ".join(notes))
            self.statusBar().showMessage(f"{os.path.basename(path)}: {'; '.join(notes)}", ms)

    def open_dicom_folder(self, path: str) -> bool:
        """Show the study browser for a DICOM folder and open the series the user loads."""
        from viewer.qt.study_browser import StudyBrowser

        dialog = StudyBrowser(path, self)
        if dialog.exec_() != QtWidgets.QDialog.Accepted or dialog.volume is None:
            return False
        return self.adopt_volume(dialog.volume, path, f"opening {dialog.volume.name or path}")

    def open_label(self, path: str) -> bool:
        """Read a label file (viewer.io.open_labels: any label format) onto the open image as
        one undoable step; notes (resampling, overlaps flattened) go to the status bar."""
        from viewer.commands.label_file import open_labels_command
        from viewer.io import open_labels

        if self.document is None:
            self.show_error("Cannot open label", "Open an image first.")
            return False
        notes: list[str] = []
        try:
            loaded = open_labels(self.document.volume, path, notes)
        except RadLabelError as e:
            self.show_error("Cannot open label", e.message)
            return False
        except Exception as e:  # an unexpected failure must not take the window down
            log.exception("opening label %s failed", path)
            self.show_error("Cannot open label", f"{path}: {type(e).__name__}: {e}")
            return False
        if not confirm_unsaved(self, f"opening the label file {path}"):
            return False
        lossy = loaded.lossy_on_save_back()
        writable = _saves_to(path) and not lossy
        if lossy:  # Ctrl+S must not overwrite the source with a lossy copy of it
            notes.append(f"Save asks for a new file: {lossy}")
        self.execute(open_labels_command(self.document, loaded, path, writable))
        self.labels_opened.emit(os.fspath(path))  # e.g. its measurements sidecar is read
        self.history.mark_clean()  # nothing edited yet; the file itself is untouched
        self.document.dirty = False
        self._show_notes(path, notes, 20000)
        return True

    def modality(self) -> str:
        """The open image's modality, "CT" also for header-less images with HU values."""
        if self.document is None:
            return ""
        return effective_modality(self.document.volume.modality, self.document.volume.array)

    def show_error(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)
        QtWidgets.QMessageBox.critical(self, title, message)

    def _remember(self, path: str) -> None:
        add_recent_file(self.settings, path)
        self._fill_recent()

    # --- window/level and display --------------------------------------------------------------
    def apply_preset(self, name: str) -> None:
        if self.document is None:
            return
        if name == AUTO_PRESET:
            self.state.set_window(auto_window(self.document.volume.array))
        elif name in CT_PRESETS:
            self.state.set_window(WindowLevel(*CT_PRESETS[name]))
        else:
            raise ValueError(f"unknown window preset {name!r}")

    def show_goto(self):
        """View > Go to...: jump the crosshair to a typed voxel or world position. One dialog
        per window (made when first asked for): it keeps the last mode and text."""
        from viewer.qt.goto_dialog import GotoDialog, show_goto

        if self.goto_dialog is None:
            self.goto_dialog = GotoDialog(self)
        return show_goto(self.goto_dialog)

    def set_layout(self, name: str, main_view: str | None = None) -> None:
        self.grid.set_layout(name, main_view)
        self.settings.setValue("layout", name)
        self.settings.setValue("main_view", self.grid.main_view)

    def _toggle_maximise(self, view: str) -> None:
        self.grid.toggle_maximise(view)

    def _show_hover(self, info: dict | None) -> None:
        self.status_label.setText(hover_text(info, self.document))

    # --- menus and toolbar ---------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, checkable=False, checked=False):
        a = QtWidgets.QAction(text, self)
        if shortcut:
            a.setShortcut(QtGui.QKeySequence(shortcut))
        a.setCheckable(checkable)
        if checkable:
            a.setChecked(checked)
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&Open image...", self._open_file_dialog, "Ctrl+O")
        self._action(f, "Open &DICOM folder...", self._open_folder_dialog, "Ctrl+D")
        self._action(f, "Open &label...", self._open_label_dialog, "Ctrl+L")
        self._action(f, "&Export...", self._open_export_dialog, "Ctrl+E")
        self.recent_menu = f.addMenu("Recent files")
        f.addSeparator()
        self._action(f, "&Quit", self.close, "Ctrl+Q")
        v = self.view_menu = mb.addMenu("&View")
        lay = v.addMenu("Layout")
        self.layout_actions = {}
        group = QtWidgets.QActionGroup(self)
        for name in LAYOUTS:
            a = self._action(
                lay, name, lambda on, n=name: on and self.set_layout(n), checkable=True
            )
            group.addAction(a)
            self.layout_actions[name] = a
        self.preset_menu = v.addMenu("Window/level preset")
        st = self.state
        self._action(v, "Invert", lambda on: st.set_display(invert=on), "I", True)
        self._action(v, "Interpolate", lambda on: st.set_display(interpolate=on), None, True)
        self._action(
            v,
            "Radiological (R on left)",
            lambda on: st.set_display(radiological=on),
            None,
            True,
            True,
        )
        v.addSeparator()
        self._action(
            v, "Show labels", lambda on: st.set_overlay(overlay_visible=on), "L", True, True
        )
        self._action(v, "Label outline", lambda on: st.set_overlay(outline=on), "O", True)
        self._action(v, "Reset zoom", self._reset_zoom, "R")
        self.goto_action = self._action(v, "&Go to...", self.show_goto, "Ctrl+G")
        self.panels_menu = v.addMenu("Panels")
        if self._with_3d:
            self.menu_3d = mb.addMenu("&3D")
            # filled when first opened: the preset names live with VTK, imported after start-up
            self.menu_3d.aboutToShow.connect(self._fill_3d_menu)
        self._fill_recent()

    def _build_toolbar(self) -> None:
        tb = self.toolbar = self.addToolBar("Main")  # tools add their actions (ToolRegistry)
        tb.setObjectName("toolbar_main")  # saveState needs the name
        tb.addAction("Open", self._open_file_dialog)
        tb.addSeparator()
        for name in LAYOUTS:
            tb.addAction(name, lambda n=name: self.set_layout(n))
        tb.addSeparator()
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.setToolTip("Window/level preset")
        self.preset_box.setPlaceholderText("Window/level")  # shown while no preset matches
        self.preset_box.activated[int].connect(
            lambda i: self.apply_preset(self.preset_box.itemData(i))
        )
        self.state.events.window.connect(self._show_preset)
        tb.addWidget(self.preset_box)
        tb.addWidget(QtWidgets.QLabel(" Label opacity "))
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(int(self.state.overlay_opacity * 100))
        self.opacity_slider.setMaximumWidth(120)
        self.opacity_slider.valueChanged.connect(
            lambda v: self.state.set_overlay(overlay_opacity=v / 100.0)
        )
        tb.addWidget(self.opacity_slider)
        self._fill_presets()

    def _fill_3d_menu(self) -> None:
        if self.menu_3d.actions():
            return
        from viewer.qt.vtk_scene import CAMERA_PRESETS, VOLUME_PRESETS

        m3 = self.menu_3d
        for name in VOLUME_PRESETS:
            self._action(m3, f"Volume: {name}", lambda n=name: self.view_3d.set_preset(n))
        m3.addSeparator()
        for name in CAMERA_PRESETS:
            self._action(m3, f"View from {name}", lambda n=name: self.view_3d.camera_preset(n))
        self._action(m3, "Reset camera", lambda: self.view_3d.reset_camera())

    def _fill_presets(self) -> None:
        names = presets_for(self.modality())
        self.preset_box.clear()
        for name in names:
            self.preset_box.addItem(preset_label(name), name)
        self._show_preset()
        self.preset_menu.clear()
        for name in names:
            self.preset_menu.addAction(preset_label(name), lambda n=name: self.apply_preset(n))

    def _show_preset(self) -> None:
        """Show the CT preset equal to the current window (none matches: the placeholder)."""
        window = self.state.window
        match = [n for n, wl in CT_PRESETS.items() if WindowLevel(*wl) == window]
        index = self.preset_box.findData(match[0]) if match else -1
        if index != self.preset_box.currentIndex():
            self.preset_box.setCurrentIndex(index)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in recent_files(self.settings):
            self.recent_menu.addAction(p, lambda p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent_files(self.settings)))

    def _reset_zoom(self) -> None:
        for sv in self.slice_views.values():
            sv.reset_zoom()

    def _open_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            "Open image",
            "",
            "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm);;All files (*)",
        )
        if path:
            self.open_path(path)

    def _open_folder_dialog(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if path:
            self.open_dicom_folder(path)

    def _open_label_dialog(self) -> None:
        from viewer.io.labels.registry import open_filter

        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open label", "", open_filter())
        if path:
            self.open_label(path)

    def _open_export_dialog(self) -> None:
        from viewer.qt.export_dialog import open_export_dialog

        self.export_dialog = open_export_dialog(self)

    # --- drag and drop, settings -----------------------------------------------------------------
    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_path(paths[0])

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window_geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        layout = str(s.value("layout", "2x2"))
        main_view = str(s.value("main_view", "axial"))
        if layout not in LAYOUTS or main_view not in self.grid.views:
            layout, main_view = "2x2", "axial"
        self.grid.set_layout(layout, main_view)
        self.layout_actions[layout].setChecked(True)
        self.state.radiological = str(s.value("radiological", "true")).lower() == "true"

    def _default_geometry(self) -> None:
        """SCREEN_FRACTION of the screen's available area (at least 1024 x 700 where the screen
        has room), centred."""
        screen = QtWidgets.QApplication.primaryScreen()
        if screen is None:
            self.resize(1280, 800)
            return
        avail = screen.availableGeometry()
        w = min(max(int(avail.width() * SCREEN_FRACTION), 1024), avail.width())
        h = min(max(int(avail.height() * SCREEN_FRACTION), 700), avail.height())
        self.resize(w, h)
        self.move(avail.center() - QtCore.QPoint(w // 2, h // 2))

    def restore_dock_state(self) -> None:
        """Call after other parts added their panels, so their docks go back where they were.
        A state saved by an older dock arrangement (another DOCK_STATE_VERSION) is ignored."""
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state, DOCK_STATE_VERSION)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:  # noqa: N802
        s = self.settings
        s.setValue("window_geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState(DOCK_STATE_VERSION))
        s.setValue("layout", self.grid.layout_name)
        s.setValue("main_view", self.grid.main_view)
        s.setValue("radiological", "true" if self.state.radiological else "false")
        s.sync()
        super().closeEvent(ev)
        # the close is final here (an unsaved-changes Cancel stops the event before it): free
        # the views' scenes and GL context in a fixed order rather than at garbage collection
        for sv in self.slice_views.values():
            sv.release()
        if self._view_3d is not None:
            self._view_3d.release()
        self.closed.emit()


def document_summary(document: Document | None) -> str:
    """Status-bar text for a newly shown document: its path, modality, grid and spacing."""
    if document is None:
        return "Open an image: File > Open, or drop a file here"
    vol = document.volume
    nz, ny, nx = vol.geometry.shape_zyx
    sx, sy, sz = vol.geometry.spacing
    where = vol.source_path or vol.name or "image"  # the path: many files are "image.nii.gz"
    what = f"{vol.modality} " if vol.modality else ""
    return f"{where}: {what}{nx} x {ny} x {nz} voxels of {sx:.4g} x {sy:.4g} x {sz:.4g} mm"


def hover_text(info: dict | None, document: Document | None) -> str:
    """Status-bar text: voxel index (x, y, z), world position (LPS mm) and value (HU for CT)."""
    if info is None or document is None:
        return ""
    z, y, x = info["voxel"]
    wx, wy, wz = info["world"]
    value = info["value"]
    if np.ndim(value) == 0:
        v = float(value)
        value_text = f"{v:.0f}" if v == int(v) else f"{v:.4g}"
        if document.volume.modality.upper() == "CT":
            value_text += " HU"
    else:
        value_text = "(" + ", ".join(str(c) for c in np.asarray(value).tolist()) + ")"
    text = (
        f"voxel ({x}, {y}, {z})   world ({wx:.1f}, {wy:.1f}, {wz:.1f}) mm LPS   value {value_text}"
    )
    if info.get("label"):
        seg = document.segments.get(info["label"])
        text += f"   label {info['label']}" + (f" {seg.name}" if seg else "")
    return text


class _FirstPaint(QtCore.QObject):
    """Calls `callback` once, at the first paint of `widget`."""

    def __init__(self, widget: QtWidgets.QWidget, callback) -> None:
        super().__init__(widget)
        self.callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QtCore.QEvent.Paint:
            obj.removeEventFilter(self)
            self.callback()
        return False


def _saves_to(path: str) -> bool:
    """Whether Ctrl+S can write labels back to `path` (its format is one RadLabel writes)."""
    from viewer.io.labels.registry import save_format

    try:
        save_format(path)
    except RadLabelError:
        return False
    return True


def _install_once(what: str, current, new):
    if current is not None and current is not new:
        raise RuntimeError(f"the window has its {what} installed already")
    return new


def _placeholder(text: str) -> QtWidgets.QWidget:
    w = QtWidgets.QLabel(text)
    w.setAlignment(QtCore.Qt.AlignCenter)
    return w
