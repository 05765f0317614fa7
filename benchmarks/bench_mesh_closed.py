"""Mesh closure over many random masks: edges not shared by exactly two triangles (by corner
position, as in an STL file), repeated directed edges, and mesh/voxel volume, for scikit-image's
default Lewiner marching cubes (what the exporter used before) and for `segment_mesh` now.

Run: `.venv/bin/python benchmarks/bench_mesh_closed.py [N]` (N masks of each kind, default 50)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.measure import marching_cubes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewer.io.mesh_export import mesh_volume_mm3, segment_mesh  # noqa: E402
from viewer.model.geometry import Geometry  # noqa: E402
from viewer.model.labelmap import LabelMap  # noqa: E402


def edge_problems(verts: np.ndarray, faces: np.ndarray) -> tuple[int, int]:
    corners = verts[faces].reshape(-1, 3).astype(np.float32)
    _u, inv = np.unique(corners, axis=0, return_inverse=True)
    f = inv.reshape(-1, 3)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    _d, dc = np.unique(directed, axis=0, return_counts=True)
    _e, ec = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    return int((ec != 2).sum()), int((dc != 1).sum())


def masks(n: int):
    rng = np.random.default_rng(0)
    for _ in range(n):
        yield "noise", rng.random((30, 30, 30)) < rng.uniform(0.2, 0.8)
    for _ in range(n):
        f = ndimage.gaussian_filter(rng.random((30, 30, 30)), rng.uniform(1.5, 3.0))
        yield "blob", f > np.quantile(f, rng.uniform(0.4, 0.9))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    stats: dict[tuple[str, str], list] = {}
    for kind, mask in masks(n):
        labels = LabelMap(Geometry((30, 30, 30)), mask.astype(np.uint16))
        voxels = float(mask.sum())
        v, f = marching_cubes(np.pad(mask, 1).astype(np.float32), 0.5)[:2]  # before: lewiner
        v = v[:, ::-1]  # (z, y, x) -> (x, y, z): the exporter's convention, outward winding
        before = (*edge_problems(v, f), mesh_volume_mm3(v, f) / voxels)
        v, f = segment_mesh(labels, 1)
        after = (*edge_problems(v, f), mesh_volume_mm3(v, f) / voxels)
        for method, r in (("lewiner (before)", before), ("segment_mesh (now)", after)):
            stats.setdefault((kind, method), []).append(r)
    print(f"{n} random 30^3 masks of each kind")
    print("kind   method               bad edges (sum, masks>0)  wound twice  volume ratio")
    for (kind, method), rows in stats.items():
        a = np.array(rows)
        print(
            f"{kind:6} {method:20} {int(a[:, 0].sum()):8d} {int((a[:, 0] > 0).sum()):6d}"
            f"          {int(a[:, 1].sum()):8d}  {a[:, 2].min():.3f}..{a[:, 2].max():.3f}"
        )


if __name__ == "__main__":
    main()
