"""Autosave of the working labels to the recovery area, on a timer and after large edits.

Qt-free: `start()` runs a daemon thread that writes when the document is dirty every
`interval_s` seconds, and at once after an edit that touches at least `large_fraction` of the
volume. The Qt side may instead call `save_if_due()` from a QTimer. `stop(clean=True)` at a
normal exit deletes the recovery files; after a crash they stay for `find_recoverable()`.

Each document gets its own recovery folder, named after its study (source path and series UID),
so opening another study never writes over the previous one's autosave: that entry goes only when
the user saved or discarded those labels (`forget()`), or at a clean exit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from viewer.errors import SaveError
from viewer.model.document import Document
from viewer.model.volume import MetaKey
from viewer.services.recovery_store import (
    RecoveryEntry,
    SessionFolder,
    discard,
    find_recoverable,
    fits_grid,
    recover,
)

log = logging.getLogger(__name__)

__all__ = [
    "AutosaveService",
    "RecoveryEntry",
    "discard",
    "find_recoverable",
    "fits_grid",
    "recover",
]


class AutosaveService:
    def __init__(
        self,
        document: Document | None = None,
        interval_s: float = 30.0,
        root: Path | None = None,
        large_fraction: float = 0.05,
    ) -> None:
        self.interval_s = float(interval_s)
        self.large_fraction = float(large_fraction)
        self.root = root
        self.session = SessionFolder(root)
        # folders of documents replaced without their labels being saved or discarded: kept
        self._retired: list[SessionFolder] = []
        self._folders = 0
        self.document: Document | None = None
        self._generation = 0  # bumped by every label/segment change
        self._saved_generation = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str = ""
        self.saves = 0
        # called (from the autosave thread) with one line when saving starts to fail, so the
        # user knows the labels are not protected; called again only after a save succeeded
        self.on_failure: Callable[[str], None] | None = None
        self.set_document(document)

    # --- document ------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        """Follow `document`. Another document than the current one gets a folder of its own:
        the previous folder, if it holds an autosave nobody forgot, stays as it is (and is left
        for recovery at exit), so one study's autosave never overwrites another's."""
        with self._lock:
            if document is self.document:
                return
            if self.document is not None:
                self.document.labels_changed.disconnect(self._on_labels)
                self.document.segments_changed.disconnect(self._on_segments)
                if self.session.folder.exists():
                    self._retired.append(self.session)
                self.session = self._folder_for(document)
            elif document is not None:
                self.session = self._folder_for(document)
            self.document = document
            self._saved_generation = self._generation  # a new document has nothing unsaved
            if document is not None:
                document.labels_changed.connect(self._on_labels)
                document.segments_changed.connect(self._on_segments)

    def _folder_for(self, document: Document | None) -> SessionFolder:
        self._folders += 1  # the same study opened twice still gets two folders
        return SessionFolder(self.root, f"{self._folders}-{study_tag(document)}")

    def forget(self) -> None:
        """Drop the current document's autosave: its labels were saved, or the user discarded
        them. Later edits write a new one."""
        with self._lock:
            self.session.remove()
            self._saved_generation = self._generation

    def _on_labels(self, bbox=None) -> None:
        self._generation += 1
        doc = self.document
        if doc is None:
            return
        total = int(np.prod(doc.labels.array.shape))
        size = total if bbox is None else int(np.prod([b - a for a, b in zip(bbox[:3], bbox[3:])]))
        if total and size >= self.large_fraction * total:
            self._wake.set()  # a large operation: save soon rather than in up to a minute

    def _on_segments(self) -> None:
        self._generation += 1

    @property
    def dirty(self) -> bool:
        return self._generation != self._saved_generation

    # --- saving ----------------------------------------------------------------------------
    def _snapshot(self) -> tuple[np.ndarray, list, int] | None:
        doc = self.document
        if doc is None:
            return None
        for _ in range(3):  # retry if an edit landed during the copy (edits run on the UI thread)
            gen = self._generation
            arr = doc.labels.array.copy()
            segs = [
                type(s)(s.id, s.name, tuple(s.colour), s.visible, s.locked) for s in doc.segments
            ]
            if gen == self._generation:
                break
        return arr, segs, gen

    def save_now(self) -> bool:
        """Write the recovery files now (if there is a document); True when written."""
        with self._lock:
            snap = self._snapshot()
            if snap is None:
                return False
            arr, segs, gen = snap
            doc = self.document
            meta = {
                "image_path": getattr(doc.volume, "source_path", "") or "",
                "series_uid": series_uid(doc),
                "label_path": doc.label_path or "",
                "segment_count": len(segs),
                "geometry": doc.geometry.to_dict(),
            }
            try:
                self.session.write(arr, segs, meta)
            except Exception as e:  # a full disk, a read-only home, memory: never end autosave
                first = not self.last_error
                self.last_error = (
                    str(e) if isinstance(e, (SaveError, OSError)) else (f"{type(e).__name__}: {e}")
                )
                log.warning("autosave failed: %s", self.last_error, exc_info=True)
                if first and self.on_failure is not None:
                    self.on_failure(f"Autosave failed: {self.last_error}")
                return False
            self._saved_generation = gen
            self.saves += 1
            self.last_error = ""
            return True

    def save_if_due(self) -> bool:
        return self.save_now() if self.dirty else False

    # --- background thread -------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="radlabel-autosave", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_due = time.monotonic() + self.interval_s
        while not self._stop.is_set():
            woke = self._wake.wait(timeout=max(0.0, next_due - time.monotonic()))
            if self._stop.is_set():
                break
            self._wake.clear()
            if woke or time.monotonic() >= next_due:
                try:
                    self.save_if_due()
                except Exception:  # the thread must outlive any one failure
                    log.exception("autosave round failed")
                next_due = time.monotonic() + self.interval_s

    def stop(self, clean: bool = True) -> None:
        """Stop the thread; with `clean` (a normal exit) delete this session's recovery files."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if clean:
            self.session.remove()
        else:
            self.session.close()
        for folder in self._retired:  # replaced without a save or a discard: left to recover
            folder.close()
        self._retired.clear()


def series_uid(doc: Document) -> str:
    """The DICOM series of `doc` ("" for files without one)."""
    return str((doc.volume.metadata or {}).get(MetaKey.SERIES_UID) or "")


def study_tag(doc: Document | None) -> str:
    """A short, file-name-safe key of the study `doc` shows (source path and series UID)."""
    if doc is None:
        return ""
    key = f"{doc.volume.source_path}\n{series_uid(doc)}"
    return hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:10]
