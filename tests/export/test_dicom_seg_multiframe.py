"""DICOM SEG export of an image loaded from an enhanced multi-frame file (issue 20, item 13).

The source is made in the test from the real 4-slice MR in tests/data/dicom/non_isotropic:
highdicom's legacy conversion writes it as one Enhanced MR Image whose frames run against the
slice order (the loader sorts them along the normal), so the mapping from volume slices to
source frames is exercised.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from viewer.errors import SaveError
from viewer.io import load_volume
from viewer.io.dicom_seg import export_dicom_seg
from viewer.io.dicom_seg_import import read_dicom_seg
from viewer.model.labelmap import LabelMap
from viewer.model.segments import SegmentTable

SERIES = Path(__file__).resolve().parent.parent / "data" / "dicom" / "non_isotropic"


@pytest.fixture
def enhanced_mr(tmp_path) -> Path:
    slices = [pydicom.dcmread(p) for p in sorted(SERIES.glob("*.dcm"))]
    for_uid = hd.UID()
    for ds in slices:
        ds.FrameOfReferenceUID = for_uid  # the test files lack one; a SEG needs it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = hd.legacy.LegacyConvertedEnhancedMRImage(
            slices[::-1],  # frame 1 is the last slice along the normal
            series_instance_uid=hd.UID(),
            series_number=5,
            sop_instance_uid=hd.UID(),
            instance_number=1,
        )
    path = tmp_path / "enhanced_mr.dcm"
    mf.save_as(path)
    return path


def _labels(volume) -> tuple[LabelMap, SegmentTable]:
    a = np.zeros(volume.geometry.shape_zyx, np.uint16)
    a[0, 2:10, 5:30] = 1  # first slice along the normal
    a[2, 12:20, 40:60] = 2
    a[2, 3:6, 3:9] = 1
    table = SegmentTable()
    table.add("lesion", segment_id=1)
    table.add("muscle", segment_id=2)
    return LabelMap(volume.geometry, a), table


def test_seg_of_an_enhanced_multiframe_image(enhanced_mr, tmp_path):
    volume = load_volume(str(enhanced_mr))
    assert volume.metadata["frame_numbers"] == [4, 3, 2, 1]
    labels, table = _labels(volume)
    result = export_dicom_seg(volume, labels, tmp_path / "seg.dcm", table)
    assert result.segments == 2 and result.frames == 3  # empty frames are left out

    seg = hd.seg.segread(result.path)
    source = pydicom.dcmread(enhanced_mr)
    assert seg.FrameOfReferenceUID == source.FrameOfReferenceUID
    (ref,) = seg.ReferencedSeriesSequence
    assert ref.SeriesInstanceUID == source.SeriesInstanceUID
    assert [i.ReferencedSOPInstanceUID for i in ref.ReferencedInstanceSequence] == [
        source.SOPInstanceUID
    ]
    # every SEG frame: derived from the right source frame, at that frame's position, and
    # holding exactly the label's pixels of that slice and segment
    source_positions = [
        [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient]
        for f in source.PerFrameFunctionalGroupsSequence
    ]
    pixels = seg.pixel_array.reshape(int(seg.NumberOfFrames), seg.Rows, seg.Columns)
    seen = set()
    for k, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        assert src["ReferencedFrameNumber"].VM == 1  # one source frame per SEG frame
        frame = int(src.ReferencedFrameNumber)
        z = volume.metadata["frame_numbers"].index(frame)
        position = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
        np.testing.assert_allclose(position, source_positions[frame - 1], atol=1e-5)
        label_id = {1: 1, 2: 2}[number]
        np.testing.assert_array_equal(pixels[k] > 0, labels.array[z] == label_id)
        seen.add((z, label_id))
    assert seen == {(0, 1), (2, 1), (2, 2)}

    back = read_dicom_seg(result.path, volume.geometry)
    np.testing.assert_array_equal(back.layers.to_labelmap().array, labels.array)


def test_classic_multiframe_without_positions_is_refused_in_one_line(tmp_path):
    """A multi-frame file without functional groups (NM, RT dose style): no frames to point at."""
    ds = pydicom.dcmread(sorted(SERIES.glob("*.dcm"))[0])
    ds.FrameOfReferenceUID = hd.UID()
    ds.NumberOfFrames = 2
    ds.GridFrameOffsetVector = [0.0, 0.5]
    ds.PixelData = ds.PixelData * 2
    path = tmp_path / "classic_mf.dcm"
    ds.save_as(path)
    volume = load_volume(str(path))
    labels = np.zeros(volume.geometry.shape_zyx, np.uint16)
    labels[1, 3:5, 3:5] = 1
    with pytest.raises(SaveError, match="without per-frame positions") as e:
        export_dicom_seg(volume, LabelMap(volume.geometry, labels), tmp_path / "seg.dcm")
    assert "\n" not in str(e.value)
