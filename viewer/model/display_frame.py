"""The display frame: how an image grid is laid out on screen in axial, coronal and sagittal views.

Qt-free maths shared by the slice views, the 3D view and the screenshot command.

Each array axis is matched to its nearest patient axis (L-R, P-A, I-S) by choosing, among the six
axis permutations, the one whose direction cosines have the largest total magnitude. The volume
is then viewed, without copying or resampling, as a "display array" ``D[s, p, l]`` whose axes
increase towards Superior, Posterior and Left (LPS world, reversed where the file runs the other
way). The three views are plain numpy views of ``D``:

- axial: rows run A -> P (A at the top), columns R -> L (radiological: patient right on the
  screen's left) or L -> R (neurological);
- coronal: rows run S -> I (S at the top), columns as in axial;
- sagittal: rows run S -> I, columns A -> P (anterior on the left).

Oblique images are shown on their own voxel grid along the nearest anatomical axes (no
resampling, so labels overlay voxel-exactly and no interpolation blurs the data); the edge
letters then name the patient direction nearest to each screen direction. World positions
(crosshair, status bar, 3D) always use the true direction matrix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from viewer.model.geometry import Geometry

VIEWS: tuple[str, str, str] = ("axial", "coronal", "sagittal")
# The array axis (z, y, x) each view slices along (ViewEvent.axis; the world axis when LPS).
AXIS_OF_VIEW: dict[str, int] = {view: axis for axis, view in enumerate(VIEWS)}
# One colour per plane (RGB 0-255), for its view's frame, its crosshair line and its 3D outline.
PLANE_COLOURS: dict[str, tuple[int, int, int]] = {
    "axial": (230, 70, 70),
    "coronal": (90, 200, 90),
    "sagittal": (235, 210, 60),
}
# For each LPS world axis: the letter of its positive and of its negative direction.
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


@dataclass(frozen=True)
class ViewAxes:
    """Where the display axes go in one view: the slice normal, the rows and the columns."""

    normal: int  # display axis sliced through (0 = S, 1 = P, 2 = L)
    row: int
    row_reversed: bool
    col: int
    col_reversed: bool


def view_axes(view: str, radiological: bool = True) -> ViewAxes:
    """The display-axis layout of `view` ("axial", "coronal" or "sagittal")."""
    if view == "axial":
        return ViewAxes(0, 1, False, 2, not radiological)
    if view == "coronal":
        return ViewAxes(1, 0, True, 2, not radiological)
    if view == "sagittal":
        return ViewAxes(2, 0, True, 1, False)
    raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")


def _nearest_permutation(direction: np.ndarray) -> tuple[int, int, int]:
    """perm[w] = index axis (0=x, 1=y, 2=z) closest to world axis w, maximising total |cosine|."""
    a = np.abs(direction)
    best = max(itertools.permutations(range(3)), key=lambda p: sum(a[w, p[w]] for w in range(3)))
    return tuple(int(v) for v in best)  # type: ignore[return-value]


@dataclass(frozen=True)
class DisplayFrame:
    """Maps an image grid to the display array and back.

    `src_axis[k]` is the array axis (0 = z, 1 = y, 2 = x) shown along display axis k, and
    `src_flip[k]` says whether it is reversed; display axes are (S, P, L) for k = 0, 1, 2.
    """

    geometry: Geometry
    src_axis: tuple[int, int, int]
    src_flip: tuple[bool, bool, bool]

    @classmethod
    def from_geometry(cls, geometry: Geometry) -> DisplayFrame:
        perm = _nearest_permutation(geometry.direction)
        src_axis, src_flip = [], []
        for k in range(3):
            world = 2 - k  # display axis 0 is world z (S), 1 is world y (P), 2 is world x (L)
            index_axis = perm[world]  # 0 = x, 1 = y, 2 = z
            src_axis.append(2 - index_axis)
            src_flip.append(bool(geometry.direction[world, index_axis] < 0))
        return cls(geometry, tuple(src_axis), tuple(src_flip))  # type: ignore[arg-type]

    # --- shapes and spacing ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.geometry.shape_zyx[a] for a in self.src_axis)  # type: ignore[return-value]

    @property
    def spacing(self) -> tuple[float, float, float]:
        sp = self.geometry.spacing_zyx
        return tuple(sp[a] for a in self.src_axis)  # type: ignore[return-value]

    def array_axis(self, view: str) -> int:
        """The array axis (0 = z, 1 = y, 2 = x) that `view` cuts through: 0 for the axial view
        of an image stored in axial order, another axis for sagittal or coronal stacks."""
        return self.src_axis[view_axes(view).normal]

    def slice_count(self, view: str) -> int:
        return self.shape[view_axes(view).normal]

    def pixel_spacing(self, view: str, radiological: bool = True) -> tuple[float, float]:
        """(row, column) spacing in mm of the 2D image shown in `view`."""
        va = view_axes(view, radiological)
        return self.spacing[va.row], self.spacing[va.col]

    # --- array views ---------------------------------------------------------------------------
    def display_array(self, array: np.ndarray) -> np.ndarray:
        """`array` (z, y, x[, c]) as a no-copy view ordered (S, P, L[, c])."""
        extra = tuple(range(3, array.ndim))
        d = np.transpose(array, self.src_axis + extra)
        flips = tuple(slice(None, None, -1) if f else slice(None) for f in self.src_flip)
        return d[flips]

    def view_stack(self, array: np.ndarray, view: str, radiological: bool = True) -> np.ndarray:
        """A no-copy (slices, rows, cols[, c]) view whose `[s]` is exactly the 2D image shown."""
        va = view_axes(view, radiological)
        extra = tuple(range(3, array.ndim))
        v = np.transpose(self.display_array(array), (va.normal, va.row, va.col) + extra)
        return v[
            :,
            slice(None, None, -1) if va.row_reversed else slice(None),
            slice(None, None, -1) if va.col_reversed else slice(None),
        ]

    # --- coordinates ---------------------------------------------------------------------------
    def index_to_display(self, index_zyx) -> np.ndarray:
        """Continuous array index (z, y, x) -> continuous display index (s, p, l)."""
        idx = np.asarray(index_zyx, dtype=float)
        shape = self.geometry.shape_zyx
        out = np.empty_like(idx)
        for k, (a, f) in enumerate(zip(self.src_axis, self.src_flip, strict=True)):
            out[..., k] = (shape[a] - 1 - idx[..., a]) if f else idx[..., a]
        return out

    def display_to_index(self, display) -> np.ndarray:
        d = np.asarray(display, dtype=float)
        shape = self.geometry.shape_zyx
        out = np.empty_like(d)
        for k, (a, f) in enumerate(zip(self.src_axis, self.src_flip, strict=True)):
            out[..., a] = (shape[a] - 1 - d[..., k]) if f else d[..., k]
        return out

    def display_to_view(self, display, view: str, radiological: bool = True) -> np.ndarray:
        """Display index -> (slice, row, col) of `view`, continuous."""
        va = view_axes(view, radiological)
        d = np.asarray(display, dtype=float)
        shape = self.shape
        row = d[..., va.row]
        col = d[..., va.col]
        if va.row_reversed:
            row = shape[va.row] - 1 - row
        if va.col_reversed:
            col = shape[va.col] - 1 - col
        return np.stack([d[..., va.normal], row, col], axis=-1)

    def view_to_display(self, src, view: str, radiological: bool = True) -> np.ndarray:
        """(slice, row, col) of `view` -> display index, continuous."""
        va = view_axes(view, radiological)
        s = np.asarray(src, dtype=float)
        shape = self.shape
        out = np.empty_like(s)
        out[..., va.normal] = s[..., 0]
        out[..., va.row] = (shape[va.row] - 1 - s[..., 1]) if va.row_reversed else s[..., 1]
        out[..., va.col] = (shape[va.col] - 1 - s[..., 2]) if va.col_reversed else s[..., 2]
        return out

    def world_to_view(self, world_xyz, view: str, radiological: bool = True) -> np.ndarray:
        idx = self.geometry.world_to_index(world_xyz)
        return self.display_to_view(self.index_to_display(idx), view, radiological)

    def view_to_index(self, src, view: str, radiological: bool = True) -> np.ndarray:
        return self.display_to_index(self.view_to_display(src, view, radiological))

    def view_to_world(self, src, view: str, radiological: bool = True) -> np.ndarray:
        return self.geometry.index_to_world(self.view_to_index(src, view, radiological))

    # --- orientation letters -----------------------------------------------------------------
    def screen_direction_world(self, view: str, which: str, radiological: bool = True):
        """World (LPS) unit vector of screen 'right' or 'down' in `view`, from the true geometry."""
        centre = np.array([0.0, 0.0, 0.0])
        step = np.array([0.0, 0.0, 1.0]) if which == "right" else np.array([0.0, 1.0, 0.0])
        a = self.view_to_world(centre, view, radiological)
        b = self.view_to_world(centre + step, view, radiological)
        v = b - a
        return v / np.linalg.norm(v)

    def edge_letters(self, view: str, radiological: bool = True) -> dict[str, str]:
        """Patient direction letters at the left, right, top and bottom edges of `view`."""
        out = {}
        for which, (neg_edge, pos_edge) in (
            ("right", ("left", "right")),
            ("down", ("top", "bottom")),
        ):
            v = self.screen_direction_world(view, which, radiological)
            w = int(np.argmax(np.abs(v)))
            pos, neg = _LETTERS[w]
            toward = pos if v[w] > 0 else neg
            away = neg if v[w] > 0 else pos
            out[pos_edge] = toward
            out[neg_edge] = away
        return out


def array_axis_of_view(geometry: Geometry, view: str) -> int:
    """`DisplayFrame.array_axis` for a grid."""
    return DisplayFrame.from_geometry(geometry).array_axis(view)
