"""`Project`: a labelling project in a folder, shared safely by several instances.

Layout (`viewer/project/__init__.py` has the whole picture):
    project.json              name, label set, active version, validation split, settings
    journal.jsonl             append-only, one JSON per line, fsynced
    cases/<id>/case.json      image reference, patient, state, editor, time, clicks
    cases/<id>/{original,draft,final}.nii.gz   labels on the image's exact grid
    cases/<id>/lock           who is editing the case
    models/<version>/         model/ + record.json (see viewer.project.versions)
    runs/<run_id>/            retrain work folders (viewer.project.retrain)

Every read-modify-write of project.json or a case.json happens under the project mutex
(`project.lock`), every file is replaced atomically, and input is checked completely before
anything is written, so bad input leaves the project as it was.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from viewer.errors import LoadError, RadLabelError
from viewer.io import load_volume
from viewer.model.volume import MetaKey, Volume
from viewer.project import versions as vers
from viewer.project.labels_io import (
    LABEL_SUFFIX,
    check_values,
    label_array_for,
    mean_dice,
    read_label_array,
    read_label_file,
    write_label,
)
from viewer.project.locks import LockOwner, ProjectBusy
from viewer.project.records import (
    FORMAT,
    FORMAT_VERSION,
    TAGS,
    CaseRecord,
    LabelDef,
    ModelVersion,
    case_from_json,
    check_project,
    geometry_from_json,
    geometry_to_json,
)
from viewer.project.split import RULE, update_split
from viewer.project.store import (
    CASE_FILE,
    LocalFolderStore,
    default_user,
    now_iso,
    read_json,
    write_json,
)

DEFAULT_SETTINGS = {
    "auto_retrain_after": 0,  # retrain after this many newly finished cases; 0 = off
    "retrain_minutes": 10.0,
    "retrain_threads": 2,  # the automatic model's training uses as many
    "auto_train_minutes": 60.0,  # the automatic model's training budget (the GUI's default)
    # case folders (train-base layout) replayed at a small share while fine-tuning, so that the
    # model keeps segmenting structures outside the label set; "" = none
    "replay_dir": "",
}
ANY_ACTIVE = object()  # publish_version: activate whatever is active now
log = logging.getLogger(__name__)

SINGLE_FILE_IMAGES = (".nii.gz", ".nii", ".nrrd", ".mha")


def shipped_model_dir() -> Path:
    from segmentation_core.model_store import default_model_dir

    return default_model_dir()


class Project:
    """One project folder. Construct with `create` or `open`."""

    def __init__(self, folder: Path, data: dict, labels: list[LabelDef]) -> None:
        self.folder = folder
        self.store = LocalFolderStore(folder)
        self.name: str = data["name"]
        self.labels: list[LabelDef] = labels

    # --- creating and opening ------------------------------------------------------------------
    @classmethod
    def create(cls, folder, name: str, labels: list[LabelDef]) -> Project:
        """A new project in `folder` (created if needed; refused if it holds a project)."""
        folder = Path(folder)
        if (folder / "project.json").exists():
            raise RadLabelError("a project exists here already", folder)
        if folder.exists() and not folder.is_dir():
            raise RadLabelError("not a folder", folder)
        values = [d.value for d in labels]
        if len(set(values)) != len(values) or any(not 1 <= v <= 65535 for v in values):
            raise RadLabelError("label values must be unique and in 1..65535", folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "labels": [d.to_dict() for d in labels],
            "active_version": None,
            "active_auto_version": None,
            "split": {"validation": [], "training": [], "chosen": False, "rule": RULE},
            "settings": dict(DEFAULT_SETTINGS),
            "created": now_iso(),
        }
        store = LocalFolderStore(folder)
        with store.locked():
            if (folder / "project.json").exists():  # another instance was faster
                raise RadLabelError("a project exists here already", folder)
            for sub in (store.cases_dir, store.models_dir, store.runs_dir):
                sub.mkdir(exist_ok=True)
            write_json(store.project_file, data)
            store.append_journal("create", name=name, labels=data["labels"])
        return cls(folder, data, list(labels))

    @classmethod
    def open(cls, folder) -> Project:
        """Open an existing project; LoadError naming the file when it is not a good one."""
        folder = Path(folder)
        path = folder / "project.json"
        data = read_json(path, "project file")
        labels = check_project(data, path)
        return cls(folder, data, labels)

    # --- project.json ----------------------------------------------------------------------------
    def _data(self) -> dict:
        path = self.store.project_file
        data = read_json(path, "project file")
        check_project(data, path)
        return data

    def _update_project(self, change: Callable[[dict], None], user: str = "") -> dict:
        """Read-modify-write project.json under the mutex."""
        with self.store.locked(user):
            data = self._data()
            change(data)
            write_json(self.store.project_file, data)
        return data

    def settings(self) -> dict:
        return {**DEFAULT_SETTINGS, **self._data().get("settings", {})}

    def update_settings(self, user: str = "", **values) -> dict:
        unknown = set(values) - set(DEFAULT_SETTINGS)
        if unknown:
            raise RadLabelError(f"unknown settings {sorted(unknown)}", self.store.project_file)

        def change(data: dict) -> None:
            data["settings"] = {**DEFAULT_SETTINGS, **data.get("settings", {}), **values}

        with self.store.locked(user):
            data = self._data()
            change(data)
            write_json(self.store.project_file, data)
            self.store.append_journal("settings", user, values=values)
        return data["settings"]

    def label_values(self) -> set[int]:
        return {d.value for d in self.labels}

    # --- cases -------------------------------------------------------------------------------------
    def _case_json(self, case_id: str) -> dict:
        if not _valid_case_id(case_id):
            raise RadLabelError(f"no case {case_id!r} in this project", self.folder)
        path = self.store.case_dir(case_id) / CASE_FILE
        if not path.is_file():
            raise RadLabelError(f"no case {case_id!r} in this project", self.folder)
        data = read_json(path, "case record")
        case_from_json(data, path)
        return data

    def cases(self) -> list[CaseRecord]:
        """Every readable case, oldest first. A damaged `case.json` is left out (logged, and
        listed by `damaged_cases`): one broken file must not stop a whole team's project."""
        return self._read_cases()[0]

    def damaged_cases(self) -> list[str]:
        """One line per case whose record cannot be read: "<case.json>: <why>"."""
        return self._read_cases()[1]

    def _read_cases(self) -> tuple[list[CaseRecord], list[str]]:
        out, damaged = [], []
        for cid in self.store.case_ids():
            path = self.store.case_dir(cid) / CASE_FILE
            try:
                out.append(case_from_json(read_json(path, "case record"), path))
            except LoadError as e:
                log.warning("case left out: %s", e.message)
                damaged.append(e.message)
        return sorted(out, key=lambda c: (c.created, c.case_id)), damaged

    def case(self, case_id: str) -> CaseRecord:
        return case_from_json(self._case_json(case_id), self.store.case_dir(case_id) / CASE_FILE)

    def image_path(self, case_id: str) -> Path:
        image = Path(self._case_json(case_id)["image"])
        return image if image.is_absolute() else self.folder / image

    def image_series_uid(self, case_id: str) -> str | None:
        return self._case_json(case_id).get("series_uid")

    def case_grid(self, case_id: str):
        data = self._case_json(case_id)
        return geometry_from_json(data["grid"], self.store.case_dir(case_id) / CASE_FILE)

    def label_path(self, case_id: str, tag: str) -> Path | None:
        _check_tag(tag)
        name = self._case_json(case_id).get("labels", {}).get(tag)
        if name is None:
            return None
        path = self.store.case_dir(case_id) / name
        if path.is_symlink():  # would read (and later replace) a file outside the project
            raise LoadError("the case's label file is a link; the project reads its own", path)
        return path

    def add_case(
        self,
        image,
        label=None,
        *,
        final: bool = False,
        copy: bool = False,
        series_uid: str | None = None,
        patient_id: str | None = None,
        user: str = "",
    ) -> CaseRecord:
        """Add an image (a file or a DICOM folder + series) as a new case.

        `label`: a label file on exactly the image's grid with values of the label set; it
        becomes `final` (the case is finished) with `final=True`, else `original` (the starting
        point to correct). Everything is checked before the case appears; the case folder is
        built hidden and renamed into place.
        """
        user = user or default_user()
        image_path = Path(image).absolute()
        volume = _load_image(image_path, series_uid)
        grid = volume.geometry
        label_array = None
        if label is not None:
            label_array = read_label_file(Path(label).absolute(), grid, self.label_values())
        elif final:
            raise RadLabelError("--final needs a label", image_path)
        meta = volume.metadata or {}
        is_dicom = meta.get(MetaKey.FORMAT) == "DICOM"
        uid = (series_uid or meta.get(MetaKey.SERIES_UID)) if is_dicom else None
        tmp = self.store.cases_dir / f".new-{uuid.uuid4().hex}"
        tmp.mkdir(parents=True)
        try:
            image_ref = str(image_path)
            if copy:
                image_ref = _copy_image(image_path, volume, tmp)
            labels = {}
            if label_array is not None:
                tag = "final" if final else "original"
                write_label(tmp / f"{tag}{LABEL_SUFFIX}", label_array, grid)
                labels[tag] = f"{tag}{LABEL_SUFFIX}"
            stamp = now_iso()
            record = {
                "image": image_ref,
                "copied": bool(copy),
                "series_uid": uid,
                "patient_id": patient_id or _patient_id(meta),
                "state": "finished" if final else "new",
                "grid": geometry_to_json(grid),
                "labels": labels,
                "dice_original_final": None,
                "editor": user if final else None,
                "created": stamp,
                "updated": stamp,
                "time_spent_s": 0.0,
                "clicks": 0,
            }
            with self.store.locked(user):
                case_id = self._free_case_id(_case_stem(image_path))
                record["case_id"] = case_id
                if not record["patient_id"]:
                    record["patient_id"] = case_id
                if copy:  # the copied image moves with the folder: its path inside the project
                    record["image"] = f"cases/{case_id}/{Path(image_ref).name}"
                write_json(tmp / CASE_FILE, record)
                os.rename(tmp, self.store.case_dir(case_id))
                # the case is published: what follows must not report the add as failed (a
                # retry would add the image twice)
                _after_commit(
                    f"case {case_id} added",
                    lambda: self.store.append_journal(
                        "add_case",
                        user,
                        case=case_id,
                        image=str(image_path),
                        final=final,
                        label=str(label) if label is not None else None,
                    ),
                )
                if final:
                    _after_commit(f"case {case_id} added", self._refresh_split)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self.case(case_id)

    def _free_case_id(self, stem: str) -> str:
        taken = set(self.store.case_ids())
        if stem not in taken:
            return stem
        n = 2
        while f"{stem}-{n}" in taken:
            n += 1
        return f"{stem}-{n}"

    # --- labels, states ----------------------------------------------------------------------------
    def save_label(
        self,
        case_id: str,
        tag: str,
        label_volume,
        *,
        user: str,
        expect_updated: str | None = None,
    ) -> str:
        """Save a label of the case: `original` (the first AI result accepted: kept once, a
        second is ignored), `draft` (state new -> in_progress) or `final` (use `submit`).
        `expect_updated`: the case's `updated` stamp when the caller read it; someone else's
        save since then refuses the write (ProjectBusy). Returns the new stamp."""
        _check_tag(tag)
        if tag == "final":
            raise RadLabelError("a final label is saved by submit()", self.folder)
        data = self._write_tag(case_id, tag, label_volume, user=user, expect=expect_updated)
        return str(data["updated"])

    def _write_tag(
        self,
        case_id: str,
        tag: str,
        label_volume,
        *,
        user: str,
        update: Callable[[dict], None] | None = None,
        expect: str | None = None,
    ) -> dict:
        data = self._case_json(case_id)
        self._check_writer(case_id, user)
        _check_unchanged(case_id, data, expect, self.store.case_dir(case_id))
        grid = geometry_from_json(data["grid"], self.store.case_dir(case_id) / CASE_FILE)
        target = self.store.case_dir(case_id) / f"{tag}{LABEL_SUFFIX}"
        array = label_array_for(label_volume, grid, target)
        check_values(array, self.label_values(), target)
        if tag == "original" and "original" in data.get("labels", {}):
            return data  # kept once: it measures the correction effort from the first result
        write_label(target, array, grid)
        with self.store.locked(user):
            data = self._case_json(case_id)
            _check_unchanged(case_id, data, expect, self.store.case_dir(case_id))
            data.setdefault("labels", {})[tag] = target.name
            if tag == "final" and data["labels"].pop("draft", None) is not None:
                # the submitted label supersedes the draft: a draft present is always newer
                # than the final, which is what the case opens with (project_case.LABEL_ORDER)
                with contextlib.suppress(OSError):
                    os.unlink(self.store.case_dir(case_id) / f"draft{LABEL_SUFFIX}")
            if tag == "draft" and data["state"] == "new":
                data["state"] = "in_progress"
            if update is not None:
                update(data)
            data["editor"] = user
            data["updated"] = now_iso()
            write_json(self.store.case_dir(case_id) / CASE_FILE, data)
            done = f"case {case_id} saved ({tag})"
            _after_commit(
                done,
                lambda: self.store.append_journal(
                    "save_label", user, case=case_id, tag=tag, state=data["state"]
                ),
            )
            if data["state"] == "finished":
                _after_commit(done, self._refresh_split)
        return data

    def submit(
        self,
        case_id: str,
        label_volume,
        *,
        user: str,
        time_spent_s: float,
        clicks: int,
        expect_updated: str | None = None,
    ) -> CaseRecord:
        """Save the case's `final` label and mark it finished; adds the time and clicks, and the
        Dice between `original` (when there is one) and `final`. `expect_updated` as for
        `save_label`."""
        original = self.label_path(case_id, "original")
        grid = self.case_grid(case_id)
        array = label_array_for(label_volume, grid, self.store.case_dir(case_id))
        dice = None
        if original is not None and original.is_file():
            dice = mean_dice(read_label_array(original), array)

        def finish(data: dict) -> None:
            data["state"] = "finished"
            data["time_spent_s"] = float(data.get("time_spent_s", 0.0)) + float(time_spent_s)
            data["clicks"] = int(data.get("clicks", 0)) + int(clicks)
            data["dice_original_final"] = dice
            data["submitted"] = now_iso()

        self._write_tag(case_id, "final", array, user=user, update=finish, expect=expect_updated)
        return self.case(case_id)

    def _refresh_split(self) -> None:
        """Assign newly finished patients to a side (call under the mutex)."""
        finished = [c.patient_id for c in self.cases() if c.state == "finished"]
        data = self._data()
        before = data["split"]
        after = update_split(before, finished)
        if after != before:
            data["split"] = after
            write_json(self.store.project_file, data)
            if after["chosen"] and not before.get("chosen"):
                self.store.append_journal(
                    "split_chosen",
                    validation=after["validation"],
                    training=after["training"],
                    rule=after["rule"],
                )

    def split(self) -> dict:
        return dict(self._data()["split"])

    def validation_cases(self) -> list[str]:
        """Finished cases of the validation patients (fixed once chosen)."""
        val = set(self._data()["split"].get("validation", []))
        return [c.case_id for c in self.cases() if c.state == "finished" and c.patient_id in val]

    def training_cases(self) -> list[str]:
        """Finished cases not in validation."""
        val = set(self._data()["split"].get("validation", []))
        return [
            c.case_id for c in self.cases() if c.state == "finished" and c.patient_id not in val
        ]

    # --- locks ----------------------------------------------------------------------------------
    def acquire_lock(self, case_id: str, user: str, this_process_only: bool = False) -> bool:
        """Lock the case for `user`; False when someone else (another user, or the same user on
        another computer) holds it. Taking it again as its holder refreshes it. With
        `this_process_only` (a GUI window) the holder must also be this process: the same user's
        second window gets the case read-only instead of a second writer."""
        self._case_json(case_id)
        lock = self.store.case_lock(case_id)
        if lock.acquire(user):
            return True
        owner = lock.owner()
        if owner is not None and _holder(owner, user, this_process_only):
            lock.touch()
            return True
        return False

    def lock_holder(self, case_id: str) -> str | None:
        """The user editing the case, None when nobody is."""
        owner = self.store.case_lock(case_id).owner()
        return owner.user if owner is not None else None

    def refresh_lock(self, case_id: str) -> None:
        """The heartbeat of an editor's lock: the GUI calls it while the case stays open."""
        self.store.case_lock(case_id).touch()

    def release_lock(self, case_id: str, user: str, this_process_only: bool = False) -> None:
        """Give the case back; with `this_process_only`, only a lock this process holds."""
        lock = self.store.case_lock(case_id)
        owner = lock.owner()
        if owner is not None and _holder(owner, user, this_process_only):
            lock.force_release()

    def case_stamp(self, case_id: str) -> str:
        """The case's `updated` stamp (the time of its last save), for `expect_updated`."""
        return str(self._case_json(case_id)["updated"])

    def _check_writer(self, case_id: str, user: str) -> None:
        owner = self.store.case_lock(case_id).owner()
        if owner is not None and not _same_person(owner, user):
            raise ProjectBusy(
                f"case {case_id} is being edited by {owner.describe()}; it is open read-only",
                self.store.case_dir(case_id),
            )

    # --- what to do next ----------------------------------------------------------------------
    def next_case(
        self, uncertainty: Callable[[CaseRecord], float] | None = None, user: str = ""
    ) -> CaseRecord | None:
        """The case to label next: new cases first, oldest first; then the in-progress case the
        active model is least sure about (`uncertainty(case)`, higher = less sure), or the one
        least recently touched without it. Cases another user holds are skipped."""
        free = [c for c in self.cases() if self.lock_holder(c.case_id) in (None, user or None)]
        new = [c for c in free if c.state == "new"]
        if new:
            return min(new, key=lambda c: (c.created, c.case_id))
        started = [c for c in free if c.state == "in_progress"]
        if not started:
            return None
        if uncertainty is None:
            return min(started, key=lambda c: (c.updated, c.case_id))
        return max(started, key=lambda c: (float(uncertainty(c)), c.case_id))

    def finished_since_last_retrain(self) -> list[str]:
        """Finished cases the latest version neither trained nor was measured on."""
        versions = self.versions()
        seen: set[str] = set()
        if versions:
            latest = versions[-1]
            seen = set(latest.cases) | set(latest.record.get("eval_cases", []))
        return [c.case_id for c in self.cases() if c.state == "finished" and c.case_id not in seen]

    def auto_retrain_due(self) -> bool:
        """Automatic retraining is on (`auto_retrain_after` N > 0), N cases were finished since
        the last retrain, and no retrain is running."""
        n = int(self.settings().get("auto_retrain_after") or 0)
        if n <= 0 or len(self.finished_since_last_retrain()) < n:
            return False
        return self.store.retrain_lock().owner() is None

    # --- versions ----------------------------------------------------------------------------------
    def versions(self) -> list[ModelVersion]:
        return vers.list_versions(self.store, self._data().get("active_version"))

    def version(self, version_id: str) -> ModelVersion:
        for v in self.versions():
            if v.version_id == version_id:
                return v
        raise RadLabelError(f"no model version {version_id!r} in this project", self.folder)

    def active_version(self) -> str | None:
        return self._data().get("active_version")

    def active_model_dir(self) -> Path:
        """The active version's exported model, or the shipped base model when none is."""
        active = self.active_version()
        if active:
            path = self.store.models_dir / active / "model"
            if path.is_dir():
                return path
        return shipped_model_dir()

    def active_auto_model_dir(self) -> Path | None:
        active = self._data().get("active_auto_version")
        if not active:
            return None
        path = self.folder / "auto_models" / active
        return path if path.is_dir() else None

    def activate(self, version_id: str | None, user: str = "") -> None:
        """Make a version active (any one: rollback included); None goes back to the base."""
        if version_id is not None:
            self.version(version_id)

        def change(data: dict) -> None:
            data["active_version"] = version_id

        with self.store.locked(user):
            data = self._data()
            before = data.get("active_version")
            change(data)
            write_json(self.store.project_file, data)
            _after_commit(
                f"version {version_id} activated",
                lambda: self.store.append_journal(
                    "activate", user, version=version_id, before=before
                ),
            )

    def publish_version(
        self,
        model_src,
        record: dict,
        *,
        activate: bool,
        only_if_active: str | None | object = ANY_ACTIVE,
        user: str = "",
    ) -> str:
        """Publish an exported model as the next version (atomic); activate it, last, when
        asked -- and, with `only_if_active`, only if that is still the active version (a
        retrain judged against it; someone may have activated another one meanwhile)."""
        staged = vers.stage_model(self.store, Path(model_src))
        try:
            with self.store.locked(user):
                data = self._data()
                current = data.get("active_version")
                really = activate and (only_if_active is ANY_ACTIVE or only_if_active == current)
                gate = {**record, "activated": really}
                if activate and not really:
                    gate["not_activated_because"] = (
                        f"the active version changed to {current} while this one was measured"
                    )
                version_id = vers.next_version_id(self.store)
                vers.reveal_version(self.store, staged, version_id, gate)
                self._after_publish(data, version_id, record, really, current, user)
        finally:
            vers.discard(staged)  # gone already when published
        return version_id

    def _after_publish(self, data, version_id, record, really, current, user) -> None:
        """Journal the new version; move the active pointer, last (under the mutex). The
        version is published already: a journal line that cannot be written is logged, never
        a failed publish (a retry would publish the same model again)."""
        _after_commit(
            f"version {version_id} published",
            lambda: self.store.append_journal(
                "publish",
                user,
                version=version_id,
                parent=record.get("parent"),
                activated=really,
                metrics=record.get("metrics", {}),
            ),
        )
        if really:  # the pointer moves last: a crash before leaves the old active
            data["active_version"] = version_id
            write_json(self.store.project_file, data)
            _after_commit(
                f"version {version_id} activated",
                lambda: self.store.append_journal(
                    "activate", user, version=version_id, before=current
                ),
            )

    # --- journal -------------------------------------------------------------------------------
    def journal(self) -> list[dict]:
        return self.store.read_journal()


