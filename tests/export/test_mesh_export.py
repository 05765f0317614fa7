"""Surface meshes: world coordinates, outward normals on any orientation, STL/OBJ files."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.errors import SaveError
from viewer.io.mesh_export import export_meshes, mesh_volume_mm3, segment_mesh
from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

FLIP_Y = np.diag([1.0, -1.0, 1.0])


def _ball(direction: np.ndarray) -> LabelMap:
    g = Geometry((24, 30, 30), (0.8, 0.8, 1.5), (10.0, -20.0, 5.0), direction)
    z, y, x = np.mgrid[:24, :30, :30]
    world = g.index_to_world(np.stack([z, y, x], -1).reshape(-1, 3)).reshape(24, 30, 30, 3)
    centre = g.index_to_world([12, 15, 15])
    inside = np.linalg.norm(world - centre, axis=-1) <= 9.0
    return LabelMap(g, inside.astype(np.uint16) * 4)


@pytest.mark.parametrize("direction", [np.eye(3), FLIP_Y], ids=["LPS", "LAS"])
def test_mesh_is_in_world_coordinates_with_outward_normals(direction):
    labels = _ball(direction)
    verts, faces = segment_mesh(labels, 4)
    centre = labels.geometry.index_to_world([12, 15, 15])
    r = np.linalg.norm(verts - centre, axis=1)
    assert 8.0 < r.min() and r.max() < 10.0  # a 9 mm ball around the right place
    volume = mesh_volume_mm3(verts, faces)
    voxels = int((labels.array == 4).sum()) * labels.geometry.voxel_volume_mm3
    assert volume > 0  # normals point outwards
    assert abs(volume - voxels) / voxels < 0.08


def test_stl_and_obj_files(tmp_path):
    labels = _ball(np.eye(3))
    table = SegmentTable()
    table.add("left kidney", segment_id=4)
    (stl,) = export_meshes(labels, tmp_path / "m", table, "stl")
    (obj,) = export_meshes(labels, tmp_path / "m", table, "obj")
    assert stl.name == "4_left_kidney.stl" and obj.name == "4_left_kidney.obj"
    data = stl.read_bytes()
    assert data[:9] == b"SPACE=LPS"
    n = int.from_bytes(data[80:84], "little")
    assert len(data) == 84 + 50 * n
    tri = np.frombuffer(data[84:], dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    verts, faces = segment_mesh(labels, 4)
    np.testing.assert_allclose(tri["v"].reshape(-1, 3), verts[faces].reshape(-1, 3), atol=1e-4)
    lines = obj.read_text().splitlines()
    assert lines[0] == "# SPACE=LPS"
    assert sum(1 for x in lines if x.startswith("v ")) == len(verts)
    assert sum(1 for x in lines if x.startswith("f ")) == n


def test_empty_labels_are_refused(tmp_path):
    g = Geometry((3, 3, 3))
    with pytest.raises(SaveError, match="empty"):
        export_meshes(LabelMap(g), tmp_path)
    with pytest.raises(SaveError, match="mesh format"):
        export_meshes(LabelMap(g), tmp_path, fmt="ply")


def test_a_cancelled_mesh_export_stops_between_surfaces(tmp_path):
    from viewer.errors import ExportCancelled

    g = Geometry((12, 12, 12))
    array = np.zeros(g.shape_zyx, np.uint16)
    array[1:4, 1:4, 1:4] = 1
    array[6:9, 6:9, 6:9] = 2
    array[1:4, 6:9, 6:9] = 3
    asked = []

    def stop_after_one() -> bool:
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(
        ExportCancelled, match="export cancelled after 1 of 3 surfaces: none written"
    ):
        export_meshes(LabelMap(g, array), tmp_path / "m", None, "stl", should_stop=stop_after_one)
    assert list((tmp_path / "m").iterdir()) == []  # all or none: nothing half-done


def test_a_mesh_export_that_fails_partway_leaves_the_earlier_export_as_it_was(
    tmp_path, monkeypatch
):
    import viewer.io.mesh_export as mesh_export
    from viewer.errors import SaveError

    g = Geometry((12, 12, 12))
    array = np.zeros(g.shape_zyx, np.uint16)
    array[1:4, 1:4, 1:4] = 1
    array[6:9, 6:9, 6:9] = 2
    array[1:4, 6:9, 6:9] = 3
    out = tmp_path / "m"
    first = export_meshes(LabelMap(g, array), out, None, "stl")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(before) == ["1_Segment_1.stl", "2_Segment_2.stl", "3_Segment_3.stl"]
    assert [p.name for p in first] == sorted(before)
    grown = array.copy()
    grown[grown > 0] = 0
    grown[0:5, 0:5, 0:5] = 1
    grown[5:10, 5:10, 5:10] = 2
    grown[0:5, 5:10, 5:10] = 3
    real = mesh_export.segment_mesh

    def fail_on_the_third(labels, value):
        if value == 3:
            raise OSError(28, "No space left on device")
        return real(labels, value)

    monkeypatch.setattr(mesh_export, "segment_mesh", fail_on_the_third)
    with pytest.raises(SaveError, match="No space left on device"):
        export_meshes(LabelMap(g, grown), out, None, "stl")
    # before: surfaces 1 and 2 were the new ones and 3 the old one
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
