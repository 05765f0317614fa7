"""UI-thread time per brush/eraser stroke and per undo/redo in the real window (issue 13, defect 4).

A 512x512x300 CT-like volume (int16, 0.8 x 0.8 x 1.0 mm) with three segments ("Liver",
"Spleen", "Kidney") and their 3D surfaces shown. Each stroke is a real mouse drag in the axial
view (press, 8 moves, release) on the edge of the liver, alternately brush and eraser, followed
by 1.2 s of event loop so every debounced follow-up (statistics, 3D surfaces, slice overlays)
runs. Per stroke it reports the main thread's CPU time (time.thread_time over the stroke and the
settling) and the longest stall of the event loop (gap of a 5 ms heartbeat timer), p50/p95.

Run alone: QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_stroke.py
Options: --shape Z Y X, --strokes N (default 20), --profile (cProfile of the UI thread, top 25).
Target: p95 <= 30 ms of UI-thread time per stroke.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def ct_like(shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A body of soft tissue in air with a spine, and labels: liver, spleen, kidney."""
    nz, ny, nx = shape
    rng = np.random.default_rng(0)
    z, y, x = np.ogrid[:nz, :ny, :nx]
    body = ((y - ny / 2) / (0.38 * ny)) ** 2 + ((x - nx / 2) / (0.45 * nx)) ** 2 <= 1.0
    img = np.full(shape, -1000, dtype=np.int16)
    img[np.broadcast_to(body, shape)] = 40
    spine = ((y - 0.7 * ny) / (0.06 * ny)) ** 2 + ((x - nx / 2) / (0.06 * nx)) ** 2 <= 1.0
    img[np.broadcast_to(spine, shape)] = 700
    img += rng.integers(-20, 20, size=shape, dtype=np.int16)
    labels = np.zeros(shape, dtype=np.uint16)

    def ellipsoid(c, r):
        return ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1

    labels[ellipsoid((nz / 2, 0.45 * ny, 0.35 * nx), (0.3 * nz, 0.18 * ny, 0.16 * nx))] = 1
    labels[ellipsoid((nz / 2, 0.45 * ny, 0.72 * nx), (0.2 * nz, 0.09 * ny, 0.07 * nx))] = 2
    labels[ellipsoid((0.6 * nz, 0.62 * ny, 0.62 * nx), (0.12 * nz, 0.05 * ny, 0.04 * nx))] = 3
    img[labels == 1] += 30
    return img, labels


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=(300, 512, 512), metavar=("Z", "Y", "X"))
    ap.add_argument("--strokes", type=int, default=20)
    ap.add_argument("--undo", type=int, default=6, help="undo/redo pairs to time")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    faulthandler.dump_traceback_later(float(os.environ.get("BENCH_DUMP_S", "1e9")), exit=True)

    import pyqtgraph as pg
    from PyQt5 import QtCore, QtGui, QtWidgets

    from viewer.model.document import Document
    from viewer.model.geometry import Geometry
    from viewer.model.volume import Volume
    from viewer.qt.app import configure_pyqtgraph
    from viewer.qt.main_window import MainWindow
    from viewer.qt.panels import install_editing

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    configure_pyqtgraph()
    shape = tuple(args.shape)
    t0 = time.perf_counter()
    img, labels = ct_like(shape)
    geom = Geometry(shape, (0.8, 0.8, 1.0))
    doc = Document(Volume(img, geom, "CT", name="ct-like"))
    doc.replace_labels(labels)
    for sid, name in ((1, "Liver"), (2, "Spleen"), (3, "Kidney")):
        doc.segments.get(sid).name = name
    print(f"volume {shape[::-1]} (x, y, z) = {np.prod(shape) / 1e6:.1f} M voxels, built in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip

    # a throw-away settings file: QSettings saves by writing beside and renaming, so a device
    # path such as os.devnull would be replaced by a regular file (as root: /dev/null itself)
    settings_dir = tempfile.mkdtemp(prefix="radlabel-bench-")
    w = MainWindow(
        settings=QtCore.QSettings(os.path.join(settings_dir, "s.ini"), QtCore.QSettings.IniFormat)
    )
    ctl = install_editing(w, autosave=True, autosave_interval_s=30.0)
    w.resize(1600, 1000)
    w.show()
    t0 = time.perf_counter()
    w.set_document(doc)
    for _ in range(30):  # opening: first surfaces and statistics
        app.processEvents()
        time.sleep(0.05)
    print(f"opened with surfaces in {time.perf_counter() - t0:.1f} s; "
          f"3D surfaces shown: {w.view_3d.scene.surface_actor is not None}")  # fmt: skip
    ctl.set_active_segment(1)
    ctl.brush_settings.radius_mm = 5.0
    sv = w.slice_views["axial"]
    vp = sv.canvas.viewport()

    def pos(zyx):
        x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(zyx))
        return sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))

    # the 3D view's frames, timed apart: on software OpenGL (llvmpipe) a still frame with the
    # surfaces costs ~70 ms by itself (see vtk_scene.TRIANGLE_BUDGET), on a GPU a few ms
    frames = [0.0, 0.0]  # wall, UI-thread CPU
    view_render = w.view_3d.render

    def timed_render() -> None:
        t, c = time.perf_counter(), time.thread_time()
        view_render()
        frames[0] += time.perf_counter() - t
        frames[1] += time.thread_time() - c

    w.view_3d.render = timed_render
    for sig_owner in (getattr(w.view_3d, "surfaces", None),):
        if sig_owner is not None:  # the finished-signal was bound to the original method
            sig_owner.finished.disconnect()
            sig_owner.finished.connect(lambda: (w.view_3d._first_surfaces(), timed_render()))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    heart = QtCore.QTimer()
    heart.setInterval(5)
    heart.timeout.connect(beat)

    def settle(seconds: float) -> None:
        loop = QtCore.QEventLoop()  # an idle event loop costs the thread (almost) nothing
        QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec_()

    frame_s: list[float] = []

    def measure(action) -> tuple[float, float]:
        settle(0.05)
        frames[:] = [0.0, 0.0]
        gaps.clear()
        last[0] = time.perf_counter()
        heart.start()
        c0 = time.thread_time()
        action()
        settle(1.2)
        cpu = time.thread_time() - c0
        heart.stop()
        frame_s.append(tuple(frames))
        return cpu, max(gaps, default=0.0)

    def stroke(k: int) -> None:
        ctl.select_tool("eraser" if k % 2 else "brush")
        nz, ny, nx = shape
        z = nz // 2 + (k // 2) * 2 - 10
        y0 = int(0.45 * ny) - 30 + (k // 2) * 3
        x_edge = int(0.35 * nx + 0.16 * nx)  # the liver's right edge
        pts = [pos((z, y0 + 2 * i, x_edge - 6 + i)) for i in range(10)]
        QtTestMouse(vp, pts)

    def QtTestMouse(widget, pts) -> None:  # noqa: N802
        def send(kind, p, button, buttons):
            ev = QtGui.QMouseEvent(kind, QtCore.QPointF(p), button, buttons, QtCore.Qt.NoModifier)
            QtWidgets.QApplication.sendEvent(widget, ev)

        left, none = QtCore.Qt.LeftButton, QtCore.Qt.NoButton
        send(QtCore.QEvent.MouseButtonPress, pts[0], left, left)
        for p in pts[1:]:
            send(QtCore.QEvent.MouseMove, p, none, left)
            app.processEvents()
        send(QtCore.QEvent.MouseButtonRelease, pts[-1], left, none)

    idle = [measure(lambda: None)[0] for _ in range(3)]
    print(f"idle event loop, same measurement: {1000 * float(np.median(idle)):.1f} ms CPU")
    frame_s.clear()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_s, stall_s = [], []
    for k in range(args.strokes):
        cpu, stall = measure(lambda k=k: stroke(k))
        cpu_s.append(cpu)
        stall_s.append(stall)
    stroke_frames = list(frame_s)
    undo_cpu, undo_stall = [], []
    for _ in range(args.undo):
        for fn in (ctl.edit_menu.undo_action.trigger, ctl.edit_menu.redo_action.trigger):
            cpu, stall = measure(fn)
            undo_cpu.append(cpu)
            undo_stall.append(stall)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print(f"stroke ({args.strokes}, brush/eraser r=5 mm, 10 points): UI-thread CPU "
          f"p50 {pct(cpu_s, 50):.1f} ms, p95 {pct(cpu_s, 95):.1f} ms; longest event-loop stall "
          f"p50 {pct(stall_s, 50):.1f} ms, p95 {pct(stall_s, 95):.1f} ms")  # fmt: skip
    wall3d = [f[0] for f in stroke_frames]
    rest = np.array(cpu_s) - np.array([f[1] for f in stroke_frames])
    print(f"  3D view frames per stroke (wall): p50 {pct(wall3d, 50):.1f} ms, "
          f"p95 {pct(wall3d, 95):.1f} ms; UI-thread CPU besides the 3D frames: "
          f"p50 {pct(rest, 50):.1f} ms, p95 {pct(rest, 95):.1f} ms")  # fmt: skip
    print(f"undo/redo ({len(undo_cpu)}): UI-thread CPU p50 {pct(undo_cpu, 50):.1f} ms, "
          f"p95 {pct(undo_cpu, 95):.1f} ms; longest stall p50 {pct(undo_stall, 50):.1f} ms, "
          f"p95 {pct(undo_stall, 95):.1f} ms")  # fmt: skip
    print("target: p95 <= 30 ms UI-thread time per stroke")
    ctl.autosave.stop(clean=True) if ctl.autosave else None
    ctl.history.mark_clean()  # no save prompt
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
