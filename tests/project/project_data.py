"""Tiny generated images and labels for the project tests (importable by spawned workers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.io import save_labels, save_volume
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.project import LabelDef, Project

LABELS = [LabelDef(1, "liver", (200, 80, 60)), LabelDef(2, "spleen", (60, 80, 200))]
GRID = Geometry((8, 10, 12), (1.5, 1.0, 2.0), (10.0, -5.0, 3.0))


def blob_label(shape=(8, 10, 12), shift: int = 0) -> np.ndarray:
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    lab = np.zeros(shape, np.uint16)
    lab[((z - 4) ** 2 + (y - 4) ** 2 + (x - 4 - shift) ** 2) <= 6] = 1
    lab[((z - 4) ** 2 + (y - 6) ** 2 + (x - 9) ** 2) <= 3] = 2
    return lab


def write_image(path: Path, grid: Geometry = GRID, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    array = (rng.normal(0, 10, grid.shape_zyx) + 100 * blob_label(grid.shape_zyx)).astype(np.int16)
    save_volume(array, grid, path)
    return path


def write_label(path: Path, array: np.ndarray, grid: Geometry = GRID) -> Path:
    save_labels(path, LabelMap(grid, array))
    return path


def make_project(folder: Path, n_images: int = 0, src: Path | None = None) -> Project:
    project = Project.create(folder, "test", LABELS)
    src = src or folder.parent / "src"
    src.mkdir(exist_ok=True)
    for i in range(n_images):
        project.add_case(write_image(src / f"img{i}.nii.gz", seed=i), patient_id=f"p{i}")
    return project


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a folder by relative path (to compare a project before and after)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


BIG = Geometry((24, 32, 32), (1.5, 1.0, 1.0), (-20.0, 4.0, 7.5))


def sphere_label(shape=(24, 32, 32), shift: int = 0) -> np.ndarray:
    """Two balls (values 1 and 2) of a few mL on a 1.5 mm grid: targets the harness keeps."""
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    lab = np.zeros(shape, np.uint16)
    lab[((z - 12) ** 2 + (y - 11 - shift) ** 2 + (x - 11) ** 2) <= 49] = 1
    lab[((z - 12) ** 2 + (y - 22) ** 2 + (x - 22 + shift) ** 2) <= 30] = 2
    return lab


def make_trainable_project(folder: Path, n_cases: int = 2) -> Project:
    """A project of `n_cases` finished 24x32x32 cases (a real fine-tune can run on them)."""
    project = Project.create(folder, "tiny", LABELS)
    src = folder.parent / "src"
    src.mkdir(exist_ok=True)
    for i in range(n_cases):
        lab = sphere_label(shift=i)
        rng = np.random.default_rng(i)
        img = (rng.normal(0, 8, BIG.shape_zyx) + 60 * lab).astype(np.float32)
        save_volume(img, BIG, src / f"case{i}.nii.gz")
        write_label(src / f"case{i}_label.nii.gz", lab, BIG)
        project.add_case(
            src / f"case{i}.nii.gz", src / f"case{i}_label.nii.gz", final=True, patient_id=f"p{i}"
        )
    return project
