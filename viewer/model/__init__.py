"""Qt-free document model: geometry, image volume, label map and segment table."""

from viewer.model.geometry import Geometry
from viewer.model.labelmap import LabelMap
from viewer.model.segments import Segment, SegmentTable
from viewer.model.volume import Volume

__all__ = ["Geometry", "LabelMap", "Segment", "SegmentTable", "Volume"]
