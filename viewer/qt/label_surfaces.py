"""Label-map surfaces for the 3D view with a triangle budget (level of detail).

Each visible segment is cut out of the label map by its bounding box, block-averaged to a
resolution chosen for it (a fraction-of-voxels image), lightly blurred and contoured at 0.5. A
big organ is contoured on a coarse grid so that all surfaces together stay near a triangle
budget (software OpenGL draws about 2 million triangles a second); a segment is never sampled
coarser than a sixth of its smallest extent, so a 5 mm lesion keeps its shape. The fraction image
gives sub-voxel, smooth, closed surfaces (the crop is padded with background), so no slow
decimation or mesh smoothing is needed.

Surfaces are in index*spacing space (x, y, z), like the rest of the 3D scene: the actor's user
matrix adds direction and origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import find_objects, gaussian_filter
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkUnsignedCharArray
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData
from vtkmodules.vtkFiltersCore import vtkAppendPolyData, vtkFlyingEdges3D

# A segment is sampled no coarser than its smallest extent over this (6: a 5 mm lesion keeps
# its shape); only when many small segments alone overshoot the budget is it relaxed (3, then 2).
SAMPLES_ACROSS = (6, 3, 2)
MIN_SAMPLES_ACROSS = SAMPLES_ACROSS[0]
TRIANGLES_PER_FACE = 2.0  # contour triangles per boundary voxel face (measured on a sphere)
REFINE_ROUNDS = 4  # re-plans with the measured triangles-per-face ratio
BLUR_SIGMA = 0.6  # voxels: rounds the staircase of a full-detail surface, keeps thin parts
BLUR_SIGMA_BLOCKS = 0.4  # (downsampled) voxels, when contouring block means
MAX_VALUES_PER_UPDATE = 16  # SurfaceCache.update: an edit of more values (or an eighth of
# the volume or more) is measured afresh in one pass rather than value by value


@dataclass(frozen=True)
class SurfacePlan:
    """How one segment is contoured: its crop (z, y, x slices) and block steps (z, y, x)."""

    value: int
    crop: tuple[slice, slice, slice]
    steps: tuple[int, int, int]
    faces_mm2: float  # boundary area estimate at full resolution


def _boundary_area(mask: np.ndarray, spacing_xyz) -> float:
    """Area (mm^2) of the voxel faces between the mask and everything else (crop edges count)."""
    sx, sy, sz = spacing_xyz
    area = 0.0
    for axis, face in ((0, sx * sy), (1, sx * sz), (2, sy * sz)):
        inner = np.count_nonzero(np.diff(mask, axis=axis))
        ends = np.count_nonzero(np.take(mask, 0, axis=axis)) + np.count_nonzero(
            np.take(mask, -1, axis=axis)
        )
        area += (inner + ends) * face
    return area


def _steps_for(
    h: float, spacing_xyz, extent_mm, across: int = MIN_SAMPLES_ACROSS
) -> tuple[int, int, int]:
    """Block steps (z, y, x) for a sampling distance h (mm), capped by the segment's extent."""
    h = min(h, min(extent_mm) / across)
    sx, sy, sz = spacing_xyz
    return tuple(max(1, int(h / s + 1e-6)) for s in (sz, sy, sx))  # type: ignore[return-value]


def _triangles(area_mm2: float, steps, spacing_xyz) -> float:
    # Boundary faces on a coarser grid: the area over the (mean) coarse face area.
    sz, sy, sx = (st * sp for st, sp in zip(steps, spacing_xyz[::-1], strict=True))
    return area_mm2 / ((sx * sy + sx * sz + sy * sz) / 3.0)


def measure_segments(labels: np.ndarray, spacing_xyz, values) -> list[SurfacePlan]:
    """Bounding box and full-resolution boundary area of each value present (steps all 1)."""
    values = [int(v) for v in values if v > 0]
    boxes = find_objects(labels, max_label=max(values, default=0))
    plans = []
    for v in values:
        crop = boxes[v - 1] if v <= len(boxes) else None
        if crop is not None:
            area = _boundary_area(labels[crop] == v, spacing_xyz)
            plans.append(SurfacePlan(v, crop, (1, 1, 1), area))
    return plans


