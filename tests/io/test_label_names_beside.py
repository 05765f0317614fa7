"""Structure names kept beside label maps: our labels.json, SynthSeg's labels_table.txt (prose
above the rows, names with spaces) and FreeSurfer's colour LUT."""

from __future__ import annotations

import json

import pytest

from viewer.errors import LoadError
from viewer.io.label_map_files import label_names_beside
from viewer.model.segment_io import read_value_name_table

SYNTHSEG_TABLE = """List of the structures segmented by SynthSeg along with their label values.

Please note that the label values follow the FreeSurfer classification.

labels    structures
0         background
17        left hippocampus
53        right hippocampus
"""

FREESURFER_LUT = """#$Id: FreeSurferColorLUT.txt
#No. Label Name:                            R   G   B   A
0   Unknown                                 0   0   0   0
17  Left-Hippocampus                        220 216 20  0
53  Right-Hippocampus                       220 216 21  0
"""


def test_synthseg_table_rows_with_spaces(tmp_path):
    (tmp_path / "labels_table.txt").write_text(SYNTHSEG_TABLE)
    assert label_names_beside([tmp_path]) == {17: "left hippocampus", 53: "right hippocampus"}


def test_freesurfer_lut_names_and_colours(tmp_path):
    path = tmp_path / "FreeSurferColorLUT.txt"
    path.write_text(FREESURFER_LUT)
    segs = read_value_name_table(path)
    assert [(s.id, s.name, s.colour) for s in segs] == [
        (17, "Left-Hippocampus", (220, 216, 20)),
        (53, "Right-Hippocampus", (220, 216, 21)),
    ]


def test_json_first_and_beside_a_named_file(tmp_path):
    (tmp_path / "labels_table.txt").write_text(SYNTHSEG_TABLE)
    (tmp_path / "labels.json").write_text(json.dumps({"labels": {"17": "hippo L"}}))
    (tmp_path / "m1.nii.gz").write_bytes(b"")
    assert label_names_beside([tmp_path / "m1.nii.gz"]) == {17: "hippo L"}


def test_no_names_file_and_a_table_without_rows(tmp_path):
    assert label_names_beside([tmp_path]) == {}
    (tmp_path / "labels.txt").write_text("only prose here\nno rows\n")
    with pytest.raises(LoadError, match="no 'value name' rows found"):
        label_names_beside([tmp_path])


def test_an_itksnap_labels_txt_gives_the_quoted_names(tmp_path):
    (tmp_path / "labels.txt").write_text(
        "# ITK-SnAP Label Description File\n"
        '    0     0    0    0        0  0  0    "Clear Label"\n'
        '   17   255    0    0        1  1  1    "Left-Hippocampus"\n'
        '   53     0  255    0        1  1  1    "Right-Hippocampus"\n'
    )
    assert label_names_beside([tmp_path]) == {17: "Left-Hippocampus", 53: "Right-Hippocampus"}
