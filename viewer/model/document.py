"""The open study: image volume, label map, segment table, and the events views subscribe to."""

from __future__ import annotations

import numpy as np

from viewer.model.events import Event
from viewer.model.labelmap import LabelMap
from viewer.model.measurements import MeasurementSet
from viewer.model.segments import SegmentTable
from viewer.model.volume import Volume


class Document:
    """Everything a user edits for one study. Label changes go through `viewer.commands`."""

    def __init__(self, volume: Volume, labels: LabelMap | None = None) -> None:
        self.volume = volume
        self.labels = labels if labels is not None else LabelMap(volume.geometry)
        if not self.labels.geometry.same_grid(volume.geometry):
            raise ValueError("label map is not on the image grid")
        self.segments = SegmentTable()
        self.segments.ensure(self.labels.values())
        self.measurements = MeasurementSet()  # rulers, ROIs, angles (LPS mm)
        self.label_path: str = ""
        self.dirty = False
        # Emitted with the changed region as a (z0, y0, x0, z1, y1, x1) half-open box, or None.
        self.labels_changed = Event()
        # Emitted with the same box just before an edit writes it (incremental statistics read
        # the old values there); a change without one is treated as a change anywhere.
        self.labels_changing = Event()
        self.segments_changed = Event()

    @property
    def geometry(self):
        return self.volume.geometry

    def notify_labels_changed(self, bbox: tuple[int, ...] | None = None) -> None:
        self.dirty = True
        self.labels_changed.emit(bbox)

    def notify_labels_changing(self, bbox: tuple[int, ...]) -> None:
        self.labels_changing.emit(bbox)

    def notify_segments_changed(self) -> None:
        self.segments_changed.emit()

    def replace_labels(self, array: np.ndarray) -> None:
        self.labels = LabelMap(self.volume.geometry, array)
        self.segments.ensure(self.labels.values())
        self.notify_labels_changed(None)
        self.notify_segments_changed()
