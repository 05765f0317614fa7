"""`LoadedLabels.fit` names how a label file reached the image grid (a typed value, not a
sentence to parse); `how` keeps the sentence for the user."""

from __future__ import annotations

import numpy as np

from viewer.io import open_labels, write_volume
from viewer.io.labels.format import GridFit
from viewer.io.labels.load_save import SAME
from viewer.model.geometry import Geometry
from viewer.model.volume import Volume

SHAPE = (4, 6, 8)


def _volume() -> Volume:
    g = Geometry(SHAPE, (1.0, 1.5, 2.0), (5.0, -3.0, 10.0))
    return Volume(np.zeros(SHAPE, np.int16), g, "CT", name="synthetic")


def _label_array() -> np.ndarray:
    a = np.zeros(SHAPE, np.uint16)
    a[1:3, 1:4, 2:5] = 3
    return a


def test_label_on_the_image_grid_fits_as_is(tmp_path):
    volume = _volume()
    write_volume(_label_array(), volume.geometry, str(tmp_path / "l.nii.gz"))
    got = open_labels(volume, tmp_path / "l.nii.gz", [])
    assert got.fit is GridFit.SAME_GRID and got.how == SAME and got.notes == []


def test_label_on_a_flipped_grid_is_resampled(tmp_path):
    volume = _volume()
    g = volume.geometry
    origin = np.asarray(g.origin) + g.direction[:, 1] * g.spacing[1] * (SHAPE[1] - 1)
    flipped = Geometry(SHAPE, g.spacing, tuple(origin), g.direction @ np.diag([1.0, -1.0, 1.0]))
    write_volume(_label_array()[:, ::-1, :].copy(), flipped, str(tmp_path / "f.nii.gz"))
    got = open_labels(volume, tmp_path / "f.nii.gz", [])
    assert got.fit is GridFit.RESAMPLED
    assert got.how == got.notes[0] and "nearest neighbour" in got.how
    np.testing.assert_array_equal(got.labelmap.array, _label_array())
