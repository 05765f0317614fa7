"""Segmentations that may overlap: label layers plus a segment list with names and colours.

This is what .seg.nrrd files and DICOM SEG objects hold, and what every label format of
viewer.io.labels reads and writes. A plain `LabelMap` is the one-layer
case; `to_labelmap` flattens (reporting how many voxels were claimed by more than one segment).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.model.geometry import Geometry
from viewer.model.labelmap import LABEL_DTYPE, LabelMap
from viewer.model.segments import SegmentTable, default_colour


@dataclass
class SegmentInfo:
    """One segment: its id in the app, name, colour, and where its voxels are stored."""

    id: int
    name: str
    colour: tuple[int, int, int]
    layer: int = 0
    layer_value: int = 0  # value inside its layer; 0 means "same as id"

    @property
    def value(self) -> int:
        return self.layer_value or self.id


@dataclass
class LabelLayers:
    """Segments stored in one or more (z, y, x) label layers on one grid."""

    geometry: Geometry
    layers: list[np.ndarray] = field(default_factory=list)
    segments: list[SegmentInfo] = field(default_factory=list)

    @classmethod
    def from_labelmap(
        cls, labels: LabelMap, table: SegmentTable | None = None, keep_empty: bool = False
    ) -> LabelLayers:
        """One layer; segments are the table's entries present in the map, plus unnamed values.
        With `keep_empty`, also the table's entries without voxels (a format that stores empty
        segments keeps a named segment not yet drawn); segments are in id order either way."""
        ids = set(labels.values())
        if keep_empty and table is not None:
            ids.update(s.id for s in table)
        segs = []
        for v in sorted(ids):
            s = table.get(v) if table is not None else None
            segs.append(
                SegmentInfo(
                    v, s.name if s else f"Segment {v}", s.colour if s else default_colour(v)
                )
            )
        return cls(labels.geometry, [labels.array], segs)

    def mask(self, segment: SegmentInfo) -> np.ndarray:
        return self.layers[segment.layer] == segment.value

    def add_mask(self, segment: SegmentInfo, mask: np.ndarray) -> None:
        """Store `mask` in the first layer where it overlaps nothing (a new layer if none)."""
        free = [i for i, layer in enumerate(self.layers) if not np.any(layer[mask])]
        if free:
            i = free[0]
        else:
            self.layers.append(np.zeros(self.geometry.shape_zyx, dtype=LABEL_DTYPE))
            i = len(self.layers) - 1
        segment.layer = i
        self.layers[i][mask] = segment.value
        self.segments.append(segment)

    def overlap_voxels(self) -> int:
        """Voxels that belong to more than one segment."""
        if len(self.layers) < 2:
            return 0
        count = np.zeros(self.geometry.shape_zyx, dtype=np.uint8)
        for layer in self.layers:
            count += layer > 0
        return int(np.count_nonzero(count > 1))

    def to_labelmap(self) -> LabelMap:
        """Flatten to one label map: where segments overlap, the later segment wins."""
        if len(self.layers) == 1 and all(s.layer_value in (0, s.id) for s in self.segments):
            return LabelMap(self.geometry, self.layers[0].astype(LABEL_DTYPE, copy=False))
        out = np.zeros(self.geometry.shape_zyx, dtype=LABEL_DTYPE)
        for s in self.segments:
            out[self.mask(s)] = s.id
        return LabelMap(self.geometry, out)

    def segment_table(self) -> SegmentTable:
        table = SegmentTable()
        for s in sorted(self.segments, key=lambda s: s.id):
            table.add(s.name, s.colour, segment_id=s.id)
        return table
