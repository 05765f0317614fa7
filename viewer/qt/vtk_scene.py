"""The 3D scene (no Qt): volume rendering with presets, smoothed label surfaces, the three slice
planes and camera presets, in LPS world millimetres.

Image data live in VTK in index*spacing space; each prop's user matrix applies the direction and
origin, so any direction matrix is shown where it belongs. Large volumes are strided down for
volume rendering only (3D is a preview; slices always show every voxel).
"""

from __future__ import annotations

import math

import numpy as np
import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401 (registers volume mappers)
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData, vtkPolyLine
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkColorTransferFunction,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkRenderWindow,
    vtkVolume,
    vtkVolumeProperty,
)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper
from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkSmartVolumeMapper

from viewer.model.display_frame import AXIS_OF_VIEW, PLANE_COLOURS, VIEWS, DisplayFrame
from viewer.model.view_state import auto_window, effective_modality
from viewer.qt.label_surfaces import SurfaceCache
from viewer.qt.vtk_offscreen import is_software_renderer

BACKGROUND = (0.08, 0.09, 0.13)
VOLUME_PRESETS = ("Off", "Auto", "CT Bone", "CT Soft tissue", "CT Lung", "MIP")
CAMERA_PRESETS = {  # name -> (direction from focal point to camera, view-up), LPS
    "anterior": ((0, -1, 0), (0, 0, 1)),
    "posterior": ((0, 1, 0), (0, 0, 1)),
    "left": ((1, 0, 0), (0, 0, 1)),
    "right": ((-1, 0, 0), (0, 0, 1)),
    "superior": ((0, 0, 1), (0, -1, 0)),
    "inferior": ((0, 0, -1), (0, -1, 0)),
}
MAX_VOLUME_DIM = 256  # voxels per axis sent to the volume mapper
# Software ray casting (vtkFixedPointVolumeRayCastMapper): about 300 samples along the volume's
# diagonal (coarser sampling bands thin opaque structures such as ribs), and at most RAY_BUDGET
# rays a still frame: a bigger viewport casts one ray per ImageSampleDistance pixels and
# interpolates between them. Frame time is about proportional to the rays; RAY_BUDGET keeps a
# still frame interactive on a software renderer, with a picture that differs from one ray per
# pixel by about one grey level (the timings: docs/benchmarks.md, "Numbers behind constants").
SAMPLES_ACROSS = 300
RAY_BUDGET = 134_000
INTERACTIVE_RAY_BUDGET = 60_000  # while the camera moves (with half the samples)
# Still frames with label surfaces shown too: the surfaces take frame time themselves and hide
# what lies behind them, so the volume around them gets fewer rays (a ray per 1.7 px).
RAY_BUDGET_WITH_SURFACES = 90_000
# Triangles of all label surfaces together. Software OpenGL (llvmpipe) pays per triangle plus a
# fixed cost a frame: these budgets keep a still frame and a moving one interactive there
# (docs/benchmarks.md, "Numbers behind constants").
TRIANGLE_BUDGET = 45_000
INTERACTIVE_TRIANGLE_BUDGET = 12_000


def _image_data(array: np.ndarray, spacing_xyz) -> vtkImageData:
    img = vtkImageData()
    nz, ny, nx = array.shape
    img.SetDimensions(nx, ny, nz)
    img.SetSpacing(*spacing_xyz)
    img.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(np.ascontiguousarray(array).ravel(), deep=True)
    img.GetPointData().SetScalars(scalars)
    return img


def _user_matrix(geometry) -> vtkMatrix4x4:
    m = vtkMatrix4x4()
    for r in range(3):
        for c in range(3):
            m.SetElement(r, c, float(geometry.direction[r, c]))
        m.SetElement(r, 3, float(geometry.origin[r]))
    return m


def _strides(shape, limit_dim: int):
    return tuple(max(1, math.ceil(n / limit_dim)) for n in shape)


