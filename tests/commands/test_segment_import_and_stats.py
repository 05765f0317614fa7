"""Colour-table import (JSON, ITK-SNAP, Slicer) and per-segment statistics on real CT."""

from __future__ import annotations

import math

import numpy as np
import pytest

from viewer.commands import History
from viewer.commands.segment_commands import ReplaceSegmentTable
from viewer.errors import LoadError
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document
from viewer.model.segment_io import (
    apply_colour_table,
    read_colour_table,
    read_itksnap,
    read_json_map,
    read_slicer_ctbl,
)
from viewer.model.statistics import segment_statistics, statistics_csv

ITKSNAP = """################################################
# ITK-SnAP Label Description File
################################################
    0     0    0    0        0  0  0    "Clear Label"
    1   255    0    0        1  1  1    "Liver tumour"
    2     0  255    0        1  0  1    "Spleen"
"""

SLICER = """# Color table file
# 3 values
0 Background 0 0 0 0
1 liver 221 130 101 255
5 right_kidney 185 102 83 255
"""


def test_readers(tmp_path, real_data):
    p = tmp_path / "snap.txt"
    p.write_text(ITKSNAP)
    segs = read_itksnap(p)
    assert [(s.id, s.name, s.colour, s.visible) for s in segs] == [
        (1, "Liver tumour", (255, 0, 0), True),
        (2, "Spleen", (0, 255, 0), False),
    ]
    c = tmp_path / "t.ctbl"
    c.write_text(SLICER)
    assert [(s.id, s.name, s.colour) for s in read_slicer_ctbl(c)] == [
        (1, "liver", (221, 130, 101)),
        (5, "right_kidney", (185, 102, 83)),
    ]
    j = tmp_path / "m.json"
    j.write_text('{"3": {"name": "aorta", "color": [1.0, 0.5, 0]}, "4": "vein"}')
    assert [(s.id, s.name, s.colour) for s in read_json_map(j)][0] == (3, "aorta", (255, 128, 0))
    real = read_colour_table(real_data / "seg" / "ct_abdomen_small" / "labels.json")
    assert real[0].id == 1 and real[0].name == "spleen" and len(real) >= 40
    assert [s.name for s in read_colour_table(p)] == ["Liver tumour", "Spleen"]
    assert [s.name for s in read_colour_table(c)] == ["liver", "right_kidney"]


def test_bad_files_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text('1 255 0 0 1 1 1 "ok"\nx 0 0 0 1 1 1 "broken"\n')
    with pytest.raises(LoadError, match=r"bad.txt: line 2: label value 'x'"):
        read_itksnap(bad)
    j = tmp_path / "bad.json"
    j.write_text("{nope")
    with pytest.raises(LoadError, match="bad.json"):
        read_json_map(j)
    with pytest.raises(LoadError, match="cannot read"):
        read_colour_table(tmp_path / "missing.ctbl")


def test_import_is_undoable_and_keeps_locks():
    geo = Geometry((2, 2, 2))
    doc = Document(Volume(np.zeros((2, 2, 2)), geo))
    doc.segments.add("A")
    doc.segments.get(1).locked = True
    from viewer.model.segments import Segment

    merged = apply_colour_table(
        doc.segments, [Segment(1, "Liver", (1, 2, 3)), Segment(7, "X", (4, 5, 6))]
    )
    h = History(doc)
    h.push(ReplaceSegmentTable(merged))
    assert [(s.id, s.name, s.locked) for s in doc.segments] == [(1, "Liver", True), (7, "X", False)]
    h.undo()
    assert [(s.id, s.name) for s in doc.segments] == [(1, "A")]


def test_statistics_on_ct(ct_doc):
    doc = ct_doc
    rows = segment_statistics(doc)
    liver = next(r for r in rows if r.segment_id == 5)
    mask = doc.labels.array == 5
    vals = doc.volume.array[mask].astype(float)
    assert liver.voxels == mask.sum()
    assert math.isclose(liver.volume_ml, mask.sum() * 27 / 1000)
    assert math.isclose(liver.mean, vals.mean(), rel_tol=1e-9)
    assert math.isclose(liver.std, vals.std(), rel_tol=1e-6)
    assert (liver.min, liver.max) == (vals.min(), vals.max())
    doc.segments.add("Empty")
    rows = segment_statistics(doc)
    assert rows[-1].voxels == 0 and math.isnan(rows[-1].mean)
    text = statistics_csv(rows)
    lines = text.splitlines()
    assert lines[0] == "segment_id,name,voxels,volume_ml,mean,std,min,max"
    assert lines[-1].startswith(f"{rows[-1].segment_id},Empty,0,0,,")
    assert len(lines) == len(rows) + 1


@pytest.fixture
def ct_doc(real_data):
    import SimpleITK as sitk

    d = real_data / "seg" / "ct_abdomen_small"
    im = sitk.ReadImage(str(d / "image.nii.gz"))
    arr = sitk.GetArrayFromImage(im)
    geo = Geometry(
        arr.shape, im.GetSpacing(), im.GetOrigin(), np.reshape(im.GetDirection(), (3, 3))
    )
    lab = sitk.GetArrayFromImage(sitk.ReadImage(str(d / "label.nii.gz"))).astype(np.uint16)
    return Document(Volume(arr, geo), LabelMap(geo, lab))
