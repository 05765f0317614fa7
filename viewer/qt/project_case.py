"""A project case as a document: its image, its newest label (draft, else final, else original)
read onto the image's grid, and the segment table named and coloured by the project's label
set. Qt-free apart from living with the GUI that uses it."""

from __future__ import annotations

from pathlib import Path

from viewer.io import load_volume
from viewer.io.labels.open import open_labels
from viewer.model.document import Document
from viewer.model.segments import Segment, SegmentTable

# the label a case opens with: a draft (submitting removes it, so one present was saved after
# the last submit), else what was submitted, else the AI result accepted
LABEL_ORDER = ("draft", "final", "original")


def newest_label_path(project, case_id: str) -> Path | None:
    """The label file the case opens with (None: the case has no label yet)."""
    for tag in LABEL_ORDER:
        path = project.label_path(case_id, tag)
        if path is not None and Path(path).exists():
            return Path(path)
    return None


def case_document(project, case_id: str, notes: list[str] | None = None) -> Document:
    """Load the case's image and newest label into a new Document; LoadError/GeometryError
    name the file that cannot be read."""
    record = project.case(case_id)
    volume = load_volume(project.image_path(case_id), series_uid=record.series_uid)
    doc = Document(volume)
    label = newest_label_path(project, case_id)
    if label is not None:
        loaded = open_labels(volume, label, notes)
        doc.labels.array[...] = loaded.labelmap.array
        doc.label_path = ""  # Ctrl+S saves into the project, never onto its files
    set_label_set(doc, project.labels)
    return doc


def set_label_set(doc: Document, labels) -> None:
    """The document's segments: the project's label set (value, name, colour), then any other
    value the labels hold."""
    table = SegmentTable()
    for d in labels:
        table.segments.append(Segment(int(d.value), str(d.name), tuple(d.color)))
    table.ensure(doc.labels.values())
    doc.segments = table
