"""A retrain's work folder, `runs/<run_id>/`: its settings (`run.json`, fixed at the start so
an interrupted run resumes with the same ones), its events (`events.jsonl`, one JSON a line,
appended and fsynced, so a GUI that re-opens the project re-attaches by reading it), the
trainer's work folder (`work/`: checkpoints, the exported candidate) and a `cancel` file
(asking the worker to stop works from any process, any host)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from viewer.errors import RadLabelError
from viewer.project.store import LocalFolderStore, append_line, now_iso, read_json, write_json

RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
CANCEL_FILE = "cancel"
WORKER_FILE = "worker.json"


class RunFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.run_id = self.folder.name

    @classmethod
    def create(cls, store: LocalFolderStore, settings: dict) -> RunFolder:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        folder = store.runs_dir / f"{stamp}-{uuid.uuid4().hex[:6]}"
        store.runs_dir.mkdir(exist_ok=True)
        folder.mkdir()
        (folder / "work").mkdir()
        write_json(folder / RUN_FILE, {**settings, "run_id": folder.name, "created": now_iso()})
        return cls(folder)

    @classmethod
    def find(cls, store: LocalFolderStore, run_id: str) -> RunFolder:
        folder = store.runs_dir / run_id
        if not (folder / RUN_FILE).is_file() or "/" in run_id or run_id.startswith("."):
            raise RadLabelError(f"no retrain run {run_id!r} in this project", store.folder)
        return cls(folder)

    @property
    def work_dir(self) -> Path:
        return self.folder / "work"

    def settings(self) -> dict:
        return read_json(self.folder / RUN_FILE, "retrain run record")

    # --- events --------------------------------------------------------------------------------
    def emit(self, event: dict) -> dict:
        event = {"time": now_iso(), "run_id": self.run_id, **event}
        append_line(self.folder / EVENTS_FILE, json.dumps(event, sort_keys=True))
        return event

    def read_events(self, offset: int = 0) -> tuple[list[dict], int]:
        """Whole lines from byte `offset` on, and the offset after them (a line being written
        is left for the next read)."""
        try:
            with open(self.folder / EVENTS_FILE, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return [], offset
        end = data.rfind(b"\n") + 1
        events = []
        for line in data[:end].splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events, offset + end

    def last_event(self) -> dict | None:
        events, _ = self.read_events()
        return events[-1] if events else None

    def finished(self) -> bool:
        last = self.last_event()
        return last is not None and last.get("type") in ("done", "error", "cancelled")

    # --- cancel --------------------------------------------------------------------------------
    def request_cancel(self) -> None:
        (self.folder / CANCEL_FILE).touch()

    def cancel_requested(self) -> bool:
        return (self.folder / CANCEL_FILE).exists()

    def clear_cancel(self) -> None:
        (self.folder / CANCEL_FILE).unlink(missing_ok=True)

    # --- the worker process ----------------------------------------------------------------------
    def write_worker(self, pid: int, host: str) -> None:
        write_json(self.folder / WORKER_FILE, {"pid": pid, "host": host, "started": time.time()})

    def worker(self) -> dict | None:
        try:
            return read_json(self.folder / WORKER_FILE, "worker record")
        except RadLabelError:
            return None


def list_runs(store: LocalFolderStore) -> list[RunFolder]:
    if not store.runs_dir.is_dir():
        return []
    return [
        RunFolder(p)
        for p in sorted(store.runs_dir.iterdir())
        if not p.name.startswith(".") and (p / RUN_FILE).is_file()
    ]
