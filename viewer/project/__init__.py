"""Project workspace (Qt-free): a folder of cases, their labels, model versions and a journal,
shared by several radiologists (a network drive) without corrupting it.

    project.json             format version, name, label set (stable values, names, colours),
                             active_version, active_auto_version, validation split, settings
    journal.jsonl            append-only history, one JSON object a line, fsynced
    cases/<id>/case.json     image reference (path, or DICOM folder + SeriesInstanceUID; copied
                             images live in the case folder), patient id, state
                             (new / in_progress / finished), editor, created/updated, time, clicks
    cases/<id>/original|draft|final.nii.gz   labels, on the image's exact grid
    cases/<id>/lock          the editor's lock (viewer.project.locks)
    models/<version>/        model/ (exported) + record.json (viewer.project.versions)
    runs/<run_id>/           retrain work folders: checkpoints, events.jsonl
    project.lock, retrain.lock

The design follows MONAI Label's datastore: a small `Datastore` protocol (what a labelling UI
needs) with one implementation on a local or network folder (`Project`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from viewer.project.locks import ProjectBusy
from viewer.project.records import CaseRecord, CaseState, LabelDef, ModelVersion
from viewer.project.workspace import Project


class Datastore(Protocol):
    """What the labelling side needs from a store of cases."""

    def cases(self) -> list[CaseRecord]: ...
    def case(self, case_id: str) -> CaseRecord: ...
    def image_path(self, case_id: str) -> Path: ...
    def label_path(self, case_id: str, tag: str) -> Path | None: ...
    def save_label(self, case_id: str, tag: str, label_volume, *, user: str) -> None: ...
    def submit(
        self, case_id: str, label_volume, *, user: str, time_spent_s: float, clicks: int
    ) -> CaseRecord: ...


__all__ = [
    "CaseRecord",
    "CaseState",
    "Datastore",
    "LabelDef",
    "ModelVersion",
    "Project",
    "ProjectBusy",
]
