"""Per-segment statistics kept current by label edits, touching only the voxels an edit changes.

`segment_statistics` reads the whole volume, far too slow to repeat after every brush stroke
on a large CT. The tracker computes the same numbers once,
then follows the document's edits: just before an edit writes (`Document.labels_changing`) it
copies the labels of the edit's box, just after (`labels_changed`) it compares them with the new
labels of that box and moves the changed voxels' count, sum, sum of squares and (for integer
images) intensity histogram from the old label to the new one. Min and max come from the
histogram, so every column stays exact. Without a histogram (float PET, wide-range integers, or
so many label values that label x intensity bins passes MAX_HIST_ENTRIES) min and max are kept
per segment: a removal that could take a segment's min or max marks it stale, and all stale ones
are recomputed in one pass over the volume the next time rows are asked for.

A change announced without a box (a replaced label map) makes the next `rows()` start afresh.
`voxels_read` counts the label voxels read since creation, so tests can tell a box-local update
from a full pass.
"""

from __future__ import annotations

import numpy as np

from segmentation_core.masks import box_slices
from viewer.model.document import Document
from viewer.model.statistics import SegmentStats

MAX_HIST_BINS = 1 << 17  # integer images spanning more values keep no histogram
MAX_HIST_ENTRIES = 8_000_000  # label values x bins (int32: 32 MB); beyond, no histogram
MAX_VALUES_PER_EDIT = 32  # an edit changing more label values is followed by a full pass
SLAB_VOXELS = 4_000_000  # full passes run slab by slab: float64 temporaries stay small


