"""Exported surfaces are closed, consistently wound 2-manifold solids (issue 20, item 11).

The checker here is independent of the exporter: it works on triangle corner *positions* (as
STL stores them, no shared indices), counts the triangles on every edge, checks that each
directed edge occurs once, and evaluates the generalised winding number (solid angles) at voxel
centres, which is 1 inside a correctly wound closed surface and 0 outside.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from viewer.io.mesh_export import export_meshes, mesh_volume_mm3, segment_mesh
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap

OBLIQUE = np.array(
    [[0.8, -0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, -1.0]]
)  # a rotation plus a flip: det < 0


def _by_position(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Faces re-indexed by exact corner position, as a reader of an STL file sees them."""
    corners = verts[faces].reshape(-1, 3)
    _u, inverse = np.unique(corners, axis=0, return_inverse=True)
    return inverse.reshape(-1, 3)


def _edge_problems(faces: np.ndarray) -> tuple[int, int]:
    """(edges not shared by exactly two triangles, directed edges occurring more than once)."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    _d, directed_counts = np.unique(directed, axis=0, return_counts=True)
    _e, counts = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    return int((counts != 2).sum()), int((directed_counts != 1).sum())


def _winding(verts: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Generalised winding number of the surface at each point (Van Oosterom-Strackee)."""
    out = np.zeros(len(points))
    for start in range(0, len(points), 256):
        p = points[start : start + 256, None, None, :]
        a, b, c = (verts[faces[:, k]][None] - p[:, 0] for k in range(3))
        la, lb, lc = (np.linalg.norm(v, axis=-1) for v in (a, b, c))
        det = np.einsum("...i,...i", a, np.cross(b, c))
        den = (
            la * lb * lc
            + np.einsum("...i,...i", a, b) * lc
            + np.einsum("...i,...i", a, c) * lb
            + np.einsum("...i,...i", b, c) * la
        )
        out[start : start + 256] = 2 * np.arctan2(det, den).sum(axis=1) / (4 * np.pi)
    return out


def _check_solid(labels: LabelMap, value: int, sample: np.ndarray | None = None) -> float:
    """Assert the mesh of `value` is a closed oriented solid; return mesh / voxel volume."""
    verts, faces = segment_mesh(labels, value)
    by_pos = _by_position(verts.astype(np.float32), faces)  # what an STL file holds
    assert _edge_problems(by_pos) == (0, 0)
    mask = labels.array == value
    idx = np.argwhere(np.ones(mask.shape, bool)) if sample is None else sample
    w = _winding(verts, faces, labels.geometry.index_to_world(idx.astype(float)))
    inside = mask[tuple(idx.T)]
    np.testing.assert_allclose(w, inside.astype(float), atol=1e-6)
    volume = mesh_volume_mm3(verts, faces)
    return volume / (mask.sum() * labels.geometry.voxel_volume_mm3)


def test_smallest_diagonal_case_is_a_closed_solid():
    """The issue's 4-voxel mask: Lewiner's marching cubes gave edges shared by 4 triangles."""
    a = np.zeros((3, 3, 3), np.uint16)
    for zyx in [(1, 0, 0), (1, 0, 2), (1, 1, 1), (2, 0, 1)]:
        a[zyx] = 1
    ratio = _check_solid(LabelMap(Geometry((3, 3, 3)), a), 1)
    assert 0.9 <= ratio <= 1.1


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("direction", [np.eye(3), OBLIQUE], ids=["LPS", "oblique-flipped"])
def test_random_voxel_noise_gives_closed_solids(seed, direction):
    """Voxel noise touches diagonally everywhere: every ambiguous marching-cubes case occurs."""
    rng = np.random.default_rng(seed)
    mask = rng.random((12, 12, 12)) < rng.uniform(0.3, 0.7)
    g = Geometry((12, 12, 12), (0.7, 1.1, 2.5), (-30.0, 12.0, 40.0), direction)
    ratio = _check_solid(LabelMap(g, mask.astype(np.uint16) * 3), 3)
    assert 0.9 <= ratio <= 1.1


@pytest.mark.parametrize("seed", range(5))
def test_random_blobs_are_solids_with_the_voxel_volume(seed):
    rng = np.random.default_rng(100 + seed)
    field = ndimage.gaussian_filter(rng.random((30, 30, 30)), 2.0)
    mask = field > np.quantile(field, rng.uniform(0.4, 0.8))
    g = Geometry((30, 30, 30), (0.8, 0.8, 1.5), (5.0, -7.0, 9.0), OBLIQUE)
    labels = LabelMap(g, mask.astype(np.uint16) * 2)
    sample = rng.integers(0, 30, size=(600, 3))
    ratio = _check_solid(labels, 2, sample)
    assert 0.9 < ratio < 1.1


def test_written_stl_is_closed(tmp_path):
    """The same holds for the file itself (float32 corners, no indices)."""
    rng = np.random.default_rng(7)
    mask = rng.random((10, 10, 10)) < 0.5
    labels = LabelMap(Geometry((10, 10, 10), (0.5, 0.5, 3.0)), mask.astype(np.uint16))
    (stl,) = export_meshes(labels, tmp_path, fmt="stl")
    data = stl.read_bytes()
    tri = np.frombuffer(data[84:], dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    corners = tri["v"].reshape(-1, 3).astype(np.float64)
    faces = np.arange(len(corners)).reshape(-1, 3)
    assert _edge_problems(_by_position(corners, faces)) == (0, 0)
    assert mesh_volume_mm3(corners, faces) > 0


@pytest.mark.parametrize(
    "shape_name", ["one voxel", "one-voxel line", "one-voxel sheet", "two diagonal voxels"]
)
def test_voxel_sized_and_thin_segments_keep_their_volume(shape_name):
    """Marching cubes cuts corners: a lone voxel alone encloses a sixth of itself. Thin parts
    are meshed on a finer lattice until the surface holds the voxel volume within 10 %."""
    a = np.zeros((7, 7, 7), np.uint16)
    if shape_name == "one voxel":
        a[3, 3, 3] = 1
    elif shape_name == "one-voxel line":
        a[3, 3, 1:6] = 1
    elif shape_name == "one-voxel sheet":
        a[3, 1:6, 1:6] = 1
    else:
        a[2, 2, 2] = a[3, 3, 3] = 1
    g = Geometry((7, 7, 7), (0.6, 0.9, 2.0), (1.0, 2.0, 3.0), OBLIQUE)
    ratio = _check_solid(LabelMap(g, a * 5), 5)
    assert 0.9 <= ratio <= 1.1
