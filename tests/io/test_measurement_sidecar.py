"""The measurements sidecar: round trip, and strict one-line errors for hostile files."""

from __future__ import annotations

import json
import os

import pytest

from viewer.errors import LoadError, SaveError
from viewer.io.measurement_sidecar import load_measurements, save_measurements, sidecar_path
from viewer.model.measurements import Measurement

RULER = {"kind": "ruler", "view": "axial", "points": [[0, 0, 0], [3, 4, 0]]}


def write(tmp_path, data) -> str:
    p = tmp_path / "l.nii.gz.measurements.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def doc(*items, **extra):
    return {"format": "radlabel-measurements", "version": 1, "measurements": list(items), **extra}


def test_round_trip_keeps_points_names_and_order(tmp_path):
    ms = [
        Measurement(4, "angle", "sagittal", ((1, 2, 3), (4.25, 5, 6), (7, 8, -9.5)), "Hip"),
        Measurement(9, "ellipse", "coronal", ((0.1, 0.2, 0.3), (1e-3, 5, 6)), "Lesion ROI"),
    ]
    path = sidecar_path(tmp_path / "case.seg.nrrd")
    assert path == str(tmp_path / "case.seg.nrrd.measurements.json")
    save_measurements(path, ms, {4: "31.0°"})
    back = load_measurements(path)
    assert [(m.id, m.kind, m.view, m.points, m.name) for m in back] == [
        (1, "angle", "sagittal", ms[0].points, "Hip"),
        (2, "ellipse", "coronal", ms[1].points, "Lesion ROI"),
    ]
    assert json.loads(open(path).read())["measurements"][0]["value"] == "31.0°"


def test_save_into_a_missing_folder_is_a_save_error(tmp_path):
    with pytest.raises(SaveError, match="the folder does not exist"):
        save_measurements(tmp_path / "nope" / "x.measurements.json", [])


@pytest.mark.parametrize(
    "data,reason",
    [
        ("", "not a valid JSON measurements file (Expecting value: line 1 column 1 (char 0))"),
        ([1, 2], 'not a RadLabel measurements file (no "format": "radlabel-measurements")'),
        (doc(version=2), "unsupported measurements version 2"),
        (doc(coordinates="RAS mm"), "unsupported coordinates 'RAS mm'"),
        ({"format": "radlabel-measurements", "version": 1}, '"measurements" must be a list'),
        (doc("ruler"), "measurement 1 is not an object"),
        (doc(RULER, {**RULER, "view": "oblique"}), "measurement 2: unknown view 'oblique'"),
        (doc({**RULER, "name": 5}), "measurement 1: the name must be text of at most 200 "
         "characters"),
        (doc({**RULER, "name": "x" * 201}), "measurement 1: the name must be text of at most "
         "200 characters"),
        (doc({**RULER, "points": [[0, 0, 0]]}), "measurement 1: a ruler needs 2 points of 3 "
         "finite numbers (mm)"),
        (doc({**RULER, "points": [[0, 0, True], [1, 1, 1]]}), "measurement 1: a ruler needs 2 "
         "points of 3 finite numbers (mm)"),
        (doc({**RULER, "points": [[0, 0, "1"], [1, 1, 1]]}), "measurement 1: a ruler needs 2 "
         "points of 3 finite numbers (mm)"),
        (doc({**RULER, "points": [[0, 0, 1e999], [1, 1, 1]]}), "measurement 1: a ruler needs 2 "
         "points of 3 finite numbers (mm)"),
        (doc({**RULER, "points": [[0, 0, 10**400], [1, 1, 1]]}), "measurement 1: a ruler needs "
         "2 points of 3 finite numbers (mm)"),
        (doc({**RULER, "points": [[0, 0, 1e308], [1, 1, 1]]}), "measurement 1: a point lies "
         "1e+308 mm from the origin (at most 1 km)"),
        (doc({**RULER, "points": [[0, -2000001, 0], [1, 1, 1]]}), "measurement 1: a point lies "
         "2e+06 mm from the origin (at most 1 km)"),
        (doc({**RULER, "kind": "x" * 100}), "measurement 1: unknown kind 'xxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxx..."),
    ],
)  # fmt: skip
def test_hostile_sidecar_is_one_load_error(tmp_path, data, reason):
    path = write(tmp_path, data)
    with pytest.raises(LoadError) as e:
        load_measurements(path)
    assert e.value.message == f"{path}: {reason}"
    assert "\n" not in e.value.message


def test_oversized_and_binary_sidecars(tmp_path, monkeypatch):
    path = write(tmp_path, doc(RULER))
    monkeypatch.setattr("viewer.io.measurement_sidecar.MAX_BYTES", 10)
    with pytest.raises(LoadError, match=r"measurements file too large \(\d+ bytes\)"):
        load_measurements(path)
    monkeypatch.undo()
    p = tmp_path / "bin.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(LoadError, match="not a valid JSON measurements file"):
        load_measurements(p)
    with pytest.raises(LoadError, match="cannot read measurements"):
        load_measurements(tmp_path / "missing.json")


def test_a_fifo_named_like_a_sidecar_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "labels.measurements.json"
    os.mkfifo(fifo)
    with pytest.raises(LoadError, match=r"cannot read measurements \(not a regular file\)"):
        load_measurements(fifo)
