"""Project workspace operations on a local disk: what a labelling UI waits for.

Milliseconds per add_case (a 64x128x128 int16 image referenced, and copied), save_label
(draft), submit, cases(), next_case() on a project of N cases, the time RetrainJob.start()
takes to return (the worker then runs on its own: the UI never waits for it) and the
throughput of two instances submitting at once (spawned processes).

Run: `.venv/bin/python benchmarks/bench_project.py [--cases 40]`
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from viewer.io import save_labels, save_volume  # noqa: E402
from viewer.model.geometry import Geometry  # noqa: E402
from viewer.model.labelmap import LabelMap  # noqa: E402
from viewer.project import LabelDef, Project  # noqa: E402

GRID = Geometry((64, 128, 128), (0.8, 0.8, 2.0))


def _label(i: int) -> np.ndarray:
    z, y, x = np.ogrid[:64, :128, :128]
    lab = np.zeros(GRID.shape_zyx, np.uint16)
    lab[(z - 32) ** 2 + (y - 60 - i % 8) ** 2 + (x - 64) ** 2 <= 400] = 1
    return lab


def _ms(times: list[float]) -> str:
    return f"median {1000 * statistics.median(times):7.1f} ms, max {1000 * max(times):7.1f} ms"


def _submit_all(folder: str, ids: list[str], user: str, start) -> None:
    start.wait()
    project = Project.open(folder)
    for cid in ids:
        project.submit(cid, _label(1), user=user, time_spent_s=1.0, clicks=1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=40)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_project."))
    try:
        rng = np.random.default_rng(0)
        image = tmp / "image.nii.gz"
        save_volume(rng.normal(0, 50, GRID.shape_zyx).astype(np.int16), GRID, image)
        label = tmp / "label.nii.gz"
        save_labels(label, LabelMap(GRID, _label(0)))
        project = Project.create(tmp / "p", "bench", [LabelDef(1, "organ", (255, 0, 0))])
        add, add_copy, draft, submit = [], [], [], []
        for i in range(args.cases):
            t = time.perf_counter()
            project.add_case(image, label if i % 2 else None, patient_id=f"p{i}")
            add.append(time.perf_counter() - t)
        for _ in range(5):
            t = time.perf_counter()
            project.add_case(image, copy=True)
            add_copy.append(time.perf_counter() - t)
        ids = [c.case_id for c in project.cases()]
        for cid in ids[: args.cases // 2]:
            t = time.perf_counter()
            project.save_label(cid, "draft", _label(2), user="ann")
            draft.append(time.perf_counter() - t)
            t = time.perf_counter()
            project.submit(cid, _label(3), user="ann", time_spent_s=1.0, clicks=2)
            submit.append(time.perf_counter() - t)
        listing, nxt = [], []
        for _ in range(5):
            t = time.perf_counter()
            project.cases()
            listing.append(time.perf_counter() - t)
            t = time.perf_counter()
            project.next_case()
            nxt.append(time.perf_counter() - t)
        n = len(ids)
        print(f"add_case (referenced, label read and checked) {_ms(add)}")
        print(f"add_case --copy                               {_ms(add_copy)}")
        print(f"save_label draft                              {_ms(draft)}")
        print(f"submit (final + Dice to original)             {_ms(submit)}")
        print(f"cases() of {n:3d} cases                           {_ms(listing)}")
        print(f"next_case() of {n:3d} cases                       {_ms(nxt)}")

        from viewer.project.retrain import RetrainJob

        t = time.perf_counter()
        job = RetrainJob.start(project.folder, minutes=1, threads=1, max_steps=1)
        started = time.perf_counter() - t
        job.cancel()
        job.wait(300)
        print(f"RetrainJob.start() returned after             {1000 * started:7.1f} ms")

        rest = [c for c in ids[args.cases // 2 :]]
        ctx = mp.get_context("spawn")
        start = ctx.Event()
        procs = [
            ctx.Process(target=_submit_all, args=(str(project.folder), rest[k::2], u, start))
            for k, u in enumerate(("ann", "bob"))
        ]
        for p in procs:
            p.start()
        time.sleep(3.0)  # both imported and waiting
        t = time.perf_counter()
        start.set()
        for p in procs:
            p.join()
        wall = time.perf_counter() - t
        print(
            f"two instances submitting {len(rest)} cases at once: {wall:.2f} s "
            f"({len(rest) / wall:.1f} submits/s)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
