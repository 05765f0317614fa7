"""Embedded interactive segmentation core: numpy in, numpy out; no Qt, VTK, SimpleITK or viewer.

from segmentation_core import open_session
s = open_session()                  # the shipped Paddle model; engine="classic" for the baseline
s.set_image(array_zyx, spacing_zyx)
p = s.add_click((z, y, x), positive=True)   # Prediction(bbox, mask)
"""

from __future__ import annotations


def open_session(*args, **kwargs):
    """Open an interactive segmentation session (see `segmentation_core.api.open_session`)."""
    from segmentation_core.api import open_session as _open

    return _open(*args, **kwargs)


__all__ = ["open_session"]
