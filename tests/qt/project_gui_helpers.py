"""Shared pieces of the project GUI tests: small generated cases (image files and labels) and
pointing at voxels and table cells of the offscreen main window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore

from viewer.io import save_volume
from viewer.model.geometry import Geometry

SHAPE = (12, 32, 32)  # (z, y, x)
GRID = Geometry(SHAPE, (1.0, 1.0, 2.0), (5.0, -7.0, 11.0), np.eye(3))
CUBE = (slice(3, 9), slice(10, 22), slice(10, 22))  # the bright object of every case image


def make_image(path: Path, seed: int) -> Path:
    """A grey image with one bright cube (the structure the AI finds) and a little noise."""
    rng = np.random.default_rng(seed)
    a = (100 + rng.normal(0, 5, SHAPE)).astype(np.int16)
    a[CUBE] = 600 + seed
    save_volume(a, GRID, path)
    return path


def make_label(path: Path, value: int = 1) -> Path:
    lab = np.zeros(SHAPE, dtype=np.uint16)
    lab[CUBE] = value
    save_volume(lab, GRID, path)
    return path


def make_cases(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_image(folder / f"case{i}.nii.gz", i) for i in range(n)]


def viewport_pos(sv, index_zyx, doc) -> QtCore.QPoint:
    x, y, _ = sv.world_to_scene(doc.geometry.index_to_world(index_zyx))
    return sv.canvas.mapFromScene(sv.viewbox.mapViewToScene(pg.Point(x, y)))


def show_voxel(window, voxel) -> None:
    window.state.set_cursor(window.document.geometry.index_to_world(voxel))


def double_click_row(qtbot, table, row: int) -> None:
    """A real double-click on the row's first cell."""
    item = table.item(row, 0)
    table.scrollToItem(item)
    pos = table.visualItemRect(item).center()
    vp = table.viewport()
    qtbot.mouseClick(vp, QtCore.Qt.LeftButton, pos=pos)
    qtbot.mouseDClick(vp, QtCore.Qt.LeftButton, pos=pos)


def click_row(qtbot, table, row: int) -> None:
    item = table.item(row, 0)
    table.scrollToItem(item)
    qtbot.mouseClick(
        table.viewport(), QtCore.Qt.LeftButton, pos=table.visualItemRect(item).center()
    )
