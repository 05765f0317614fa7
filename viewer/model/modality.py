"""Which modality an image is, when its file does not say (NIfTI, NRRD, MHA carry none).

One decision for the whole application: the GUI's window presets and the training-dataset
exports (nnU-Net `channel_names`, MSD `modality`) both ask `effective_modality`, so an image
shown with CT presets is also exported as CT (which selects nnU-Net's CT normalisation).
"""

from __future__ import annotations

import numpy as np

# Hounsfield units: air is about -1000; scanners pad outside the field of view with -1024,
# -2048 or -3024; bone and contrast reach several hundred to over 1000.
_AIR_HU = (-1100.0, -900.0)
_MIN_AIR_SHARE = 0.001  # every CT field of view holds some air (outside the body, bowel, lung)


def looks_like_ct(array: np.ndarray) -> bool:
    """True when the values are Hounsfield units: some voxels at air (-1100..-900 HU), none
    far below the usual padding values, and a range reaching soft tissue and bone (>= 100)."""
    if array.ndim != 3 or not array.size or array.dtype.kind not in "if":
        return False
    sample = array[:: max(1, array.shape[0] // 8)]  # a few slices are enough and fast
    lo, hi = float(sample.min()), float(sample.max())
    if not (lo <= _AIR_HU[1] and hi >= 100.0 and lo >= -4096.0):
        return False
    air = np.count_nonzero((sample >= _AIR_HU[0]) & (sample <= _AIR_HU[1]))
    return bool(air >= _MIN_AIR_SHARE * sample.size)


def effective_modality(modality: str, array: np.ndarray) -> str:
    """The header's modality (upper case), else "CT" when the values look like HU, else ""."""
    if modality:
        return modality.upper()
    return "CT" if looks_like_ct(array) else ""
