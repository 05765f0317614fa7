"""`radlabel --self-test`: proves on this machine that the installed application works end to end.

Each step drives the real product (the main window off-screen, its views, the AI tool with the
shipped Paddle model in its worker process, the training code, the label writer) and checks a
real result, then prints one line with its time. The first failing step ends the run with a
non-zero exit code and its name; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEMO = "resources/demo/ct_abdomen_demo.nii.gz"
DEMO_LABEL = "resources/demo/ct_abdomen_demo_label.nii.gz"
LIVER = 5  # the demo label's liver value (resources/demo/ct_abdomen_demo_labels.json)
# the shipped model gives Dice 0.61 for one click on the demo liver (measured): far below = broken
MIN_CLICK_DICE = 0.4
AI_TIMEOUT_S = 180.0  # the worker process starts Paddle: slow on a busy machine, never minutes


class StepFailed(Exception):
    """A step's check failed; the message says what was seen."""


def _wait(app, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise StepFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def not_blank(rgb: np.ndarray, what: str, min_fraction: float = 0.05) -> str:
    """Raise unless at least `min_fraction` of the picture differs from its commonest colour
    (a blank, black or noise-free uniform picture fails); returns a short description."""
    flat = rgb.reshape(-1, rgb.shape[-1]).astype(np.int64)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    other = 1.0 - counts.max() / keys.size
    if other < min_fraction or len(values) < 16:
        raise StepFailed(
            f"{what} looks blank: {other:.1%} of its pixels differ from the background, "
            f"{len(values)} colours"
        )
    return f"{rgb.shape[1]}x{rgb.shape[0]}, {len(values)} colours"


class SelfTest:
    """The steps, sharing one window; `run()` prints a line per step and returns the exit code."""

    def __init__(self, out=None) -> None:
        self.out = out or sys.stdout
        self.tmp = tempfile.TemporaryDirectory(prefix="radlabel-selftest-")
        self.work = Path(self.tmp.name)
        self.app = None
        self.window = None
        self.editing = None
        self.ai = None
        self.truth: np.ndarray | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("window", self.step_window),
            ("load demo", self.step_load),
            ("2D views", self.step_views_2d),
            ("3D view", self.step_view_3d),
            ("3D rotate", self.step_rotate),
            ("AI click", self.step_ai_click),
            ("fine-tune", self.step_fine_tune),
            ("save label", self.step_save_label),
        ]

    def run(self) -> int:
        total = time.monotonic()
        print("RadLabel self-test", file=self.out, flush=True)
        try:
            for name, step in self.steps():
                t0 = time.monotonic()
                try:
                    detail = step()
                except Exception as e:  # any failure: name the step, one line, non-zero exit
                    dt = time.monotonic() - t0
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                    if not isinstance(e, StepFailed):
                        first = f"{type(e).__name__}: {first}"
                        log.error("self-test step %s failed\n%s", name, traceback.format_exc())
                    print(f"FAIL {name:<11} {dt:6.2f} s  {first}", file=self.out, flush=True)
                    print(f"self-test FAILED at step: {name}", file=self.out, flush=True)
                    return 1
                dt = time.monotonic() - t0
                print(f"ok   {name:<11} {dt:6.2f} s  {detail}", file=self.out, flush=True)
        finally:
            self.close()
        print(f"self-test passed in {time.monotonic() - total:.1f} s", file=self.out, flush=True)
        return 0

    # --- steps ------------------------------------------------------------------------------
    def step_window(self) -> str:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the self-test never needs a screen
        from PyQt5 import QtCore

        from viewer.qt.ai_controller import install_ai
        from viewer.qt.app import ensure_app
        from viewer.qt.main_window import MainWindow
        from viewer.qt.panels import install_editing

        # Qt's notices (no XDG runtime folder, offscreen size hints) go to the log, not the report
        QtCore.qInstallMessageHandler(lambda _kind, _ctx, msg: log.debug("Qt: %s", msg))
        self.app = ensure_app()
        # settings in the temporary folder: the self-test leaves the user's recent files alone
        settings = QtCore.QSettings(str(self.work / "settings.ini"), QtCore.QSettings.IniFormat)
        self.window = MainWindow(settings=settings)
        self.editing = install_editing(self.window, autosave=False)
        self.ai = install_ai(self.window, self.editing, engine="paddle")
        self.window.resize(1200, 900)
        self.window.show()
        _wait(self.app, lambda: self.window.view_3d is not None, 30, "the 3D view")
        return f"off-screen, {self.window.width()}x{self.window.height()}"

    def step_load(self) -> str:
        from viewer.io import load_label_for
        from viewer.qt.help_menu import bundled_file

        path = bundled_file(DEMO)
        if not self.window.open_path(str(path)):
            raise StepFailed(f"could not open {path}")
        doc = self.window.document
        shape = tuple(doc.geometry.shape_zyx)
        if shape != (30, 101, 122):
            raise StepFailed(f"{path}: shape {shape}, expected (30, 101, 122)")
        self.truth = load_label_for(doc.volume, str(bundled_file(DEMO_LABEL))).array == LIVER
        return f"{path.name} {shape[2]}x{shape[1]}x{shape[0]}"

    def step_views_2d(self) -> str:
        from viewer.qt.screenshot import qimage_to_rgb

        self.window.set_layout("2x2")
        self.app.processEvents()
        parts = []
        for name, sv in self.window.slice_views.items():
            rgb = qimage_to_rgb(sv.canvas.grab().toImage())
            not_blank(rgb, f"the {name} view")
            parts.append(f"{name} {rgb.shape[1]}x{rgb.shape[0]}")
        return ", ".join(parts)

    def step_view_3d(self) -> str:
        view = self.window.view_3d
        view.render()
        return "volume rendering " + not_blank(view.grab_pixels(), "the 3D view", 0.02)

    def step_rotate(self) -> str:
        from PyQt5 import QtCore, QtGui, QtWidgets
        from PyQt5.QtTest import QTest

        view = self.window.view_3d
        widget = getattr(view, "picture", None) or view
        cam = view.scene.renderer.GetActiveCamera()
        before_pos = np.array(cam.GetPosition())
        before = view.grab_pixels()
        start = QtCore.QPoint(widget.width() // 2, widget.height() // 2)
        dx = max(widget.width() // 6, 10)
        QTest.mousePress(widget, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, start)
        for k in range(1, 9):
            p = start + QtCore.QPoint(round(dx * k / 8), 0)
            move = QtGui.QMouseEvent(
                QtCore.QEvent.MouseMove, QtCore.QPointF(p), QtCore.Qt.NoButton,
                QtCore.Qt.LeftButton, QtCore.Qt.NoModifier,
            )  # fmt: skip
            QtWidgets.QApplication.sendEvent(widget, move)
        QTest.mouseRelease(
            widget, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, start + QtCore.QPoint(dx, 0)
        )
        self.app.processEvents()
        moved = float(np.linalg.norm(np.array(cam.GetPosition()) - before_pos))
        changed = float(np.abs(view.grab_pixels().astype(int) - before).mean())
        if moved < 1e-3 or changed < 0.5:
            raise StepFailed(f"a drag did not rotate the camera (moved {moved:.3g} mm)")
        return f"camera moved {moved:.0f} mm, picture changed {changed:.1f} grey levels/pixel"

    def step_ai_click(self) -> str:
        import pyqtgraph as pg
        from PyQt5 import QtCore
        from PyQt5.QtTest import QTest
        from scipy import ndimage

        doc = self.window.document
        self.editing.segments_panel.add_segment("Liver")
        self.ai.activate(True)
        # the liver's deepest voxel (padded: the volume's edge is not the organ's centre)
        padded = np.pad(self.truth, 1)
        dist = ndimage.distance_transform_edt(padded, sampling=doc.geometry.spacing_zyx)
        dist = dist[1:-1, 1:-1, 1:-1]
        voxel = tuple(int(v) for v in np.unravel_index(np.argmax(dist), dist.shape))
        self.window.set_layout("single", "axial")
        self.window.state.set_cursor(doc.geometry.index_to_world(voxel))
        self.app.processEvents()
        sv = self.window.slice_views["axial"]
        x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(voxel))
        pos = sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))
        t0 = time.monotonic()
        QTest.mouseClick(sv.canvas.viewport(), QtCore.Qt.LeftButton, QtCore.Qt.NoModifier, pos)
        tool = self.ai.tool
        if len(tool.clicks) != 1:
            raise StepFailed("the click did not reach the AI tool")
        # a failed click is taken back (the list empties) with the reason in the status bar
        _wait(
            self.app,
            lambda: not tool.clicks or (tool.clicks[0].done and not self.ai.busy()),
            AI_TIMEOUT_S,
            "the AI answer",
        )
        latency = time.monotonic() - t0
        if not tool.clicks:
            reason = self.window.statusBar().currentMessage() or tool.message
            raise StepFailed(f"the AI click failed: {reason}")
        engine = self.ai.service.engine
        if engine != "paddle":
            raise StepFailed(f"the Paddle model did not open (engine in use: {engine})")
        if not tool.has_preview():
            raise StepFailed(f"no segmentation came back ({tool.message})")
        pred = tool.preview
        dice = 2 * np.logical_and(pred, self.truth).sum() / (pred.sum() + self.truth.sum())
        if dice < MIN_CLICK_DICE:
            raise StepFailed(f"one click on the liver gave Dice {dice:.2f} < {MIN_CLICK_DICE}")
        QTest.keyClick(sv.canvas, QtCore.Qt.Key_Return)  # accept into the label map
        sid = self.editing.state.active_segment_id
        if not np.array_equal(doc.labels.array == sid, pred):
            raise StepFailed("accepting the AI result did not write it into the labels")
        return f"Paddle model, {int(pred.sum())} voxels, liver Dice {dice:.3f}, {latency:.1f} s"

    def step_fine_tune(self) -> str:
        from segmentation_core.encoding import robust_range
        from segmentation_core.training.dataset import TrainingCase
        from segmentation_core.training.trainer import CHECKPOINT, TrainConfig, Trainer

        logging.getLogger("segmentation_core").setLevel(logging.WARNING)
        doc = self.window.document
        image = np.asarray(doc.volume.array, dtype=np.float32)
        lo, hi = robust_range(image)
        case = TrainingCase(
            name="demo",
            image=image,
            label=self.truth.astype(np.int32) * LIVER,
            spacing_zyx=doc.geometry.spacing_zyx,
            modality=doc.volume.modality,
            lo=lo,
            hi=hi,
        )
        cfg = TrainConfig(
            patch=16, batch=1, max_steps=2, threads=1, val_every=0, max_sim_rounds=1,
            synthetic_fraction=0.0, checkpoint_every_s=1e9, lr=1e-3,
        )  # fmt: skip
        with warnings.catch_warnings():  # importing paddle warns about ccache: not for users
            warnings.simplefilter("ignore")
            trainer = Trainer([case], self.work / "train", cfg)
        before = {k: v.numpy().copy() for k, v in trainer.net.state_dict().items()}
        state = trainer.run()
        trainer.save_checkpoint()
        after = {k: v.numpy() for k, v in trainer.net.state_dict().items()}
        changed = sum(not np.array_equal(before[k], after[k]) for k in before)
        if state.step != cfg.max_steps:
            raise StepFailed(f"{state.step} training steps ran, expected {cfg.max_steps}")
        if not all(np.isfinite(v).all() for v in after.values()):
            raise StepFailed("training produced non-finite weights")
        if changed == 0:
            raise StepFailed("training steps did not change the network")
        checkpoint = self.work / "train" / CHECKPOINT
        if not checkpoint.is_file() or checkpoint.stat().st_size == 0:
            raise StepFailed(f"no checkpoint written at {checkpoint}")
        return f"{state.step} steps at 16^3, {changed}/{len(after)} tensors updated, checkpoint"

    def step_save_label(self) -> str:
        from viewer.io import load_label_for, load_volume

        doc = self.window.document
        path = self.work / "selftest_label.nii.gz"
        if not self.editing.save_labels(str(path)):
            raise StepFailed(f"could not save {path}")
        back = load_label_for(doc.volume, str(path))
        if not np.array_equal(back.array, doc.labels.array):
            raise StepFailed(f"{path} does not read back as saved")
        if not load_volume(str(path)).geometry.same_grid(doc.geometry):
            raise StepFailed(f"{path} was written on another grid (spacing, origin, direction)")
        return f"{path.name}, {int((back.array > 0).sum())} labelled voxels read back equal"

    def close(self) -> None:
        if self.ai is not None:
            self.ai.service.shutdown()
        if self.editing is not None:
            # the self-test's labels are throwaway: closing must not ask to save them (a modal
            # question off-screen would wait for ever)
            self.editing.history.mark_clean()
        if self.window is not None:
            self.window.close()
            self.window.deleteLater()
            self.app.processEvents()
        self.tmp.cleanup()


def run_self_test() -> int:
    """Entry point of `--self-test`: 0 when every step passed, 1 naming the failing step."""
    from viewer.logsetup import setup_logging

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    setup_logging(debug=False)
    return SelfTest().run()
