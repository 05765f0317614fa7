"""Image grid geometry (spacing, origin, direction cosines) and index <-> world transforms.

Conventions, used everywhere in RadLabel:
- world coordinates are ITK/DICOM LPS millimetres;
- `spacing`, `origin` are in (x, y, z) order as in ITK; `direction` is the 3x3 ITK matrix whose
  *columns* are the world directions of the x, y, z index axes;
- arrays are indexed (z, y, x); helpers ending in `_zyx` take or return that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_AXIS_LETTERS_LPS = (
    ("L", "R"),
    ("P", "A"),
    ("S", "I"),
)  # positive, negative direction per LPS axis


@dataclass(frozen=True)
class Geometry:
    """The grid of a 3D image: shape (z, y, x), spacing/origin (x, y, z) and direction."""

    shape_zyx: tuple[int, int, int]
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape_zyx", tuple(int(s) for s in self.shape_zyx))
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))
        object.__setattr__(self, "origin", tuple(float(s) for s in self.origin))
        d = np.array(self.direction, dtype=float).reshape(3, 3)
        d.setflags(write=False)
        object.__setattr__(self, "direction", d)
        if len(self.shape_zyx) != 3 or len(self.spacing) != 3 or len(self.origin) != 3:
            raise ValueError("Geometry needs 3D shape, spacing and origin")
        if any(s <= 0 or not np.isfinite(s) for s in self.spacing):
            raise ValueError(f"spacing must be positive and finite, got {self.spacing}")

    # --- convenience views -------------------------------------------------------------
    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        return (self.spacing[2], self.spacing[1], self.spacing[0])

    @property
    def size_xyz(self) -> tuple[int, int, int]:
        return (self.shape_zyx[2], self.shape_zyx[1], self.shape_zyx[0])

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing))

    def index_to_world_matrix(self) -> np.ndarray:
        """4x4 matrix mapping homogeneous (x, y, z, 1) continuous index to LPS world."""
        m = np.eye(4)
        m[:3, :3] = self.direction @ np.diag(self.spacing)
        m[:3, 3] = self.origin
        return m

    def ras_affine(self) -> np.ndarray:
        """4x4 NIfTI-style affine from (i=x, j=y, k=z) index to RAS world."""
        return np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.index_to_world_matrix()

    # --- transforms ----------------------------------------------------------------------
    def index_to_world(self, index_zyx) -> np.ndarray:
        """Continuous (z, y, x) index (N, 3) or (3,) -> LPS world (x, y, z) in mm."""
        idx = np.asarray(index_zyx, dtype=float)
        xyz = idx[..., ::-1]
        return xyz @ (self.direction @ np.diag(self.spacing)).T + np.asarray(self.origin)

    def world_to_index(self, world_xyz) -> np.ndarray:
        """LPS world (x, y, z) mm -> continuous (z, y, x) index."""
        w = np.asarray(world_xyz, dtype=float) - np.asarray(self.origin)
        inv = np.linalg.inv(self.direction @ np.diag(self.spacing))
        xyz = w @ inv.T
        return xyz[..., ::-1]

    def contains_index(self, index_zyx) -> bool:
        idx = np.rint(np.asarray(index_zyx, dtype=float)).astype(int)
        return bool(np.all(idx >= 0) and np.all(idx < np.asarray(self.shape_zyx)))

    def corners_world(self) -> np.ndarray:
        """The 8 corner voxel centres in world coordinates, shape (8, 3)."""
        z, y, x = (s - 1 for s in self.shape_zyx)
        c = np.array([[a, b, d] for a in (0, z) for b in (0, y) for d in (0, x)], dtype=float)
        return self.index_to_world(c)

    def world_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned world bounding box (min xyz, max xyz) including half-voxel borders."""
        z, y, x = self.shape_zyx
        c = np.array(
            [[a, b, d] for a in (-0.5, z - 0.5) for b in (-0.5, y - 0.5) for d in (-0.5, x - 0.5)]
        )
        w = self.index_to_world(c)
        return w.min(axis=0), w.max(axis=0)

    # --- comparisons -----------------------------------------------------------------------
    def describe(self) -> str:
        """The grid in words, for messages: size, spacing and origin."""
        return (
            f"size {self.size_xyz}, spacing {tuple(round(s, 4) for s in self.spacing)}, "
            f"origin {tuple(round(o, 3) for o in self.origin)}"
        )

    def same_grid(self, other: Geometry, tol: float = 1e-4) -> bool:
        """True when both describe the same voxels in the same places (within `tol` mm/cosine)."""
        if self.shape_zyx != other.shape_zyx:
            return False
        if not np.allclose(self.spacing, other.spacing, rtol=tol, atol=tol):
            return False
        scale = max(1.0, float(np.max(np.abs(self.origin))))
        if not np.allclose(self.origin, other.origin, atol=tol * scale):
            return False
        return bool(np.allclose(self.direction, other.direction, atol=tol))

    def orientation_code(self) -> str:
        """Three letters naming where each index axis (x, y, z) points, e.g. 'LPS' or 'RAS'.

        Letters follow the ITK/DICOM convention: the letter is the direction the axis points to
        (increasing index), so an identity direction is 'LPS'.
        """
        letters = []
        for col in range(3):
            v = self.direction[:, col]
            k = int(np.argmax(np.abs(v)))
            letters.append(_AXIS_LETTERS_LPS[k][0 if v[k] > 0 else 1])
        return "".join(letters)

    def is_oblique(self, tol: float = 1e-3) -> bool:
        return bool(np.any((np.abs(self.direction) > tol) & (np.abs(self.direction) < 1 - tol)))

    @classmethod
    def from_dict(cls, data: dict) -> Geometry:
        """The inverse of `to_dict`; ValueError (or TypeError/KeyError) when `data` is not one."""
        size = [int(v) for v in data["size"]]
        if len(size) != 3 or min(size) < 1:
            raise ValueError(f"geometry size must be 3 positive integers, got {size}")
        origin = [float(v) for v in data["origin"]]
        direction = np.array(data["direction"], dtype=float)
        if direction.shape != (3, 3) or not np.all(np.isfinite(direction)):
            raise ValueError("geometry direction must be a finite 3x3 matrix")
        if not np.all(np.isfinite(origin)):
            raise ValueError("geometry origin must be finite")
        return cls(tuple(size[::-1]), tuple(data["spacing"]), tuple(origin), direction)

    def to_dict(self) -> dict:
        return {
            "size": list(self.size_xyz),
            "spacing": list(self.spacing),
            "origin": list(self.origin),
            "direction": self.direction.tolist(),
            "orientation": self.orientation_code(),
        }
