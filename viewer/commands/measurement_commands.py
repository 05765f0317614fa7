"""Undoable changes to the document's measurements: add, remove, move (new points), and replace
them all (measurements read from a sidecar file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from viewer.commands.base import Command
from viewer.model.measurements import KIND_TITLES, Measurement

if TYPE_CHECKING:
    from viewer.model.document import Document


class AddMeasurement(Command):
    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.name = f"Add {measurement.name or KIND_TITLES[measurement.kind]}"

    def do(self, doc: Document) -> None:
        doc.measurements.add(self.measurement)

    def undo(self, doc: Document) -> None:
        doc.measurements.remove(self.measurement.id)


class RemoveMeasurement(Command):
    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        self.position = 0
        self.name = f"Remove {measurement.name or KIND_TITLES[measurement.kind]}"

    def do(self, doc: Document) -> None:
        _m, self.position = doc.measurements.remove(self.measurement.id)

    def undo(self, doc: Document) -> None:
        doc.measurements.add(self.measurement, self.position)


class MoveMeasurement(Command):
    """Give a measurement new points (a dragged end, corner or vertex)."""

    def __init__(self, old: Measurement, new: Measurement) -> None:
        if old.id != new.id:
            raise ValueError("a move keeps the measurement's id")
        self.old, self.new = old, new
        self.name = f"Move {old.name or KIND_TITLES[old.kind]}"

    def do(self, doc: Document) -> None:
        doc.measurements.replace(self.new)

    def undo(self, doc: Document) -> None:
        doc.measurements.replace(self.old)


class ReplaceMeasurements(Command):
    """Every measurement at once (opening a sidecar with the labels)."""

    def __init__(self, measurements: list[Measurement], name: str = "Open measurements") -> None:
        self.measurements = list(measurements)
        self.old: list[Measurement] = []
        self.name = name

    def do(self, doc: Document) -> None:
        self.old = doc.measurements.set_all(self.measurements)

    def undo(self, doc: Document) -> None:
        doc.measurements.set_all(self.old)
