"""Memory of the session: undo records are bit-packed, non-finite pixels are fixed in place."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core import open_session


def test_undo_records_are_packed_and_restore_exactly(blob_case):
    image, spacing, _ = blob_case
    s = open_session("classic")
    s.set_image(image, spacing)
    states = [s.segmentation()]
    packed = 0  # one bit per voxel of each answer's box, rounded up to whole bytes
    for zyx, positive in [((20, 20, 20), True), ((20, 20, 30), False), ((20, 30, 44), True)]:
        box = s.add_click(zyx, positive).bbox
        packed += -(-int(np.prod([box[k + 3] - box[k] for k in range(3)])) // 8)
        states.append(s.segmentation())
        assert s.undo_nbytes == packed
    assert not np.array_equal(states[1], states[2])  # the negative click changed something
    for want in reversed(states[:-1]):
        s.undo()
        assert np.array_equal(s.segmentation(), want)


def test_non_finite_pixels_become_the_lowest_finite_value(blob_case):
    image, spacing, _ = blob_case
    img = image.astype(np.float32)
    img[0, 0, :3] = [np.nan, np.inf, -np.inf]
    s = open_session("classic")
    s.set_image(img, spacing)
    kept = s.image
    assert np.isfinite(kept).all() and kept[0, 0, :3].tolist() == [img[np.isfinite(img)].min()] * 3
    assert np.isnan(img[0, 0, 0])  # the caller's array is untouched
    s.set_image(np.full((4, 5, 6), np.nan), spacing)  # nothing finite: zeros, not NaN
    np.testing.assert_array_equal(s.image, np.zeros((4, 5, 6)))
    with pytest.raises(ValueError):  # the session's copy is read-only
        s.image[0, 0, 0] = 1
