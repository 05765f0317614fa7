"""Label surfaces of the 3D view rebuilt off the UI thread, only for the segments an edit touched.

Rebuilding every segment's surface on the UI thread after each brush stroke would stall the
window. `SurfaceUpdater` collects what edits changed (the label values in each
edit's box before and after it, and the union of the boxes), and after a pause in the edits
hands that to one worker thread, which re-measures and re-contours only those segments
(`Scene3D.surface_meshes`; NumPy, SciPy and VTK's filters release the GIL for the heavy parts).
The finished meshes come back through a queued signal and are swapped in on the UI thread.
Edits that arrive while the worker runs are collected for the next round.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PyQt5 import QtCore

from segmentation_core.masks import union_box

log = logging.getLogger(__name__)
DEBOUNCE_MS = 150  # strokes send many edits a second: wait for a pause


def _values_in(array: np.ndarray, bbox) -> set[int]:
    z0, y0, x0, z1, y1, x1 = (int(v) for v in bbox)
    box = array[z0:z1, y0:y1, x0:x1]
    if not box.size:
        return set()
    # bincount: linear in the box (np.unique sorts: seconds on a whole 512x512x300 label map)
    return {int(v) for v in np.flatnonzero(np.bincount(box.ravel()))}


class SurfaceUpdater(QtCore.QObject):
    """Keeps one Scene3D's label surfaces up to date; `finished` is emitted after each swap."""

    finished = QtCore.pyqtSignal()
    _done = QtCore.pyqtSignal(object, object)  # (generation, meshes), from the worker thread

    def __init__(self, scene, parent=None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.document = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="surfaces")
        self._generation = 0
        self._running = False
        self._values: set[int] | None = set()  # None: everything
        self._box = None
        self._pending = False
        self._future = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self._done.connect(self._on_done, QtCore.Qt.QueuedConnection)

    def set_document(self, document) -> None:
        """Follow `document`'s edits (the scene has built its first surfaces itself)."""
        if self.document is not None:
            self.document.labels_changing.disconnect(self._before)
            self.document.labels_changed.disconnect(self._after)
            self.document.segments_changed.disconnect(self._segments)
        if self._future is not None:
            self._future.result()  # the worker reads the scene's document: let it finish first
        self.document = document
        self._generation += 1  # answers for the previous document are dropped
        self._values, self._box, self._pending = set(), None, False
        self._timer.stop()
        if document is not None:
            document.labels_changing.connect(self._before)
            document.labels_changed.connect(self._after)
            document.segments_changed.connect(self._segments)

    def busy(self) -> bool:
        """True while edits wait for their surfaces (tests wait for False)."""
        return self._pending or self._running or self._timer.isActive()

    def shutdown(self) -> None:
        self._timer.stop()
        self._generation += 1
        self._executor.shutdown(wait=True)

    # --- edits (UI thread) ---------------------------------------------------------------------
    def _before(self, bbox) -> None:
        if self._values is not None:
            self._values |= _values_in(self.document.labels.array, bbox)

    def _after(self, bbox=None) -> None:
        if bbox is None:
            self._values = None
        elif self._values is not None:
            self._values |= _values_in(self.document.labels.array, bbox)
            self._box = union_box(self._box, tuple(int(v) for v in bbox))
        self._schedule()

    def _segments(self) -> None:
        self._schedule()  # colours or visibility: the cached meshes are reassembled

    def _schedule(self) -> None:
        self._pending = True
        self._timer.start()

    # --- worker ----------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._running or not self._pending:
            return
        values, box = self._values, self._box
        self._values, self._box, self._pending = set(), None, False
        self._running = True
        gen = self._generation
        colours = self.scene.visible_colours()  # the segment table is read on this thread only
        self._future = self._executor.submit(self._work, gen, values, box, colours)

    def _work(self, gen: int, values, box, colours) -> None:
        meshes = None
        try:
            meshes = self.scene.surface_meshes(values, box, colours)
        except Exception:  # a failed rebuild must not end the worker: log it, keep the old ones
            log.exception("rebuilding label surfaces failed")
            meshes = "failed"
        self._done.emit(gen, meshes)

    def _on_done(self, gen: int, meshes) -> None:
        self._running = False
        if gen == self._generation and isinstance(meshes, str):
            self._values = None  # start afresh next time: the cache may be half updated
            self._pending = False
        elif gen == self._generation:
            self.scene.show_surfaces(meshes)
            self.finished.emit()
        if self._pending:
            self._timer.start()