# --- helpers ---------------------------------------------------------------------------------------
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _valid_case_id(case_id: str) -> bool:
    return bool(_CASE_ID.match(case_id)) and ".." not in case_id


def _after_commit(done: str, step: Callable[[], object]) -> None:
    """A bookkeeping step after a change took effect (a journal line, the split): its failure
    (a full disk) is logged, not raised, so the change is never reported as failed and
    retried twice. The split catches up at the next finished case; the journal is a record."""
    try:
        step()
    except (OSError, RadLabelError) as e:
        log.warning("%s, but a later step failed: %s", done, getattr(e, "message", e))


def _check_unchanged(case_id: str, data: dict, expect: str | None, folder: Path) -> None:
    """Refuse a write over a save made elsewhere since the writer read the case (its lock went
    stale and another user took, saved and gave back the case): last writer must not win."""
    if expect is None or data.get("updated") == expect:
        return
    who = data.get("editor") or "someone"
    raise ProjectBusy(
        f"case {case_id} was saved by {who} at {data.get('updated')} after you opened it; "
        "nothing was written: keep your labels with Save labels as..., then reopen the case",
        folder,
    )


def _check_tag(tag: str) -> None:
    if tag not in TAGS:
        raise RadLabelError(f"unknown label tag {tag!r} (one of {', '.join(TAGS)})")


