"""Label edits that store only what changed: a box, where in it, the old and the new values.

A `LabelEdit` keeps the changed voxels either as flat indices into the label array (sparse
edits such as a brush dab) or as a bit-packed mask of its bounding box (dense edits such as a
whole-volume smoothing), whichever is smaller. Old and new values collapse to one number when
they are uniform (painting one label over background), so a stroke costs ~4 bytes per voxel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from segmentation_core.masks import BBox, box_slices, union_box
from viewer.commands.base import Command

if TYPE_CHECKING:
    from viewer.model.document import Document


def _compact(values: np.ndarray) -> np.ndarray | int:
    """One number when all values are equal, else the array itself."""
    if values.size and values.min() == values.max():
        return int(values.flat[0])
    return values


MAX_XOR_GROUPS = 8


def _xor_groups(diff: np.ndarray) -> list[tuple[int, np.ndarray]] | None:
    """Group changed voxels by `old ^ new`; None when there are more than MAX_XOR_GROUPS."""
    seen: set[int] = set()
    step = max(1, 4_000_000 // max(1, diff[0].size))
    for z in range(0, diff.shape[0], step):  # chunks keep the histogram's memory small
        counts = np.bincount(diff[z : z + step].ravel())
        seen.update(int(v) for v in np.flatnonzero(counts) if v)
        if len(seen) > MAX_XOR_GROUPS:
            return None
    return [(d, np.packbits(diff == d, axis=None)) for d in sorted(seen)]


def _xor_packed(box: np.ndarray, packed: np.ndarray, d: int) -> None:
    """box ^= d where the bit-packed mask (C order over box) is set; slab by slab so the
    temporaries stay small and in cache."""
    plane = box.shape[1] * box.shape[2]
    step = max(1, 1_000_000 // max(1, plane))
    dval = box.dtype.type(d)
    for z in range(0, box.shape[0], step):
        z1 = min(box.shape[0], z + step)
        b0, b1 = z * plane, z1 * plane
        bits = np.unpackbits(packed[b0 // 8 : (b1 + 7) // 8])[b0 % 8 : b0 % 8 + (b1 - b0)]
        slab = box[z:z1]
        np.bitwise_xor(slab, bits.reshape(slab.shape) * dval, out=slab)


def _nbytes(v: np.ndarray | int) -> int:
    return v.nbytes if isinstance(v, np.ndarray) else 8


class LabelEdit(Command):
    """A change of label values inside `bbox`; `do` writes the new values, `undo` the old ones."""

    def __init__(
        self,
        name: str,
        bbox: BBox,
        shape: tuple[int, int, int],
        *,
        flat_index: np.ndarray | None,
        packed_mask: np.ndarray | None,
        old: np.ndarray | int,
        new: np.ndarray | int,
        count: int,
    ) -> None:
        self.name = name
        self.bbox = bbox
        self.shape = shape
        self.flat_index = flat_index
        self.packed_mask = packed_mask
        self.old = old
        self.new = new
        self.count = count
        # dense edits with few distinct (old ^ new) values: [(old ^ new, packed mask)]
        self.xor_groups: list[tuple[int, np.ndarray]] | None = None

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_box(
        cls, name: str, array: np.ndarray, bbox: BBox, new_box: np.ndarray
    ) -> LabelEdit | None:
        """The edit that turns `array[bbox]` into `new_box`; None when nothing would change."""
        sl = box_slices(bbox)
        old_box = array[sl]
        if old_box.shape != new_box.shape:
            raise ValueError(f"new values {new_box.shape} do not fit box {old_box.shape}")
        new_box = new_box.astype(array.dtype, copy=False)
        diff = np.bitwise_xor(old_box, new_box)
        changed = diff != 0
        count = int(np.count_nonzero(changed))
        if count == 0:
            return None
        # Shrink the box to the changed voxels so the edit and its notification stay small.
        nz = [
            np.flatnonzero(changed.any(axis=tuple(a for a in range(3) if a != k))) for k in range(3)
        ]
        lo = [int(n[0]) for n in nz]
        hi = [int(n[-1]) + 1 for n in nz]
        tight = tuple(slice(a, b) for a, b in zip(lo, hi))
        changed, diff = changed[tight], diff[tight]
        bbox = (
            bbox[0] + lo[0],
            bbox[1] + lo[1],
            bbox[2] + lo[2],
            bbox[0] + hi[0],
            bbox[1] + hi[1],
            bbox[2] + hi[2],
        )
        shape = tuple(int(s) for s in array.shape)
        idx_dtype = np.uint32 if array.size < 2**32 else np.int64
        if count * np.dtype(idx_dtype).itemsize <= changed.size // 8:
            zz, yy, xx = np.nonzero(changed)
            old_vals = old_box[tight][zz, yy, xx]
            new_vals = new_box[tight][zz, yy, xx]
            flat = np.ravel_multi_index((zz + bbox[0], yy + bbox[1], xx + bbox[2]), shape)
            return cls(
                name, bbox, shape, flat_index=flat.astype(idx_dtype), packed_mask=None,
                old=_compact(old_vals), new=_compact(new_vals), count=count,
            )  # fmt: skip
        groups = _xor_groups(diff)
        if groups is not None:
            edit = cls(
                name, bbox, shape, flat_index=None, packed_mask=None, old=0, new=0, count=count
            )
            edit.xor_groups = groups
            return edit
        return cls(
            name, bbox, shape, flat_index=None, packed_mask=np.packbits(changed, axis=None),
            old=_compact(old_box[tight][changed]), new=_compact(new_box[tight][changed]),
            count=count,
        )  # fmt: skip

    # --- application --------------------------------------------------------------------
    def _write(self, doc: Document, values: np.ndarray | int) -> None:
        arr = doc.labels.array
        if tuple(arr.shape) != self.shape:
            raise ValueError("label edit does not fit this label map")
        doc.notify_labels_changing(self.bbox)
        if self.xor_groups is not None:
            # old ^ d = new and new ^ d = old: undo and redo are the same branch-free XOR
            box = arr[box_slices(self.bbox)]
            for d, packed in self.xor_groups:
                _xor_packed(box, packed, d)
        elif self.flat_index is not None:
            if arr.flags.c_contiguous:
                arr.reshape(-1)[self.flat_index] = values
            else:
                arr[np.unravel_index(self.flat_index, self.shape)] = values
        else:
            sl = box_slices(self.bbox)
            box = arr[sl]
            mask = np.unpackbits(self.packed_mask, count=box.size).view(bool).reshape(box.shape)
            box[mask] = values
        doc.notify_labels_changed(self.bbox)

    def do(self, doc: Document) -> None:
        self._write(doc, self.new)

    def undo(self, doc: Document) -> None:
        self._write(doc, self.old)

    def nbytes(self) -> int:
        n = _nbytes(self.old) + _nbytes(self.new) + 200
        n += self.flat_index.nbytes if self.flat_index is not None else 0
        n += self.packed_mask.nbytes if self.packed_mask is not None else 0
        n += sum(p.nbytes for _, p in self.xor_groups or ())
        return n


class StrokeCommand(Command):
    """A sequence of label edits made by one gesture (press, moves, release): one undo step.

    The first edit is applied by the history as usual; later ones arrive already applied and
    are appended by `merge`. Undo walks the atoms backwards, so overlapping dabs restore exactly.
    """

    def __init__(self, name: str, merge_id: object, first: LabelEdit | None = None) -> None:
        self.name = name
        self.merge_id = merge_id
        self.atoms: list[LabelEdit] = [first] if first is not None else []

    @property
    def bbox(self) -> BBox | None:
        out = None
        for a in self.atoms:
            out = union_box(out, a.bbox)
        return out

    def do(self, doc: Document) -> None:
        for a in self.atoms:
            a.do(doc)

    def undo(self, doc: Document) -> None:
        for a in reversed(self.atoms):
            a.undo(doc)

    def nbytes(self) -> int:
        return sum(a.nbytes() for a in self.atoms) + 100

    def merge(self, other: Command) -> bool:
        if not isinstance(other, StrokeCommand) or other.merge_id != self.merge_id:
            return False
        self.atoms.extend(other.atoms)
        return True
