"""An automatic segmentation's label map put into the open document as ONE undoable step.

The model numbers its structures by its own label table ({value: name}); the document has its
own segments. `plan_labels` maps each model structure onto a segment:
1. the document's segment of the same name (case and surrounding spaces ignored);
2. else the segment with the model's value when it still has its default name ("Segment 3",
   made for a value without a name): it takes the model's name;
3. else a new segment: with the model's value when that is free, else the next free value.
A locked segment is never a target: a structure named like a locked segment is left out (its
voxels keep what they had), and a locked segment's value is never given to another structure.

`auto_result_command` then writes, outside locked voxels: each structure's voxels as its
segment, and background where the segment of a structure the model found had voxels the model
does not give it (so running the same model twice gives the same labels); the voxels of other
segments (and of structures the model did not find at all) stay unless the model claims them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from viewer.commands.base import Command, CompositeCommand
from viewer.commands.label_edit import LabelEdit
from viewer.commands.segment_commands import AddSegment, SetSegmentProperty
from viewer.model.segments import default_colour

if TYPE_CHECKING:
    from viewer.model.document import Document
    from viewer.model.segments import SegmentTable

Colour = tuple[int, int, int]
SLAB_VOXELS = 4_000_000  # voxels per slab of the merge


@dataclass
class LabelPlan:
    """Where each model value goes. targets: model value -> document segment id; new: segments
    to create (id, name, colour); renamed: (id, new name) for default-named segments taken by
    value; locked: names of model structures left out because their segment is locked."""

    targets: dict[int, int] = field(default_factory=dict)
    new: list[tuple[int, str, Colour]] = field(default_factory=list)
    renamed: list[tuple[int, str]] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)


@dataclass
class AutoReport:
    """What an automatic result did, for the status bar: voxels per written segment name,
    segments created, structures left out for a lock."""

    version: str
    voxels: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    changed: int = 0  # voxels whose value changed

    def text(self) -> str:
        """One status-bar line, e.g. "Auto-segmented with model v2: Liver 1,234 voxels, ..."."""
        found = [f"{name} {n:,} voxels" for name, n in self.voxels.items() if n]
        what = ", ".join(found) if found else "no structure found"
        line = f"Auto-segmented with model {self.version}: {what}"
        if self.created:
            line += f"; new segments {', '.join(repr(n) for n in self.created)}"
        if self.locked:
            line += f"; locked, left as they were: {', '.join(repr(n) for n in self.locked)}"
        if not self.changed:
            line += "; the labels were already so"
        return line + "."


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def plan_labels(
    segments: SegmentTable,
    model_labels: Mapping[int, str],
    colours: Mapping[int, Colour] | None = None,
) -> LabelPlan:
    """Map the model's label table onto `segments` (see the module docstring); model value 0
    (background) is never mapped."""
    plan = LabelPlan()
    by_name: dict[str, int] = {}
    for s in segments:
        by_name.setdefault(_key(s.name), s.id)
    taken = set(segments.ids())
    for value, name in sorted((int(v), str(n)) for v, n in model_labels.items()):
        if value <= 0:
            continue
        sid = by_name.get(_key(name))
        if sid is not None:
            if segments.get(sid).locked:
                plan.locked.append(name)
            else:
                plan.targets[value] = sid
            continue
        same = segments.get(value)
        if same is not None and not same.locked and same.name == f"Segment {value}":
            if value not in plan.targets.values():
                plan.targets[value] = value
                plan.renamed.append((value, name))
                by_name[_key(name)] = value
                continue
        sid = value if value not in taken else _next_free(taken)
        if sid > 65535:
            raise ValueError(f"no free label value left for the structure {name!r}")
        taken.add(sid)
        colour = tuple(int(c) for c in (colours or {}).get(value, default_colour(sid)))
        plan.new.append((sid, name, colour))  # type: ignore[arg-type]
        plan.targets[value] = sid
        by_name[_key(name)] = sid
    return plan


def _next_free(taken: set[int]) -> int:
    i = 1
    while i in taken:
        i += 1
    return i


def _counts(array: np.ndarray, step: int) -> np.ndarray:
    """Voxels per value (bincount), slab by slab: one bincount of a whole CT converts it to
    64-bit indices at once (2 GB, seconds of page faults)."""
    total = np.zeros(1, np.int64)
    for z in range(0, array.shape[0], step):
        c = np.bincount(array[z : z + step].ravel())
        if c.size > total.size:
            c[: total.size] += total
            total = c
        else:
            total[: c.size] += c
    return total


def auto_result_command(
    doc: Document,
    result: np.ndarray,
    model_labels: Mapping[int, str],
    version: str,
    colours: Mapping[int, Colour] | None = None,
) -> tuple[Command | None, AutoReport]:
    """The one undoable step that puts the model's `result` (int labels on the document's grid,
    0 = background) into `doc`, and what it does; None when nothing would change. Segments are
    created only for structures the result contains."""
    labels = doc.labels.array
    if result.shape != labels.shape:
        raise ValueError(f"the result {result.shape} is not on the image grid {labels.shape}")
    if result.size and (result.min() < 0 or result.max() > 65535):
        raise ValueError("the result holds values outside 0..65535")
    names = {int(v): str(n) for v, n in model_labels.items()}
    step = max(1, SLAB_VOXELS // max(1, labels[0].size))
    found = _counts(result, step)
    present = [int(v) for v in np.flatnonzero(found) if v]
    for v in present:  # a value the label table forgot still gets a segment
        names.setdefault(v, f"Label {v}")
    plan = plan_labels(doc.segments, names, colours)
    report = AutoReport(version=version, locked=list(plan.locked))

    lut = np.zeros(max(present, default=0) + 1, labels.dtype)
    for value, sid in plan.targets.items():
        if value < lut.size:
            lut[value] = sid
    present_ids = {plan.targets[v] for v in present if v in plan.targets}
    # per old label value: True = background unless the model claims it (a found structure's
    # segment), and True = never changes (locked)
    cleared = np.zeros(65536, bool)
    cleared[sorted(present_ids)] = True
    locked = doc.segments.locked_ids()
    frozen = np.zeros(65536, bool)
    frozen[locked] = True
    new = np.empty_like(labels)
    for z in range(0, labels.shape[0], step):  # slabs: the temporaries stay small
        old = labels[z : z + step]
        mapped = lut[result[z : z + step]]  # 0: background, a structure left out, or nothing
        # arithmetic instead of np.where (3x faster): old where the model says nothing and
        # the voxel's segment is not one the model found, else the model's segment
        keep = mapped == 0
        if present_ids:
            keep &= ~cleared[old]
        slab = np.multiply(old, keep, dtype=labels.dtype)
        slab += mapped
        if locked:  # a locked voxel never changes
            fixed = frozen[old]
            slab *= ~fixed
            slab += old * fixed
        new[z : z + step] = slab

    cmds: list[Command] = []
    for sid, name, colour in plan.new:
        if sid in present_ids:
            cmds.append(AddSegment(name, colour, sid))
            report.created.append(name)
    for sid, name in plan.renamed:
        if sid in present_ids:
            cmds.append(SetSegmentProperty(sid, "name", name))
    title = f"Auto-segment ({version})"
    edit = LabelEdit.from_box(title, labels, (0, 0, 0, *labels.shape), new)
    if edit is not None:
        cmds.append(edit)
        report.changed = edit.count
    counts = _counts(new, step)
    for value in sorted(plan.targets):
        sid = plan.targets[value]
        if value in present:
            report.voxels[names[value]] = int(counts[sid]) if sid < counts.size else 0
    if not cmds:
        return None, report
    return CompositeCommand(title, cmds), report