def choose_steps(
    plans: list[SurfacePlan],
    spacing_xyz,
    budget: int,
    per_face: float = TRIANGLES_PER_FACE,
    across: int = MIN_SAMPLES_ACROSS,
) -> list[SurfacePlan]:
    """Block steps so the estimated triangles fit `budget`.

    One sampling distance h (mm) is found for all segments (bisection); each segment uses
    min(h, its smallest extent / MIN_SAMPLES_ACROSS), so small structures stay at full detail.
    """

    def extent(p: SurfacePlan) -> list[float]:
        return [(s.stop - s.start) * sp for s, sp in zip(p.crop[::-1], spacing_xyz, strict=True)]

    extents = [extent(p) for p in plans]

    def total(h: float) -> float:
        return sum(
            per_face * _triangles(p.faces_mm2, _steps_for(h, spacing_xyz, e, across), spacing_xyz)
            for p, e in zip(plans, extents, strict=True)
        )

    h = 0.0
    if plans and total(0.0) > budget:
        lo, hi = 0.0, max(max(e) for e in extents)
        for _ in range(30):
            mid = (lo + hi) / 2.0
            lo, hi = (lo, mid) if total(mid) <= budget else (mid, hi)
        h = hi
    return [
        SurfacePlan(p.value, p.crop, _steps_for(h, spacing_xyz, e, across), p.faces_mm2)
        for p, e in zip(plans, extents, strict=True)
    ]


def plan_surfaces(labels: np.ndarray, spacing_xyz, values, budget: int) -> list[SurfacePlan]:
    """Crops and block steps for the given label values so the surfaces fit `budget` triangles."""
    return choose_steps(measure_segments(labels, spacing_xyz, values), spacing_xyz, budget)


