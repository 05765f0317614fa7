"""Surface meshes of segments (marching cubes) written as STL or OBJ in world LPS millimetres.

Files carry Slicer's `SPACE=LPS` marker so 3D Slicer places them on the image. Triangles are
wound so that normals point out of the segment whatever the image orientation.

Every surface is a closed 2-manifold: the mask is padded by one voxel (so it closes at the image
border) and meshed with Lorensen's marching cubes, whose case table resolves ambiguous faces the
same way from both sides. Lewiner's variant (scikit-image's default) decides the face saddle of a
binary mask (exactly at the 0.5 level) differently in the two cubes sharing a face, which gives
edges shared by four triangles where voxels touch diagonally. On a binary mask every vertex is
the midpoint of one lattice edge, so vertices are unique by position (STL keeps no indices) and
the mesh is checked before it is written.

Marching cubes cuts every voxel corner, so a surface through voxel-sized or thin parts encloses
far less than the voxels do (a lone voxel: a sixth). A segment whose surface misses its voxel
volume by more than VOLUME_TOLERANCE is meshed again on the mask upsampled 2x, 4x, 8x (nearest
neighbour: the same voxels, finer lattice), which shrinks the corner loss with the factor; blob-
like segments stay at 1x and keep their triangle count.

An export of several surfaces is all or none: they are written and checked in one hidden folder
and renamed into place together, so a full disk or a cancel never mixes old and new files.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
from skimage.measure import marching_cubes

from viewer.errors import ExportCancelled, SaveError
from viewer.io.atomic_save import atomic_write, atomic_write_bytes
from viewer.io.write_check import WriteCheckError
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

MESH_FORMATS = ("stl", "obj")
VOLUME_TOLERANCE = 0.1  # enclosed volume within 10 % of the voxel volume
UPSAMPLING = (1, 2, 4, 8)  # lattice refinements tried in turn until the volume is within it
MAX_UPSAMPLED = 256**3  # voxels of a refined crop: the memory a refinement may take


def segment_mesh(labels: LabelMap, value: int) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (N, 3) world LPS mm, triangles (M, 3) vertex indices) of one label value.

    Empty arrays when the segment is empty.
    """
    mask = labels.array == value
    if not mask.any():
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    hits = [np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != k)))[0] for k in range(3)]
    lo = np.array([h[0] for h in hits])
    hi = np.array([h[-1] + 1 for h in hits])
    crop = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    voxels = int(crop.sum())
    for factor in UPSAMPLING:
        verts_zyx, faces = _closed_surface(crop, factor, where=f"segment {value}")
        ratio = abs(mesh_volume_mm3(verts_zyx, faces)) / voxels
        if abs(ratio - 1.0) <= VOLUME_TOLERANCE or crop.size * (2 * factor) ** 3 > MAX_UPSAMPLED:
            break
    verts_zyx += lo
    world = labels.geometry.index_to_world(verts_zyx)
    # scikit-image's winding is outward once the (z, y, x) vertices are read as (x, y, z); a
    # direction*spacing matrix with a negative determinant mirrors that, so undo it.
    g = labels.geometry
    det = np.linalg.det(g.direction @ np.diag(g.spacing))
    if det < 0:
        faces = faces[:, ::-1]
    return world, faces.astype(np.int64)


