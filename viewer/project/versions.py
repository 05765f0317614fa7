"""Model versions of a project: `models/<version>/` = the exported model (`model/`) and its
`record.json`. Publishing is atomic: the folder is built hidden (`models/.stage-*`), fsynced,
then renamed into place; only then, and last, the project's active pointer moves. A
failure at any point leaves no half version (hidden folders are never listed) and the old
active model."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from viewer.errors import LoadError, SaveError
from viewer.project.records import ModelVersion, version_from_json
from viewer.project.store import LocalFolderStore, now_iso, read_json, write_json

RECORD_FILE = "record.json"


def version_number(version_id: str) -> int:
    try:
        return int(version_id.lstrip("v"))
    except ValueError:
        return -1


def list_versions(store: LocalFolderStore, active_id: str | None) -> list[ModelVersion]:
    """Published versions, oldest first (a damaged record is skipped, not fatal)."""
    if not store.models_dir.is_dir():
        return []
    found = []
    for folder in store.models_dir.iterdir():
        if folder.name.startswith(".") or not (folder / RECORD_FILE).is_file():
            continue
        try:
            found.append(
                version_from_json(
                    read_json(folder / RECORD_FILE, "version record"), folder, active_id
                )
            )
        except LoadError:
            continue
    return sorted(found, key=lambda v: (version_number(v.version_id), v.version_id))


def next_version_id(store: LocalFolderStore) -> str:
    """v1, v2, ...: one more than any published folder. Call under the project mutex (the
    rename that publishes it happens under the same hold)."""
    highest = 0
    if store.models_dir.is_dir():
        for p in store.models_dir.iterdir():
            if not p.name.startswith("."):
                highest = max(highest, version_number(p.name))
    return f"v{highest + 1}"


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def stage_model(store: LocalFolderStore, model_src: Path) -> Path:
    """Copy the exported model into a hidden folder (`models/.stage-*`), fsynced. Done before
    the project mutex is taken: a slow network copy must not hold other instances up."""
    store.models_dir.mkdir(exist_ok=True)
    tmp = store.models_dir / f".stage-{uuid.uuid4().hex}"
    try:
        shutil.copytree(model_src, tmp / "model")
        _fsync_tree(tmp)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise SaveError(
                f"cannot publish the model ({e.strerror or e})", store.models_dir
            ) from e
        raise
    return tmp


def discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def reveal_version(store: LocalFolderStore, tmp: Path, version_id: str, record: dict) -> Path:
    """Write the record into the staged folder and rename it to `models/<version_id>` (atomic
    on one file system). Call under the project mutex (the id is taken here)."""
    final = store.models_dir / version_id
    try:
        write_json(tmp / RECORD_FILE, {**record, "version": version_id, "created": now_iso()})
        os.rename(tmp, final)
    except SaveError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SaveError(f"cannot publish the model ({e.strerror or e})", final) from e
    return final