def block_fraction(mask: np.ndarray, steps) -> np.ndarray:
    """Mean of `mask` over blocks of `steps` (z, y, x) voxels, float32; the end is zero-padded."""
    if all(s == 1 for s in steps):
        return mask.astype(np.float32)
    shape = [math.ceil(n / s) * s for n, s in zip(mask.shape, steps, strict=True)]
    padded = np.zeros(shape, dtype=np.uint8)
    padded[: mask.shape[0], : mask.shape[1], : mask.shape[2]] = mask
    nz, ny, nx = (n // s for n, s in zip(shape, steps, strict=True))
    sz, sy, sx = steps
    blocks = padded.reshape(nz, sz, ny, sy, nx, sx)
    sums = blocks.sum(axis=(1, 3, 5), dtype=np.uint32)
    return (sums / float(sz * sy * sx)).astype(np.float32)


def segment_surface(mask: np.ndarray, crop, steps, spacing_xyz) -> vtkPolyData:
    """Closed, smooth surface (index*spacing space, point normals) of the boolean `mask` cut from
    the label map at `crop` (z, y, x slices), contoured on blocks of `steps` (z, y, x) voxels."""
    frac = block_fraction(mask, steps)
    pad = 2  # background all round closes surfaces cut by the image border; room for the blur
    frac = np.pad(frac, pad)
    # Block means are partly smooth already: blur them less (a full blur turns organs to blobs).
    sigma = BLUR_SIGMA if all(s == 1 for s in steps) else BLUR_SIGMA_BLOCKS
    frac = gaussian_filter(frac, sigma, mode="constant", truncate=3.0)
    img = vtkImageData()
    img.SetDimensions(frac.shape[2], frac.shape[1], frac.shape[0])
    origin = []
    spacing = []
    for sl, st, sp in zip(crop[::-1], steps[::-1], spacing_xyz, strict=True):
        # Block k (padded) covers voxels start + (k - pad)*st ... +st-1: its centre is the sample.
        origin.append((sl.start + (st - 1) / 2.0 - pad * st) * sp)
        spacing.append(st * sp)
    img.SetOrigin(*origin)
    img.SetSpacing(*spacing)
    img.GetPointData().SetScalars(numpy_to_vtk(frac.ravel(), deep=True))
    fe = vtkFlyingEdges3D()
    fe.SetInputData(img)
    fe.SetValue(0, 0.5)
    fe.ComputeNormalsOn()
    fe.ComputeGradientsOff()
    fe.ComputeScalarsOff()
    fe.Update()
    out = vtkPolyData()
    out.ShallowCopy(fe.GetOutput())
    return out


class SurfaceBuilder:
    """Meshes of one label map's segments at several triangle budgets, sharing the work.

    `measured` and `polys` may come from a `SurfaceCache`, so segments an edit did not touch
    are neither measured nor contoured again."""

    def __init__(
        self,
        labels: np.ndarray,
        spacing_xyz,
        colours: dict[int, tuple[int, int, int]],
        measured: list[SurfacePlan] | None = None,
        polys: dict | None = None,
    ):
        self.labels = labels
        self.spacing = tuple(float(v) for v in spacing_xyz)
        self.colours = colours
        if measured is None:
            measured = measure_segments(labels, self.spacing, sorted(colours))
        self.measured = measured
        self._masks: dict[int, np.ndarray] = {}
        self._polys: dict[tuple[int, tuple[int, int, int]], vtkPolyData] = (
            polys if polys is not None else {}
        )
        self.contoured: list[int] = []  # values contoured by this builder (tests, benchmarks)

    def surface(self, plan: SurfacePlan) -> vtkPolyData:
        """The surface of one planned segment (cached by value and steps; shared, do not edit)."""
        key = (plan.value, plan.steps)
        if key not in self._polys:
            if plan.value not in self._masks:
                self._masks[plan.value] = self.labels[plan.crop] == plan.value
            mask = self._masks[plan.value]
            self._polys[key] = segment_surface(mask, plan.crop, plan.steps, self.spacing)
            self.contoured.append(plan.value)
        return self._polys[key]

    def _extract(self, budget: int, per_face: float, across: int) -> tuple[list[SurfacePlan], int]:
        plans = choose_steps(self.measured, self.spacing, budget, per_face, across)
        return plans, sum(self.surface(p).GetNumberOfCells() for p in plans)

    def plans(self, budget: int) -> list[SurfacePlan]:
        """The finest plans whose surfaces stay within `budget` triangles (10% slack).

        Rough boundaries (thresholded masks) lose many of their faces when coarsened, so the
        area-based estimate overshoots. While the result is well under budget the
        triangles-per-face factor is searched (first from the measured ratio, then by
        bisection) for a few rounds."""
        high, low = TRIANGLES_PER_FACE, None  # factors known to fit / to overshoot
        for across in SAMPLES_ACROSS:  # relax the small-structure rule only when it must
            best, count = self._extract(budget, high, across)
            if count <= 1.1 * budget:
                break
        for _ in range(REFINE_ROUNDS):
            coarse = [p for p in best if p.steps != (1, 1, 1)]
            if not coarse or count >= 0.7 * budget:
                break
            if low is None:
                est = sum(high * _triangles(p.faces_mm2, p.steps, self.spacing) for p in coarse)
                got = sum(self.surface(p).GetNumberOfCells() for p in coarse)
                factor = high * max(got, 1) / max(est, 1.0)
            else:
                factor = math.sqrt(high * low)
            plans, n = self._extract(budget, factor, across)
            if n <= 1.1 * budget:
                best, count, high = plans, n, factor
            else:
                low = factor
        return best

    def mesh(self, budget: int) -> vtkPolyData:
        """All segments as one mesh with per-point RGB colours ("Colors"), about `budget`
        triangles or fewer (segments kept at full detail by the extent rule may add some)."""
        append = vtkAppendPolyData()
        n = 0
        for plan in self.plans(budget):
            poly = vtkPolyData()
            poly.ShallowCopy(self.surface(plan))
            npts = poly.GetNumberOfPoints()
            if npts == 0:
                continue
            rgb = np.empty((npts, 3), dtype=np.uint8)
            rgb[:] = self.colours[plan.value]
            arr = numpy_to_vtk(rgb, deep=True, array_type=vtkUnsignedCharArray().GetDataType())
            arr.SetName("Colors")
            poly.GetPointData().SetScalars(arr)
            append.AddInputData(poly)
            n += 1
        out = vtkPolyData()
        if n:
            append.Update()
            out.ShallowCopy(append.GetOutput())
        return out


def label_surfaces(
    labels: np.ndarray, spacing_xyz, colours: dict[int, tuple[int, int, int]], budget: int
) -> vtkPolyData:
    """All segments in `colours` (value -> RGB 0-255) as one coloured mesh of about `budget`
    triangles (see SurfaceBuilder)."""
    return SurfaceBuilder(labels, spacing_xyz, colours).mesh(budget)


def _measure_in(labels: np.ndarray, spacing_xyz, value: int, region) -> SurfacePlan | None:
    """The plan (exact crop, boundary area) of `value`, which lies wholly inside `region`."""
    mask = labels[region] == value
    if not mask.any():
        return None
    lo, hi = [], []
    for k in range(3):
        hit = np.flatnonzero(mask.any(axis=tuple(a for a in range(3) if a != k)))
        lo.append(int(hit[0]))
        hi.append(int(hit[-1]) + 1)
    inner = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    crop = tuple(slice(r.start + a, r.start + b) for r, a, b in zip(region, lo, hi, strict=True))
    return SurfacePlan(value, crop, (1, 1, 1), _boundary_area(mask[inner], spacing_xyz))  # type: ignore[arg-type]


class SurfaceCache:
    """What one label map's surfaces cost to redo, kept between rebuilds.

    `update(values, box)` says that the voxels of `values` changed inside `box` (z0, y0, x0,
    z1, y1, x1); only those segments are measured again, inside their old crop grown by the
    box, and their meshes dropped. `update(None, None)` starts afresh (a full pass).
    `builder(colours)` then makes a SurfaceBuilder that reuses every other segment's work.
    """

    def __init__(self, labels: np.ndarray, spacing_xyz) -> None:
        self.labels = labels
        self.spacing = tuple(float(v) for v in spacing_xyz)
        self.plans: dict[int, SurfacePlan] | None = None  # None: not measured yet
        self.polys: dict[tuple[int, tuple[int, int, int]], vtkPolyData] = {}
        self.voxels_measured = 0  # label voxels read to measure (tests, benchmarks)
        self.contoured: list[int] = []  # values contoured, in order (tests, benchmarks)

    def update(self, values, box) -> None:
        if values is None or self.plans is None:
            self.plans = None
            self.polys = {}
            return
        if box is None:
            return  # nothing changed in the labels (colours or visibility only)
        shape = self.labels.shape
        box_voxels = int(np.prod([max(0, b - a) for a, b in zip(box[:3], box[3:], strict=True)]))
        if len(values) > MAX_VALUES_PER_UPDATE or box_voxels * 8 > self.labels.size:
            # a large edit: measuring each value in its region would read the volume many
            # times; one pass over it (find_objects) measures them all
            self.plans = None
            self.polys = {}
            return
        for v in sorted(int(x) for x in values if int(x) > 0):
            old = self.plans.get(v)
            lo = [max(0, int(b)) for b in box[:3]]
            hi = [min(n, int(b)) for n, b in zip(shape, box[3:], strict=True)]
            if old is not None:
                lo = [min(a, c.start) for a, c in zip(lo, old.crop, strict=True)]
                hi = [max(b, c.stop) for b, c in zip(hi, old.crop, strict=True)]
            region = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
            self.voxels_measured += int(np.prod([b - a for a, b in zip(lo, hi, strict=True)]))
            plan = _measure_in(self.labels, self.spacing, v, region)
            if plan is None:
                self.plans.pop(v, None)
            else:
                self.plans[v] = plan
            self.polys = {k: p for k, p in self.polys.items() if k[0] != v}

    def builder(self, colours: dict[int, tuple[int, int, int]]) -> SurfaceBuilder:
        if self.plans is None:
            top = int(self.labels.max()) if self.labels.size else 0
            present = measure_segments(self.labels, self.spacing, range(1, top + 1))
            self.voxels_measured += self.labels.size
            self.plans = {p.value: p for p in present}
        measured = [self.plans[v] for v in sorted(colours) if v in self.plans]
        builder = SurfaceBuilder(self.labels, self.spacing, colours, measured, self.polys)
        builder.contoured = self.contoured
        return builder
