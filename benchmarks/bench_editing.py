"""Editing benchmark: brush/sphere dab latency, undo of a whole-volume edit, history memory
after 200 strokes, label save and autosave times, on mr_head_120_slices (512x512x120; synthetic
when the shared data is absent) and on a synthetic 512x512x400 volume.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_editing.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.commands import History, MaskMode, edit_from_mask  # noqa: E402
from viewer.model import Geometry, Volume  # noqa: E402
from viewer.model.document import Document  # noqa: E402
from viewer.tools.base import ViewEvent  # noqa: E402
from viewer.tools.brush import BrushSettings, BrushTool  # noqa: E402
from viewer.tools.editor_state import EditorState  # noqa: E402

MR_HEAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "dicom" / "mr_head_120_slices"


def synthetic(shape, spacing=(0.41, 0.41, 1.5)) -> Volume:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 1000, size=shape, dtype=np.int16)
    return Volume(arr, Geometry(shape, spacing=spacing), name=f"synthetic {shape}")


def load_mr_head() -> Volume:
    try:
        from viewer.io import load_volume

        vol = load_volume(str(MR_HEAD))
        vol.name = "mr_head_120_slices"
        return vol
    except Exception as e:  # absent data or loader: same size, synthetic
        print(f"  (mr_head_120_slices not loaded: {e}; using a synthetic volume)")
        return synthetic((120, 512, 512))


def ms(t: float) -> str:
    return f"{t * 1000:.2f} ms"


def bench(vol: Volume) -> None:
    doc = Document(vol)
    seg = doc.segments.add("Lesion")
    state = EditorState(active_segment_id=seg.id)
    h = History(doc)
    z, y, x = (s // 2 for s in vol.geometry.shape_zyx)
    print(f"\n{vol.name}: {vol.geometry.shape_zyx[::-1]} (x, y, z), spacing {vol.geometry.spacing}")

    for label, settings in (
        ("2D brush dab, 10 mm", BrushSettings(radius_mm=5.0)),
        ("3D sphere dab, 10 mm", BrushSettings(radius_mm=5.0, sphere=True)),
        ("3D sphere dab, 20 mm", BrushSettings(radius_mm=10.0, sphere=True)),
    ):
        tool = BrushTool(doc, state, settings)
        h.push(tool.on_press(ViewEvent((z, y - 100, x - 100), 0)))
        times = []
        for i in range(100):  # each move paints fresh voxels (worst case: nothing to skip)
            ev = ViewEvent((z, y - 100 + 2 * i, x - 100 + 2 * i), 0)
            t0 = time.perf_counter()
            h.push(tool.on_move(ev))
            times.append(time.perf_counter() - t0)
        tool.on_release(ev)
        print(f"  {label}: median {ms(np.median(times))}, p95 {ms(np.percentile(times, 95))}")
        h.undo()

    # whole-volume operation: threshold the whole image into the segment, then undo it
    full = (0, 0, 0, *vol.geometry.shape_zyx)
    img = vol.array
    t0 = time.perf_counter()
    mask = img > np.percentile(img[::4, ::8, ::8], 70)
    cmd = edit_from_mask(doc, full, mask, seg.id, MaskMode.ADD, name="Threshold")
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    h.push(cmd)
    t_do = time.perf_counter() - t0
    changed = cmd.count
    t0 = time.perf_counter()
    h.undo()
    t_undo = time.perf_counter() - t0
    t0 = time.perf_counter()
    h.redo()
    t_redo = time.perf_counter() - t0
    print(
        f"  whole-volume edit ({changed / 1e6:.1f} M voxels changed, {cmd.nbytes() / 1e6:.1f} MB"
        f" held): build {ms(t_build)}, do {ms(t_do)}, undo {ms(t_undo)}, redo {ms(t_redo)}"
    )
    h.undo()
    h.clear()

    # 200 strokes of 10 moves each, 10 mm brush
    tool = BrushTool(doc, state, BrushSettings(radius_mm=5.0))
    rng = np.random.default_rng(1)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    shape = vol.geometry.shape_zyx
    for _ in range(200):
        zz = int(rng.integers(0, shape[0]))
        p = rng.uniform(30, np.array(shape[1:]) - 30)
        h.push(tool.on_press(ViewEvent((zz, *p), 0)))
        for _ in range(10):
            p = np.clip(p + rng.normal(0, 8, 2), 0, np.array(shape[1:]) - 1)
            h.push(tool.on_move(ViewEvent((zz, *p), 0)))
        h.push(tool.on_release(ViewEvent((zz, *p), 0)))
    elapsed = time.perf_counter() - t0
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(
        f"  200 strokes ({len(h.undo_names())} undo entries, {elapsed / 200 * 1000:.1f} ms/stroke):"
        f" history accounts {h.nbytes() / 1e6:.2f} MB, traced {held / 1e6:.2f} MB"
    )

    # saving labels
    with tempfile.TemporaryDirectory() as tmp:
        try:
            from viewer.io.labels.load_save import save_labels

            for suffix in (".nii.gz", ".nrrd"):
                t0 = time.perf_counter()
                save_labels(Path(tmp) / f"labels{suffix}", doc.labels, doc.segments)
                print(f"  save labels {suffix} (atomic): {ms(time.perf_counter() - t0)}")
        except ImportError as e:
            print(f"  save labels: skipped ({e})")
        os.environ["RADLABEL_DATA_DIR"] = tmp
        from viewer.services.autosave import AutosaveService

        svc = AutosaveService(doc)
        t0 = time.perf_counter()
        svc.save_now()
        t_auto = time.perf_counter() - t0
        size = (svc.session.folder / "labels.bin").stat().st_size
        svc.stop(clean=True)
        print(f"  autosave snapshot: {ms(t_auto)} ({size / 1e6:.2f} MB on disk)")


def main() -> None:
    print("bench_editing: targets dab <= 5 ms, sphere <= 20 ms, undo <= 150 ms, history <= 50 MB")
    bench(load_mr_head())
    bench(synthetic((400, 512, 512)))


if __name__ == "__main__":
    main()