def _closed_surface(crop: np.ndarray, factor: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Closed checked surface of a boolean crop meshed on a lattice `factor` times finer;
    vertices in the crop's own (z, y, x) index coordinates."""
    fine = crop
    for axis in range(3):
        fine = np.repeat(fine, factor, axis=axis)
    padded = np.pad(fine, 1).astype(np.float32)  # closed surfaces at the crop border
    verts, faces, _normals, _values = marching_cubes(padded, level=0.5, method="lorensen")
    verts, faces = _merge_vertices(verts, faces)  # exact: before any scaling
    check_closed_surface(faces, where=where)
    # fine lattice index u (padded: u + 1) -> crop index: voxel centres stay voxel centres
    return (verts - 1 + 0.5) / factor - 0.5, faces


def _merge_vertices(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One vertex per position (exact: binary-mask vertices are lattice-edge midpoints), and no
    triangle that collapsed onto fewer than three vertices."""
    unique, inverse = np.unique(verts, axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[faces]
    keep = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    return unique, faces[keep]


def check_closed_surface(faces: np.ndarray, where: str = "surface") -> None:
    """Raise SaveError unless every edge borders exactly two triangles that traverse it in
    opposite directions (a closed, consistently wound 2-manifold)."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    _pairs, counts = np.unique(directed, axis=0, return_counts=True)
    _edges, shared = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    if (shared != 2).any() or (counts != 1).any():
        raise SaveError(
            f"the {where} mesh is not a closed surface ({int((shared != 2).sum())} open or "
            f"non-manifold edges, {int((counts != 1).sum())} inconsistently wound)",
            where,
        )


def mesh_volume_mm3(verts: np.ndarray, faces: np.ndarray) -> float:
    """Signed enclosed volume (positive when normals point outwards)."""
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def stl_bytes(verts: np.ndarray, faces: np.ndarray, name: str = "") -> bytes:
    """Binary STL (little-endian float32), header marked SPACE=LPS."""
    tri = verts[faces].astype(np.float32)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    n = (n / np.where(length > 0, length, 1)).astype(np.float32)
    record = np.zeros(len(faces), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    record["n"], record["v"] = n, tri
    header = f"SPACE=LPS RadLabel {name}".encode("ascii", "replace")[:80].ljust(80, b" ")
    return header + struct.pack("<I", len(faces)) + record.tobytes()


def obj_bytes(verts: np.ndarray, faces: np.ndarray, name: str = "") -> bytes:
    """Wavefront OBJ with one named object, comment-marked SPACE=LPS."""
    lines = ["# SPACE=LPS", "# RadLabel segment surface, millimetres", f"o {name or 'segment'}"]
    lines += [f"v {x:.5f} {y:.5f} {z:.5f}" for x, y, z in verts]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_stl(path: str | Path, verts: np.ndarray, faces: np.ndarray, name: str = "") -> Path:
    """One binary STL file, written atomically."""
    return atomic_write_bytes(path, stl_bytes(verts, faces, name))


def write_obj(path: str | Path, verts: np.ndarray, faces: np.ndarray, name: str = "") -> Path:
    """One OBJ file, written atomically."""
    return atomic_write_bytes(path, obj_bytes(verts, faces, name))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", name).strip("_") or "segment"


def mesh_file_names(
    labels: LabelMap, segments: SegmentTable | None = None, fmt: str = "stl"
) -> dict[int, tuple[str, str]]:
    """label value -> (segment name, file name `<id>_<name>.<fmt>`) of every non-empty segment."""
    out = {}
    for value in labels.values():
        seg = segments.get(value) if segments is not None else None
        name = seg.name if seg is not None else f"Segment {value}"
        out[value] = (name, f"{value}_{_safe(name)}.{fmt}")
    return out


def export_meshes(
    labels: LabelMap,
    out_dir: str | Path,
    segments: SegmentTable | None = None,
    fmt: str = "stl",
    should_stop: Callable[[], bool] | None = None,
) -> list[Path]:
    """One file per non-empty segment: `<id>_<name>.<fmt>` in `out_dir`, all or none: a failure
    or a cancel (`should_stop()` is asked before each surface) leaves `out_dir` as it was."""
    if fmt not in MESH_FORMATS:
        raise SaveError(f"mesh format must be one of {MESH_FORMATS}, got '{fmt}'", out_dir)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"cannot create the folder ({e.strerror or e})", out) from e
    names = mesh_file_names(labels, segments, fmt)
    if not names:
        raise SaveError("the label map is empty: no surfaces to export", out)
    encode = stl_bytes if fmt == "stl" else obj_bytes
    files = [file_name for _name, file_name in names.values()]
    done: list[str] = []

    def write_all(anchor_tmp: str) -> None:
        # every surface goes into the one hidden folder `atomic_write` made; they are renamed
        # into `out_dir` together only when all are written and checked, so a failure or a
        # cancel partway never leaves this export's files mixed with an earlier export's
        folder = os.path.dirname(anchor_tmp)
        for value, (name, file_name) in names.items():
            if should_stop is not None and should_stop():
                raise _Stopped
            data = encode(*segment_mesh(labels, value), name)
            path = os.path.join(folder, file_name)
            with open(path, "wb") as f:
                f.write(data)
            if os.path.getsize(path) != len(data):
                raise WriteCheckError(
                    f"{file_name}: wrote {os.path.getsize(path)} of {len(data)} bytes"
                )
            done.append(file_name)

    # the last file is the anchor: `atomic_write` moves the others first, then it
    try:
        atomic_write(out / files[-1], write_all)
    except SaveError as e:
        if isinstance(e.__cause__, _Stopped):
            raise ExportCancelled(
                f"export cancelled after {len(done)} of {len(names)} surfaces: none written", out
            ) from None
        raise
    return [out / f for f in files]


class _Stopped(Exception):
    """`should_stop()` said yes between two surfaces."""