class StatisticsTracker:
    """Statistics of one document's segments; `rows()` returns them in table order."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.voxels_read = 0
        self.full_passes = 0
        self._valid = False
        self._pending: tuple[tuple[slice, slice, slice], np.ndarray] | None = None
        self._scalar = document.volume.is_segmentable
        self._vmin = 0
        self._bins = 0  # histogram bins, set by the first full pass (no work before it is asked)
        self._range_known = False
        self._counts = np.zeros(1, np.int64)
        # intensities count only finite voxels (a float image may hold NaN where it has no
        # data): their own count, so mean and std are over them and NaN never enters the sums
        self._finite = np.zeros(1, np.int64)
        self._sums = np.zeros(1, np.float64)
        self._sq = np.zeros(1, np.float64)
        self._hist: np.ndarray | None = None  # (label values, bins) int32, or None
        self._min: dict[int, float] = {}  # without a histogram
        self._max: dict[int, float] = {}
        self._stale_extremes: set[int] = set()
        self._changed: set[int] | None = None  # ids changed since take_changed(); None: all
        document.labels_changing.connect(self._before)
        document.labels_changed.connect(self._after)

    def close(self) -> None:
        """Stop following the document."""
        self.document.labels_changing.disconnect(self._before)
        self.document.labels_changed.disconnect(self._after)

    @property
    def ready(self) -> bool:
        """True when the statistics are computed and follow the edits (rows() is cheap)."""
        return self._valid

    def take_changed(self) -> set[int] | None:
        """Label values whose statistics changed since the last call (None: maybe all)."""
        changed, self._changed = self._changed, set()
        return changed

    # --- edits ------------------------------------------------------------------------------
    def _before(self, bbox) -> None:
        if not self._valid or bbox is None:
            self._pending = None
            return
        sl = box_slices(bbox)
        old = self.document.labels.array[sl].copy()
        self.voxels_read += old.size
        self._pending = (sl, old)

    def _after(self, bbox=None) -> None:
        pending, self._pending = self._pending, None
        if not self._valid:
            self._changed = None
            return
        if bbox is None or pending is None or pending[0] != box_slices(bbox):
            self._valid = False  # a change we did not see coming: start afresh when asked
            self._changed = None
            return
        sl, old = pending
        new = self.document.labels.array[sl]
        self.voxels_read += new.size
        changed = old != new
        if not changed.any():
            return
        o, n = old[changed], new[changed]
        present = [np.flatnonzero(np.bincount(x)) for x in (o, n)]  # O(n), unlike a sort
        if len(set(present[0]) | set(present[1])) > MAX_VALUES_PER_EDIT:
            self._valid = False  # a whole new label map, say: one full pass is cheaper
            self._changed = None
            return
        v = self.document.volume.array[sl][changed] if self._scalar else None
        self._grow(int(max(o.max(), n.max())))
        for labels, sign, values in ((o, -1, present[0]), (n, 1, present[1])):
            for value in values:
                value = int(value)
                if value == 0:
                    continue
                sel = labels == value
                self._move(value, v[sel] if v is not None else None, sign, int(sel.sum()))
                if self._changed is not None:
                    self._changed.add(value)

    def _grow(self, top: int) -> None:
        if top < self._counts.size:
            return
        extra = top + 1 - self._counts.size
        self._counts = np.concatenate([self._counts, np.zeros(extra, np.int64)])
        self._finite = np.concatenate([self._finite, np.zeros(extra, np.int64)])
        self._sums = np.concatenate([self._sums, np.zeros(extra)])
        self._sq = np.concatenate([self._sq, np.zeros(extra)])
        if self._hist is not None:
            if (top + 1) * self._bins > MAX_HIST_ENTRIES:
                self._drop_hist()
            else:
                more = np.zeros((extra, self._bins), np.int32)
                self._hist = np.concatenate([self._hist, more])

    def _drop_hist(self) -> None:
        """Too many label values for a histogram each: keep their min and max instead."""
        for value in np.flatnonzero(self._counts[: self._hist.shape[0]]):
            if value:
                self._min[int(value)], self._max[int(value)] = self._hist_extremes(int(value))
        self._hist = None

    def _move(self, value: int, values: np.ndarray | None, sign: int, count: int) -> None:
        self._counts[value] += sign * count
        if values is None:
            return
        f = values.astype(np.float64)
        if values.dtype.kind == "f":
            f = f[np.isfinite(f)]
        self._finite[value] += sign * f.size
        if f.size == 0:
            return
        self._sums[value] += sign * float(f.sum())
        self._sq[value] += sign * float((f * f).sum())
        if self._hist is not None:
            idx = values.astype(np.int64) - self._vmin
            self._hist[value] += (sign * np.bincount(idx, minlength=self._bins)).astype(np.int32)
            return
        lo, hi = float(f.min()), float(f.max())
        if sign > 0:
            self._min[value] = min(self._min.get(value, lo), lo)
            self._max[value] = max(self._max.get(value, hi), hi)
        elif lo <= self._min.get(value, np.inf) or hi >= self._max.get(value, -np.inf):
            self._stale_extremes.add(value)  # the removed voxels may have held the min or max

    # --- full passes ---------------------------------------------------------------------------
    def _value_bins(self) -> None:
        """One histogram bin per integer image value, when there are few enough of them."""
        self._range_known = True
        img = self.document.volume.array
        if self._scalar and img.dtype.kind in "iub" and img.size:
            lo, hi = (int(v) for v in self.document.volume.value_range())
            if hi - lo + 1 <= MAX_HIST_BINS:
                self._vmin, self._bins = lo, hi - lo + 1

    def _full_pass(self) -> None:
        if not self._range_known:
            self._value_bins()
        labels = self.document.labels.array
        img = self.document.volume.array
        top = int(labels.max()) if labels.size else 0
        n = top + 1
        self._counts = np.zeros(n, np.int64)
        self._finite = np.zeros(n, np.int64)
        self._sums = np.zeros(n)
        self._sq = np.zeros(n)
        self._min, self._max = {}, {}
        self._stale_extremes = set()
        use_hist = self._scalar and self._bins and n * self._bins <= MAX_HIST_ENTRIES
        self._hist = np.zeros((n, self._bins), np.int32) if use_hist else None
        plane = max(1, int(np.prod(labels.shape[1:])))
        step = max(1, SLAB_VOXELS // plane)
        for z in range(0, labels.shape[0], step):
            lab = labels[z : z + step].ravel()
            self._counts += np.bincount(lab, minlength=n)
            if not self._scalar:
                continue
            vals = img[z : z + step].ravel()
            f = vals.astype(np.float64)
            lab_f = lab
            if vals.dtype.kind == "f":  # non-finite voxels: volume yes, intensity no
                finite = np.isfinite(f)
                lab_f, f = np.where(finite, lab, 0), np.where(finite, f, 0.0)
            self._finite += np.bincount(lab_f, minlength=n)
            self._sums += np.bincount(lab_f, weights=f, minlength=n)
            self._sq += np.bincount(lab_f, weights=f * f, minlength=n)
            if self._hist is not None:
                key = lab.astype(np.int64) * self._bins + (vals.astype(np.int64) - self._vmin)
                flat = np.bincount(key, minlength=n * self._bins)
                self._hist += flat.reshape(n, self._bins).astype(np.int32)
        if self._scalar and self._hist is None:
            present = [int(v) for v in np.flatnonzero(self._finite) if v]
            self._set_extremes(present)
        self.voxels_read += labels.size
        self.full_passes += 1
        self._valid = True
        self._changed = None

    def _set_extremes(self, values: list[int]) -> None:
        """Min and max of the image in each of `values` (one pass over the volume)."""
        if not values:
            return
        from scipy import ndimage

        # int32: scipy computes `labels.max() + 1` in the labels' dtype (uint16 65535 wraps)
        labels = self.document.labels.array.astype(np.int32)
        img = self.document.volume.array
        if img.dtype.kind == "f":
            labels[~np.isfinite(img)] = 0  # extremes of the finite voxels
        mins = np.atleast_1d(ndimage.minimum(img, labels, values))
        maxs = np.atleast_1d(ndimage.maximum(img, labels, values))
        self.voxels_read += labels.size
        for v, lo, hi in zip(values, mins, maxs, strict=True):
            if self._finite[v] > 0:
                self._min[v], self._max[v] = float(lo), float(hi)
            else:
                self._min.pop(v, None)
                self._max.pop(v, None)

    # --- results -----------------------------------------------------------------------------
    def rows(self, ids=None) -> list[SegmentStats]:
        """One row per segment in table order (only those in `ids` when given), equal to
        `segment_statistics(document)`."""
        if not self._valid:
            self._full_pass()
        if self._stale_extremes:
            self._set_extremes(sorted(self._stale_extremes))
            self._stale_extremes = set()
        doc = self.document
        voxel_ml = doc.geometry.voxel_volume_mm3 / 1000.0
        rows = []
        for seg in doc.segments:
            if ids is not None and seg.id not in ids:
                continue
            n = int(self._counts[seg.id]) if seg.id < self._counts.size else 0
            m = int(self._finite[seg.id]) if seg.id < self._finite.size else 0
            if self._scalar and m:
                mean = self._sums[seg.id] / m
                std = float(np.sqrt(max(0.0, self._sq[seg.id] / m - mean * mean)))
                lo, hi = self._extremes(seg.id)
                stats = (float(mean), std, lo, hi)
            else:
                stats = (float("nan"),) * 4
            rows.append(SegmentStats(seg.id, seg.name, n, n * voxel_ml, *stats))
        return rows

    def _extremes(self, value: int) -> tuple[float, float]:
        if self._hist is not None:
            return self._hist_extremes(value)
        return self._min[value], self._max[value]

    def _hist_extremes(self, value: int) -> tuple[float, float]:
        nz = np.flatnonzero(self._hist[value])
        return float(nz[0] + self._vmin), float(nz[-1] + self._vmin)
