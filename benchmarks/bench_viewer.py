"""Viewer speed on a realistic series (mr_head_120_slices, 512x512x120) with a label overlay:
slice change, crosshair move (three views redrawn), 3D frame at 512x512, start-up to a shown
window. Run alone: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_viewer.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RADLABEL_DATA_DIR", tempfile.mkdtemp(prefix="radlabel-bench-"))
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "dicom" / "mr_head_120_slices"

import numpy as np  # noqa: E402


def _stats(samples: list[float]) -> str:
    a = np.array(samples) * 1000
    return f"mean {a.mean():6.1f} ms  median {np.median(a):6.1f} ms  p95 {np.percentile(a, 95):6.1f} ms"


def startup_seconds() -> float:
    """Interpreter start to a shown, painted main window (a fresh process, as a user sees it)."""
    code = (
        "import time,sys; t0=float(sys.argv[1]);"
        "from viewer.qt.app import ensure_app, create_main_window;"
        "app=ensure_app(); w=create_main_window(); app.processEvents(); w.repaint();"
        "print(time.time()-t0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, repr(time.time())],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    from viewer.io import load_volume
    from viewer.model.document import Document
    from viewer.qt.app import ensure_app
    from viewer.qt.main_window import MainWindow
    from viewer.qt.vtk_offscreen import make_offscreen_window
    from viewer.qt.vtk_scene import Scene3D

    app = ensure_app()
    t = time.perf_counter()
    volume = load_volume(DATA)
    load_s = time.perf_counter() - t
    doc = Document(volume)
    # Synthetic overlay: bright tissue (label 1) and a central block (label 2).
    a = volume.array
    # Smoothed before thresholding so the mask is anatomy-like, not speckle.
    from scipy.ndimage import uniform_filter

    smooth = uniform_filter(a.astype(np.float32), size=5)
    labels = (smooth > np.percentile(smooth[::4, ::8, ::8], 90)).astype(np.uint16)
    z, y, x = a.shape
    labels[z // 3 : 2 * z // 3, y // 3 : 2 * y // 3, x // 3 : 2 * x // 3] = 2
    doc.replace_labels(labels)
    print(f"volume {a.shape} {a.dtype}, loaded in {load_s:.2f} s; labels {doc.labels.values()}")

    w = MainWindow()
    w.resize(1400, 1000)
    w.show()
    w.set_document(doc)
    for _ in range(3):
        app.processEvents()
    views = list(w.slice_views.values())
    ax = w.slice_views["axial"]

    # Slice change: one view moves one slice and repaints (what a wheel step costs).
    samples = []
    for i in range(120):
        t = time.perf_counter()
        ax.scroll(1 if (i // 40) % 2 == 0 else -1)
        ax.canvas.viewport().repaint()
        samples.append(time.perf_counter() - t)
    print(
        f"slice change (axial, 512x512 + overlay, repaint): {_stats(samples[5:])}  target <= 16 ms"
    )

    # Crosshair move: a drag step changes all three slices; every view re-renders and repaints.
    samples = []
    g = doc.geometry
    for i in range(60):
        idx = np.array([20 + i, 150 + 3 * i, 150 + 3 * i], dtype=float)
        t = time.perf_counter()
        w.state.set_cursor(g.index_to_world(idx))
        for sv in views:
            sv.canvas.viewport().repaint()
        samples.append(time.perf_counter() - t)
    print(
        f"crosshair move (3 views redrawn):                 {_stats(samples[3:])}  target <= 30 ms"
    )

    # 3D: frame time of the scene at a 512x512 viewport (volume + label surfaces + planes).
    rw = make_offscreen_window(512, 512)
    scene = Scene3D(rw)
    t = time.perf_counter()
    scene.set_document(doc)
    scene.set_planes(w.state.cursor_world)
    rw.Render()
    build_s = time.perf_counter() - t
    cam = scene.renderer.GetActiveCamera()
    mapper = type(scene.volume.GetMapper()).__name__
    fine, coarse = (
        a.GetMapper().GetInput().GetNumberOfCells()
        for a in (scene.surface_actor, scene.surface_actor_coarse)
    )
    print(
        f"3D scene build (volume + surfaces {fine} still / {coarse} moving triangles + first "
        f"frame): {build_s:.2f} s; default volume preset with labels: {scene.preset}"
    )
    for quality in ("interactive", "still"):
        scene.set_quality(quality)  # also picks the coarse or fine surfaces
        surfaces = scene.surface_actor_coarse if quality == "interactive" else scene.surface_actor
        for what, vol_on, surf_on in (
            ("surfaces (default)", 0, 1),
            ("volume+surfaces", 1, 1),
            ("volume only", 1, 0),
        ):
            scene.volume.SetVisibility(vol_on)
            surfaces.SetVisibility(surf_on)
            samples = []
            for _ in range(8):
                cam.Azimuth(5)
                t = time.perf_counter()
                rw.Render()
                samples.append(time.perf_counter() - t)
            rays = ""
            if vol_on and scene.software:
                m = scene.volume.GetMapper()
                rays = (
                    f", a ray per {m.GetImageSampleDistance():.2f} px, "
                    f"{m.GetSampleDistance():.2f} mm steps"
                )
            print(
                f"3D frame 512x512 {quality:11s} {what:18s} ({mapper}, software={scene.software}"
                f"{rays}): {_stats(samples[1:])}  target <= 100 ms"
            )
    w.close()

    runs = [startup_seconds() for _ in range(3)]
    print(
        f"start-up to a shown window: best {min(runs):.2f} s, runs {', '.join(f'{r:.2f}' for r in runs)}  target <= 3 s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
