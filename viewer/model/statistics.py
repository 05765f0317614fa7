"""Per-segment statistics (voxels, mL, intensity mean/std/min/max) and their CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from viewer.model.document import Document


@dataclass(frozen=True)
class SegmentStats:
    segment_id: int
    name: str
    voxels: int
    volume_ml: float
    mean: float
    std: float
    min: float
    max: float


def segment_statistics(doc: Document) -> list[SegmentStats]:
    """One row per segment in table order; intensity columns are NaN for empty segments or
    non-scalar (RGB) images. One pass over the volume for all segments together."""
    labels = doc.labels.array.ravel()
    ids = doc.segments.ids()
    counts = np.bincount(labels, minlength=max(ids, default=0) + 1)
    voxel_ml = doc.geometry.voxel_volume_mm3 / 1000.0
    scalar = doc.volume.is_segmentable
    finite = counts
    if scalar and ids:
        img = doc.volume.array.ravel().astype(np.float64, copy=False)
        if doc.volume.array.dtype.kind == "f" and not np.all(np.isfinite(img)):
            # NaN/inf voxels (no data there) count for the volume, not for the intensities
            ok = np.isfinite(img)
            labels, img = np.where(ok, labels, 0), np.where(ok, img, 0.0)
        finite = np.bincount(labels, minlength=counts.size)
        sums = np.bincount(labels, weights=img, minlength=counts.size)
        sq = np.bincount(labels, weights=img * img, minlength=counts.size)
        present = [i for i in ids if finite[i] > 0]
        # scipy computes `labels.max() + 1` in the labels' own dtype: with uint16 and a value
        # of 65535 that wraps to 0 (an IndexError), so the labels go in as int32
        labels = labels.astype(np.int32)
        mins = (
            dict(zip(present, np.atleast_1d(ndimage.minimum(img, labels, present))))
            if present
            else {}
        )
        maxs = (
            dict(zip(present, np.atleast_1d(ndimage.maximum(img, labels, present))))
            if present
            else {}
        )
    rows = []
    for seg in doc.segments:
        n = int(counts[seg.id]) if seg.id < counts.size else 0
        m = int(finite[seg.id]) if seg.id < finite.size else 0
        if scalar and m:
            mean = sums[seg.id] / m
            std = float(np.sqrt(max(0.0, sq[seg.id] / m - mean * mean)))
            stats = (float(mean), std, float(mins[seg.id]), float(maxs[seg.id]))
        else:
            stats = (float("nan"),) * 4
        rows.append(SegmentStats(seg.id, seg.name, n, n * voxel_ml, *stats))
    return rows


def statistics_csv(rows: list[SegmentStats]) -> str:
    buf = io.StringIO()
    fields = list(SegmentStats.__dataclass_fields__)
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        d = asdict(r)
        for k in ("volume_ml", "mean", "std", "min", "max"):
            d[k] = "" if np.isnan(d[k]) else f"{d[k]:.6g}"
        w.writerow(d)
    return buf.getvalue()
