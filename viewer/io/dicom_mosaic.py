"""Siemens mosaic files: one stored image holding a grid of slices (fMRI, DTI, EPI).

The header gives the number of slices (tag 0019,100A, the image CSA header or the series
protocol text), the slice normal (image CSA header, else row x column) and the position of the whole mosaic's
corner, which is moved to the first tile's corner here.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pydicom

_N_IMAGES_TAG = (0x0019, 0x100A)
_ACQ_MATRIX_TEXT_TAG = (0x0051, 0x100B)
_SERIES_CSA_TAG = (0x0029, 0x1020)


class MosaicLayout:
    """How many slices, the tile size, and the slice normal of a mosaic."""

    def __init__(
        self, n: int, tile_rows: int, tile_cols: int, grid: int, normal: np.ndarray | None
    ) -> None:
        self.n, self.tile_rows, self.tile_cols, self.grid, self.normal = (
            n,
            tile_rows,
            tile_cols,
            grid,
            normal,
        )
        self.reversed = False


def mosaic_layout(ds: pydicom.Dataset, rows: int, cols: int) -> MosaicLayout | None:
    n = _n_images(ds)
    if not n or n < 1:
        return None
    grid = math.ceil(math.sqrt(n))
    if rows % grid or cols % grid:
        return None
    layout = MosaicLayout(n, rows // grid, cols // grid, grid, _normal(ds))
    # Without an image CSA normal, the protocol's "image numbering reversed" flag says that the
    # tiles run against row x column (the last tile lies at the stored position's end).
    layout.reversed = layout.normal is None and bool(
        re.search(rb"sSliceArray\.ucImageNumb(?:Sag|Cor|Tra)\s*=\s*0x1\b", _series_text(ds))
    )
    return layout


def corrected_origin(
    position: np.ndarray,
    orientation: np.ndarray,
    spacing: tuple[float, float],
    rows: int,
    cols: int,
    layout: MosaicLayout,
) -> np.ndarray:
    """Move the mosaic corner position to the corner of one tile."""
    row_dir, col_dir = orientation[:3], orientation[3:]
    return (
        position
        + row_dir * spacing[1] * (cols - layout.tile_cols) / 2.0
        + col_dir * spacing[0] * (rows - layout.tile_rows) / 2.0
    )


def unpack(pixels: np.ndarray, layout: MosaicLayout) -> np.ndarray:
    """(1, rows, cols[, s]) mosaic -> (n, tile_rows, tile_cols[, s]) slices."""
    g, tr, tc = layout.grid, layout.tile_rows, layout.tile_cols
    img = pixels[0]
    extra = img.shape[2:]
    tiles = img.reshape((g, tr, g, tc) + extra).swapaxes(1, 2).reshape((g * g, tr, tc) + extra)
    return np.ascontiguousarray(tiles[: layout.n])


def _n_images(ds: pydicom.Dataset) -> int | None:
    elem = ds.get(_N_IMAGES_TAG)
    if elem is not None:
        try:
            return int(_scalar(elem.value))
        except (TypeError, ValueError):
            pass
    csa = _image_csa(ds)
    if csa is not None:
        try:
            from nibabel.nicom import csareader

            return int(csareader.get_n_mosaic(csa))
        except Exception:  # tag absent or malformed in this CSA header
            pass
    m = re.search(rb"sSliceArray\.lSize\s*=\s*(\d+)", _series_text(ds))
    return int(m.group(1)) if m else None


def _normal(ds: pydicom.Dataset) -> np.ndarray | None:
    csa = _image_csa(ds)
    if csa is not None:
        try:
            from nibabel.nicom import csareader

            v = csareader.get_slice_normal(csa)
            if v is not None and len(v) == 3:
                return np.asarray(v, dtype=float) / np.linalg.norm(v)
        except Exception:  # absent or malformed
            pass
    # Without an image CSA header the series protocol's slab normal does not tell the order
    # of the tiles; the caller then uses row x column, which matches Siemens' tile order.
    return None


def _image_csa(ds: pydicom.Dataset):
    try:
        from nibabel.nicom import csareader

        return csareader.get_csa_header(ds, "image")
    except Exception:  # no or unreadable CSA header
        return None


def _series_text(ds: pydicom.Dataset) -> bytes:
    elem = ds.get(_SERIES_CSA_TAG)
    value = getattr(elem, "value", b"") if elem is not None else b""
    return value if isinstance(value, bytes) else b""


def _scalar(value):
    if isinstance(value, bytes):
        return int.from_bytes(value[:2], "little") if len(value) >= 2 else None
    if isinstance(value, (list, tuple)):
        return value[0]
    return value
