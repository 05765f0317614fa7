"""Auto-segment's landing step: mapping a model's label map onto the document
(`auto_result_command`, computed on the background job's thread) and pushing it as one undo step
(the only part on the UI thread), then undoing it, on a CT-sized grid (512 x 512 x N, default N = 300) with a locked segment. Prints seconds and
the process's peak memory growth. Usage: python benchmarks/bench_auto_segment_merge.py [--slices N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.commands import History  # noqa: E402
from viewer.commands.auto_result import auto_result_command  # noqa: E402
from viewer.model import Geometry, LabelMap, Volume  # noqa: E402
from viewer.model.document import Document  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--slices", type=int, default=300)
    args = ap.parse_args()
    shape = (args.slices, 512, 512)
    geo = Geometry(shape, (0.8, 0.8, 1.5))
    labels = np.zeros(shape, np.uint16)
    labels[:, 100:200, 100:200] = 7  # a locked structure
    doc = Document(Volume(np.zeros(shape, np.int16), geo), LabelMap(geo, labels))
    doc.segments.get(7).locked = True
    zz, yy, xx = np.ogrid[: shape[0], : shape[1], : shape[2]]
    result = np.zeros(shape, np.uint16)
    result[(yy - 256) ** 2 + (xx - 200) ** 2 < 90**2 + 0 * zz] = 1  # "liver"
    result[(yy - 300) ** 2 + (xx - 380) ** 2 < 40**2 + 0 * zz] = 2  # "spleen"
    history = History(doc)
    base = peak_mb()
    t0 = time.perf_counter()
    command, report = auto_result_command(doc, result, {1: "Liver", 2: "Spleen"}, "bench")
    t1 = time.perf_counter()
    history.push(command)
    t2 = time.perf_counter()
    history.undo()
    t3 = time.perf_counter()
    print(f"grid {shape[2]} x {shape[1]} x {shape[0]} ({np.prod(shape) / 1e6:.0f} M voxels)")
    print(
        f"merge (build the command): {t1 - t0:.2f} s; apply: {t2 - t1:.2f} s; undo: {t3 - t2:.2f} s"
    )
    print(f"changed voxels {report.changed:,}; undo entry {command.nbytes() / 1e6:.1f} MB")
    print(
        f"peak memory growth {peak_mb() - base:.0f} MB (labels alone {labels.nbytes / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