def _same_person(owner: LockOwner, user: str) -> bool:
    import socket

    return owner.user == user and owner.host == socket.gethostname()


def _holder(owner: LockOwner, user: str, this_process_only: bool) -> bool:
    return _same_person(owner, user) and (not this_process_only or owner.pid == os.getpid())


def _case_stem(path: Path) -> str:
    name = path.name
    for suffix in (
        ".nii.gz",
        ".seg.nrrd",
        ".img.gz",
        ".nii",
        ".nrrd",
        ".nhdr",
        ".mha",
        ".mhd",
        ".hdr",
        ".img",
        ".dcm",
    ):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.lower() in ("image", "img", "dicom", ""):  # a case folder's image: the folder names it
        name = path.parent.name + ("_" + name if name.lower() == "dicom" else "")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-") or "case"
    return stem[:80]


def _patient_id(meta: dict) -> str:
    pid = meta.get(MetaKey.PATIENT_ID)
    return str(pid).strip() if pid else ""


def _load_image(path: Path, series_uid: str | None) -> Volume:
    volume = load_volume(path, series_uid=series_uid)
    if not volume.is_segmentable:
        raise LoadError("a project case needs a scalar (grey-value) image", path)
    return volume


def _copy_image(source: Path, volume: Volume, folder: Path) -> str:
    """Copy the image into the hidden case folder; returns its name there. Single-file images
    are copied byte for byte (size checked); a DICOM series copies its files into `image/`;
    a two-file format (.mhd/.raw, .hdr/.img, .nhdr, or a .nrrd/.mha with a detached data file)
    is rewritten as one verified NIfTI."""
    from viewer.io import save_volume
    from viewer.io.file_checks import detached_data

    lower = source.name.lower()
    if source.is_dir() or volume.metadata.get(MetaKey.FORMAT) == "DICOM":
        target = folder / "image"
        target.mkdir()
        files = volume.metadata.get(MetaKey.SOURCE_FILES) or []
        for n, f in enumerate(dict.fromkeys(files)):
            shutil.copy2(f, target / f"{n:05d}_{Path(f).name}")
        return "image"
    # a .nrrd or .mha may still keep its pixels in another file (`data file:` / ElementDataFile):
    # copying the header alone would leave the case without its image
    single = detached_data(str(source)) is None
    for suffix in SINGLE_FILE_IMAGES if single else ():
        if lower.endswith(suffix) and not lower.endswith(".seg.nrrd"):
            target = folder / f"image{suffix}"
            shutil.copy2(source, target)
            if target.stat().st_size != source.stat().st_size:
                raise LoadError("the copy of the image is incomplete", source)
            with open(target, "rb") as f:
                os.fsync(f.fileno())
            return target.name
    save_volume(volume, None, folder / "image.nii.gz")
    return "image.nii.gz"