class Scene3D:
    """Everything drawn in the 3D view, bound to one render window."""

    def __init__(self, render_window: vtkRenderWindow) -> None:
        self.render_window = render_window
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*BACKGROUND)
        render_window.AddRenderer(self.renderer)
        # The slice-plane outlines are drawn in a layer over the scene: in the depth buffer they
        # would stop the rays of neighbouring pixels when rays are cast more sparsely than
        # pixels (a dark band beside every line), and they stay visible through opaque tissue.
        self.overlay = vtkRenderer()
        self.overlay.SetLayer(1)
        self.overlay.InteractiveOff()
        self.overlay.SetActiveCamera(self.renderer.GetActiveCamera())
        render_window.SetNumberOfLayers(max(2, render_window.GetNumberOfLayers()))
        render_window.AddRenderer(self.overlay)
        self.renderer.AddObserver("StartEvent", self._before_render)
        self.software = True
        self.document = None
        self.frame: DisplayFrame | None = None
        self.volume: vtkVolume | None = None
        self.surface_actor: vtkActor | None = None  # full detail, still frames
        self.surface_actor_coarse: vtkActor | None = None  # while the camera moves
        self.plane_actors: dict[str, tuple[vtkActor, vtkPoints]] = {}
        self.preset = "Auto"
        self.quality = "still"
        self._sample_distance = 1.0
        self._window = None
        self._bounds: list[float] | None = None  # the document's world box (xmin, xmax, ...)
        self.surface_cache: SurfaceCache | None = None  # per-segment work kept between edits

    # --- document ----------------------------------------------------------------------------
    def set_document(self, document, preset: str | None = None) -> None:
        self.renderer.RemoveAllViewProps()
        self.overlay.RemoveAllViewProps()
        self.volume = None
        self.surface_actor = self.surface_actor_coarse = None
        self.plane_actors = {}
        self.document = document
        self._bounds = None
        self.surface_cache = None
        if document is None:
            return
        self.surface_cache = SurfaceCache(document.labels.array, document.geometry.spacing)
        self.software = is_software_renderer(self.render_window)
        self.frame = DisplayFrame.from_geometry(document.geometry)
        lo, hi = document.geometry.world_bounds()
        self._bounds = [float(v) for p in zip(lo, hi, strict=True) for v in p]
        self._matrix = _user_matrix(document.geometry)
        self.update_surfaces()
        vol = document.volume
        if vol.is_segmentable:
            self._window = auto_window(vol.array)
            self._build_volume(vol.array, document.geometry)
            self.set_preset(preset or self.default_preset())
        for view in VIEWS:
            self._add_plane(view)
        # Planes start through the centre: unset points would give the renderer garbage bounds.
        lo, hi = document.geometry.world_bounds()
        self.set_planes((lo + hi) / 2.0)
        self.reset_camera()

    def _build_volume(self, array: np.ndarray, geometry) -> None:
        steps = _strides(array.shape, MAX_VOLUME_DIM)
        small = array[:: steps[0], :: steps[1], :: steps[2]]
        if small.dtype.kind == "f" or small.dtype.itemsize > 2:
            small = small.astype(np.float32)
        spacing = [geometry.spacing[i] * steps[2 - i] for i in range(3)]
        img = _image_data(small, spacing)
        if self.software:
            mapper = vtkFixedPointVolumeRayCastMapper()
            mapper.SetAutoAdjustSampleDistances(0)
            # SAMPLES_ACROSS samples along the volume's diagonal, never finer than a voxel.
            diagonal = float(np.linalg.norm(np.array(spacing) * small.shape[::-1]))
            self._sample_distance = max(float(min(spacing)), diagonal / SAMPLES_ACROSS)
        else:
            mapper = vtkSmartVolumeMapper()
            mapper.SetRequestedRenderModeToGPU()
        mapper.SetInputData(img)
        self.volume = vtkVolume()
        self.volume.SetMapper(mapper)
        self.set_quality(self.quality)
        prop = vtkVolumeProperty()
        prop.SetInterpolationTypeToLinear()
        prop.ShadeOff()
        self.volume.SetProperty(prop)
        self.volume.SetUserMatrix(self._matrix)
        self.renderer.AddVolume(self.volume)

    def default_preset(self) -> str:
        """'Off' when label surfaces are shown (as in 3D Slicer: a volume rendering around them
        hides and clutters them, and triples the frame time), else a preset for the modality."""
        if self.surface_actor is not None:
            return "Off"
        vol = self.document.volume
        return "CT Bone" if effective_modality(vol.modality, vol.array) == "CT" else "Auto"

    def set_quality(self, quality: str) -> None:
        """'interactive' (while the camera moves) draws the coarse label surfaces and, in
        software, casts a ray per 2x2 pixels (about 3x faster); 'still' draws the fine surfaces
        and casts one ray per pixel. Both take SAMPLES_ACROSS samples along the diagonal."""
        if quality not in ("interactive", "still"):
            raise ValueError(f"unknown quality {quality!r}")
        self.quality = quality
        self._show_surface_lod()
        mapper = self.volume.GetMapper() if self.volume is not None else None
        if isinstance(mapper, vtkFixedPointVolumeRayCastMapper):
            fast = quality == "interactive"
            mapper.SetSampleDistance(self._sample_distance * (2.0 if fast else 1.0))
            self._fit_rays_to_viewport()

    def _before_render(self, *_args) -> None:
        self._fit_rays_to_viewport()
        if self._bounds is not None:
            # Everything drawn lies in the image's box; the overlay's outlines count too (the
            # interactor resets the range from the main layer's visible props only).
            self.renderer.ResetCameraClippingRange(*self._bounds)

    def _fit_rays_to_viewport(self) -> None:
        """Cast at most RAY_BUDGET rays (INTERACTIVE_RAY_BUDGET while moving) at any view size;
        called before every render, as the view may have been resized."""
        mapper = self.volume.GetMapper() if self.volume is not None else None
        if not isinstance(mapper, vtkFixedPointVolumeRayCastMapper):
            return
        w, h = self.renderer.GetSize()
        if self.quality == "interactive":
            budget = INTERACTIVE_RAY_BUDGET
        elif self.surface_actor is not None and self.surface_actor.GetVisibility():
            budget = RAY_BUDGET_WITH_SURFACES
        else:
            budget = RAY_BUDGET
        distance = round(max(1.0, math.sqrt(max(w * h, 1) / budget)), 2)
        if mapper.GetImageSampleDistance() != distance:
            mapper.SetImageSampleDistance(distance)

    def set_preset(self, name: str) -> None:
        """Apply a transfer-function preset from VOLUME_PRESETS ('Off' hides the volume)."""
        if name not in VOLUME_PRESETS:
            raise ValueError(f"unknown volume preset {name!r}")
        self.preset = name
        if self.volume is None:
            return
        self.volume.SetVisibility(name != "Off")
        mapper = self.volume.GetMapper()
        mapper.SetBlendModeToMaximumIntensity() if name == "MIP" else mapper.SetBlendModeToComposite()
        colour = vtkColorTransferFunction()
        opacity = self.volume.GetProperty().GetScalarOpacity()
        opacity.RemoveAllPoints()
        w = self._window
        if name in ("Auto", "MIP", "Off"):
            lo, hi = w.low, w.high
            mid = lo + 0.35 * (hi - lo)
            top = 0.9 if name == "MIP" else 0.12
            for x, o, rgb in (
                (lo, 0.0, (0, 0, 0)),
                (mid, 0.0, (0.55, 0.45, 0.4)),
                (hi, top, (1, 0.95, 0.9)),
            ):
                opacity.AddPoint(x, o)
                colour.AddRGBPoint(x, *rgb)
        else:
            points = {
                "CT Bone": (
                    (150, 0, (0.6, 0.2, 0.1)),
                    (300, 0.15, (0.95, 0.85, 0.7)),
                    (1200, 0.8, (1, 1, 1)),
                ),
                "CT Soft tissue": (
                    (-200, 0, (0.5, 0.2, 0.15)),
                    (40, 0.08, (0.85, 0.5, 0.4)),
                    (300, 0.5, (1, 0.95, 0.9)),
                ),
                "CT Lung": (
                    (-1000, 0, (0.2, 0.2, 0.3)),
                    (-700, 0.05, (0.6, 0.6, 0.8)),
                    (-300, 0.0, (0.9, 0.9, 1.0)),
                ),
            }[name]
            for x, o, rgb in points:
                opacity.AddPoint(x, o)
                colour.AddRGBPoint(x, *rgb)
        self.volume.GetProperty().SetColor(colour)

    # --- label surfaces ------------------------------------------------------------------------------
    def visible_colours(self) -> dict[int, tuple[int, int, int]]:
        """Label value -> RGB of the segments whose surfaces are shown."""
        doc = self.document
        return {s.id: tuple(s.colour) for s in doc.segments if s.visible} if doc else {}

    def surface_meshes(self, changed_values=None, box=None, colours=None):
        """(fine, coarse) meshes of the visible segments, or None when there are none.

        `changed_values`/`box`: the label values whose voxels changed and where; only those
        segments are measured and contoured again (None: all). `colours`: from
        `visible_colours()`, taken on the UI thread. Reads the label map and the cache only,
        so it may run on a worker thread while the UI thread draws."""
        doc = self.document
        cache = self.surface_cache
        if doc is None or cache is None:
            return None
        if cache.labels is not doc.labels.array:  # the label map was replaced
            cache = self.surface_cache = SurfaceCache(doc.labels.array, doc.geometry.spacing)
        cache.update(changed_values, box)
        colours = self.visible_colours() if colours is None else colours
        if not colours:
            return None
        builder = cache.builder(colours)
        fine = builder.mesh(TRIANGLE_BUDGET)
        if fine.GetNumberOfCells() == 0:
            return None
        return fine, builder.mesh(INTERACTIVE_TRIANGLE_BUDGET)

    def update_surfaces(self, changed_values=None, box=None) -> None:
        """(Re)build the surfaces of visible segments: a fine mesh for still frames and a coarse
        one shown while the camera moves (see label_surfaces for the triangle budgets)."""
        self.show_surfaces(self.surface_meshes(changed_values, box))

    def show_surfaces(self, meshes) -> None:
        """Show (fine, coarse) meshes from `surface_meshes` (None: no surfaces)."""
        for actor in (self.surface_actor, self.surface_actor_coarse):
            if actor is not None:
                self.renderer.RemoveActor(actor)
        self.surface_actor = self.surface_actor_coarse = None
        if meshes is None or self.document is None:
            return
        fine, coarse = meshes
        self.surface_actor = self._surface_actor(fine)
        self.surface_actor_coarse = self._surface_actor(coarse)
        self._show_surface_lod()

    def _surface_actor(self, poly) -> vtkActor:
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(poly)
        mapper.SetColorModeToDirectScalars()  # per-point RGB of each segment's colour
        mapper.SetScalarModeToUsePointData()
        mapper.ScalarVisibilityOn()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        # Opaque, matte with a little sheen (close to 3D Slicer's segment surfaces).
        prop.SetOpacity(1.0)
        prop.SetInterpolationToGouraud()
        prop.SetAmbient(0.08)
        prop.SetDiffuse(0.85)
        prop.SetSpecular(0.15)
        prop.SetSpecularPower(20.0)
        actor.SetUserMatrix(self._matrix)
        self.renderer.AddActor(actor)
        return actor

    def _show_surface_lod(self) -> None:
        if self.surface_actor is None:
            return
        fast = self.quality == "interactive"
        self.surface_actor.SetVisibility(not fast)
        self.surface_actor_coarse.SetVisibility(fast)

    # --- slice planes -------------------------------------------------------------------------------
    def _add_plane(self, view: str) -> None:
        points = vtkPoints()
        points.SetNumberOfPoints(4)
        line = vtkPolyLine()
        line.GetPointIds().SetNumberOfIds(5)
        for i in range(5):
            line.GetPointIds().SetId(i, i % 4)
        cells = vtkCellArray()
        cells.InsertNextCell(line)
        poly = vtkPolyData()
        poly.SetPoints(points)
        poly.SetLines(cells)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(poly)
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*(c / 255.0 for c in PLANE_COLOURS[view]))
        actor.GetProperty().SetLineWidth(2.0)
        actor.GetProperty().LightingOff()
        self.overlay.AddActor(actor)
        self.plane_actors[view] = (actor, points)

    def set_planes(self, cursor_world, visible: bool = True) -> None:
        """Put the three slice-plane outlines through the crosshair's slices."""
        if self.frame is None:
            return
        shape = self.frame.shape
        d = self.frame.index_to_display(self.frame.geometry.world_to_index(cursor_world))
        for view, (actor, points) in self.plane_actors.items():
            k = AXIS_OF_VIEW[view]
            a, b = [i for i in range(3) if i != k]
            s = float(np.clip(np.rint(d[k]), 0, shape[k] - 1))
            corners = []
            for ua, ub in (
                (-0.5, -0.5),
                (shape[a] - 0.5, -0.5),
                (shape[a] - 0.5, shape[b] - 0.5),
                (-0.5, shape[b] - 0.5),
            ):
                p = np.zeros(3)
                p[k], p[a], p[b] = s, ua, ub
                corners.append(p)
            world = self.frame.geometry.index_to_world(
                self.frame.display_to_index(np.array(corners))
            )
            for i, w in enumerate(world):
                points.SetPoint(i, *w)
            points.Modified()
            actor.SetVisibility(visible)

    # --- camera ----------------------------------------------------------------------------------------
    def reset_camera(self) -> None:
        """From the front and a little above: shows depth better than a flat anterior view."""
        self.camera_preset("anterior")
        cam = self.renderer.GetActiveCamera()
        if self.document is None:
            return
        cam.Elevation(20.0)
        cam.OrthogonalizeViewUp()
        lo, hi = self.document.geometry.world_bounds()
        self.renderer.ResetCameraClippingRange(
            *[float(v) for p in zip(lo, hi, strict=True) for v in p]
        )

    def camera_preset(self, name: str) -> None:
        """Look at the whole image from one side of the patient (see CAMERA_PRESETS)."""
        if name not in CAMERA_PRESETS:
            raise ValueError(f"unknown camera preset {name!r}")
        if self.document is None:
            return
        lo, hi = self.document.geometry.world_bounds()
        centre = (lo + hi) / 2.0
        radius = float(np.linalg.norm(hi - lo)) / 2.0
        direction, up = CAMERA_PRESETS[name]
        cam = self.renderer.GetActiveCamera()
        cam.SetFocalPoint(*centre)
        cam.SetPosition(*(centre + np.asarray(direction, dtype=float) * radius * 4.0))
        cam.SetViewUp(*up)
        cam.SetViewAngle(30.0)
        self.renderer.ResetCamera(*[v for pair in zip(lo, hi, strict=True) for v in pair])
        cam.Zoom(1.15)
