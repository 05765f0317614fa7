"""Display-frame maths (Qt-free): nearest anatomical axes, no-copy views, coordinates, letters."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.model.display_frame import DisplayFrame
from viewer.model.geometry import Geometry


def _rot_z(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])


def test_lps_grid_axial_is_the_array_slice_with_r_on_the_left():
    a = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    f = DisplayFrame.from_geometry(Geometry(a.shape))
    stack = f.view_stack(a, "axial")
    assert np.shares_memory(stack, a)  # a view, not a copy
    assert np.array_equal(stack[2], a[2])
    assert f.edge_letters("axial") == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert np.array_equal(f.view_stack(a, "axial", radiological=False)[2], a[2, :, ::-1])
    assert f.edge_letters("axial", radiological=False)["left"] == "L"


def test_coronal_and_sagittal_put_superior_on_top():
    a = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    f = DisplayFrame.from_geometry(Geometry(a.shape))
    assert np.array_equal(f.view_stack(a, "coronal")[1], a[::-1, 1, :])
    assert np.array_equal(f.view_stack(a, "sagittal")[3], a[::-1, :, 3])
    assert f.edge_letters("coronal") == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert f.edge_letters("sagittal") == {"left": "A", "right": "P", "top": "S", "bottom": "I"}


def test_flipped_and_permuted_grid_shows_the_same_picture():
    rng = np.random.default_rng(0)
    a = rng.random((4, 5, 6))
    g = Geometry(a.shape, (1.0, 2.0, 3.0), (0, 0, 0))
    # The same voxels stored RAS-like (x and y reversed) and with x/z swapped.
    flipped = a[:, ::-1, ::-1]
    gf = Geometry(a.shape, (1.0, 2.0, 3.0), g.index_to_world([0, 4, 5]), np.diag([-1.0, -1, 1]))
    perm = np.transpose(a, (2, 1, 0))  # array (x, y, z): index x axis is world z
    gp = Geometry(
        perm.shape, (3.0, 2.0, 1.0), (0, 0, 0), np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0.0]])
    )
    for arr, geo in ((flipped, gf), (perm, gp)):
        f = DisplayFrame.from_geometry(geo)
        for view in ("axial", "coronal", "sagittal"):
            ref = DisplayFrame.from_geometry(g).view_stack(a, view)
            assert np.array_equal(f.view_stack(arr, view), ref), view
            assert f.pixel_spacing(view) == DisplayFrame.from_geometry(g).pixel_spacing(view)


def test_view_coordinates_round_trip_through_world():
    g = Geometry((7, 8, 9), (0.5, 0.7, 2.0), (3, -4, 5), np.diag([-1.0, 1, -1]))
    f = DisplayFrame.from_geometry(g)
    world = g.index_to_world([2.0, 3.0, 4.0])
    for view in ("axial", "coronal", "sagittal"):
        v = f.world_to_view(world, view)
        assert np.allclose(f.view_to_world(v, view), world)
    # The pixel shown at (row, col) of slice s is the voxel view_to_index says it is.
    a = np.arange(7 * 8 * 9).reshape(7, 8, 9)
    stack = f.view_stack(a, "coronal")
    idx = np.rint(f.view_to_index([3, 2, 5], "coronal")).astype(int)
    assert stack[3, 2, 5] == a[tuple(idx)]


@pytest.mark.parametrize("deg, expect_swap", [(30, False), (60, True)])
def test_oblique_uses_nearest_anatomical_axes(deg, expect_swap):
    g = Geometry((5, 6, 7), direction=_rot_z(deg))
    f = DisplayFrame.from_geometry(g)
    # Display axis 2 (L) shows the index axis closest to world x.
    assert (f.src_axis[2] == 1) == expect_swap
    letters = f.edge_letters("axial")
    assert {letters["left"], letters["right"]} == {"R", "L"}
    assert {letters["top"], letters["bottom"]} == {"A", "P"}


def test_array_axis_of_each_view_follows_the_stored_order():
    import numpy as np

    from viewer.model.display_frame import array_axis_of_view
    from viewer.model.geometry import Geometry

    axial = Geometry((4, 5, 6))
    assert [array_axis_of_view(axial, v) for v in ("axial", "coronal", "sagittal")] == [0, 1, 2]
    sagittal_stack = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    g = Geometry((4, 5, 6), direction=sagittal_stack)
    assert [array_axis_of_view(g, v) for v in ("axial", "coronal", "sagittal")] == [1, 2, 0]
