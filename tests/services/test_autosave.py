"""Autosave and recovery: a crashed (SIGKILLed) editor's work is found and restored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from viewer.commands import History
from viewer.model import Geometry, Volume
from viewer.model.document import Document
from viewer.services.autosave import AutosaveService, discard, find_recoverable, recover
from viewer.services.recovery_store import recovery_root
from viewer.tools.base import ViewEvent
from viewer.tools.brush import BrushSettings, BrushTool
from viewer.tools.editor_state import EditorState

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from viewer.commands import History
    from viewer.commands.segment_commands import AddSegment, RenameSegment
    from viewer.model import Geometry, Volume
    from viewer.model.document import Document
    from viewer.services.autosave import AutosaveService
    from viewer.tools.base import ViewEvent
    from viewer.tools.brush import BrushSettings, BrushTool
    from viewer.tools.editor_state import EditorState

    geo = Geometry((20, 64, 64), spacing=(0.8, 0.8, 2.5), origin=(5, 6, 7))
    doc = Document(Volume(np.zeros((20, 64, 64), np.int16), geo, source_path="/data/ct.nii.gz"))
    history = History(doc)
    service = AutosaveService(doc, interval_s=0.2)
    service.start()
    history.push(AddSegment("Tumour"))
    history.push(RenameSegment(1, "Liver lesion"))
    tool = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(6.0, sphere=True))
    history.push(tool.on_press(ViewEvent((10, 20, 20), 0)))
    history.push(tool.on_move(ViewEvent((10, 40, 45), 0)))
    history.push(tool.on_release(ViewEvent((12, 40, 50), 0)))
    np.save(sys.argv[1], doc.labels.array)
    deadline = time.time() + 20
    while (service.dirty or service.saves == 0) and time.time() < deadline:
        time.sleep(0.05)
    print("SAVED" if not service.dirty else "TIMEOUT", flush=True)
    time.sleep(60)
    """
)


def test_killed_editor_is_recovered_on_next_start(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    expected_path = tmp_path / "expected.npy"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(expected_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line == "SAVED", proc.stderr.read() if line == "" else line
        # while the editor runs, its autosave is not offered to another instance
        assert find_recoverable() == []
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    entries = find_recoverable()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.image_path == "/data/ct.nii.gz" and entry.shape_zyx == (20, 64, 64)
    assert "ct.nii.gz" in entry.describe()
    labels, segments = recover(entry)
    expected = np.load(expected_path)
    assert expected.any()
    assert labels.dtype == np.uint16 and np.array_equal(labels, expected)
    assert [(s.id, s.name, s.locked) for s in segments] == [(1, "Liver lesion", False)]
    discard(entry)
    assert find_recoverable() == []


def make_doc():
    geo = Geometry((10, 32, 32))
    doc = Document(Volume(np.zeros((10, 32, 32), np.float32), geo, source_path="img.nrrd"))
    doc.segments.add("A")
    return doc


def test_clean_exit_removes_recovery_files_and_dirty_tracking():
    doc = make_doc()
    service = AutosaveService(doc, interval_s=3600)
    assert not service.dirty and not service.save_if_due()
    h = History(doc)
    tool = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(2.0))
    h.push(tool.on_press(ViewEvent((5, 5, 5), 0)))
    assert service.dirty
    assert service.save_if_due() and not service.dirty
    assert service.session.folder.is_dir()
    service.stop(clean=True)
    assert not service.session.folder.exists()
    assert find_recoverable() == []


def test_large_operation_triggers_prompt_save():
    doc = make_doc()
    service = AutosaveService(doc, interval_s=3600, large_fraction=0.5)
    service.start()
    try:
        h = History(doc)
        tool = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(1.0))
        h.push(tool.on_press(ViewEvent((5, 5, 5), 0)))  # small: waits for the interval
        time.sleep(0.3)
        assert service.saves == 0
        doc.labels.array[:] = 1
        doc.notify_labels_changed(None)  # whole volume
        deadline = time.time() + 10
        while service.saves == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert service.saves == 1
    finally:
        service.stop(clean=False)
    assert len(find_recoverable()) == 1  # not a clean exit: a later start offers it
    service.session.remove()


def test_damaged_entry_raises_load_error(tmp_path):
    from viewer.errors import LoadError

    doc = make_doc()
    service = AutosaveService(doc)
    service.save_now()
    service.stop(clean=False)
    entries = find_recoverable()
    assert len(entries) == 1 and entries[0].folder.parent == recovery_root()
    # damaged after it was offered: recover refuses it (and sets it aside, issue 20 item 4)
    (service.session.folder / "labels.bin").write_bytes(b"not zlib")
    with pytest.raises(LoadError, match="damaged"):
        recover(entries[0])
    assert find_recoverable() == []


def test_another_document_never_overwrites_the_previous_autosave():
    """Issue 13: opening study B after unsaved edits on A must not write B into A's entry."""
    a, b = make_doc(), make_doc()
    b.volume.source_path = "other.nrrd"
    service = AutosaveService(a, interval_s=3600)
    a.labels.array[2:4, 2:4, 2:4] = 1
    a.notify_labels_changed(None)
    assert service.save_now()
    folder_a = service.session.folder
    service.set_document(b)  # replaced without a save or a discard (a crash follows)
    assert not service.dirty  # B has nothing unsaved: A's labels are not written as B's
    assert not service.save_if_due()
    b.labels.array[5:7, 5:7, 5:7] = 1
    b.notify_labels_changed(None)
    assert service.save_now()
    assert service.session.folder != folder_a
    service.stop(clean=False)
    by_image = {e.image_path: recover(e)[0] for e in find_recoverable()}
    assert sorted(by_image) == ["img.nrrd", "other.nrrd"]
    assert np.array_equal(by_image["img.nrrd"], a.labels.array)
    assert np.array_equal(by_image["other.nrrd"], b.labels.array)


def test_forget_drops_only_the_current_documents_autosave():
    a, b = make_doc(), make_doc()
    b.volume.source_path = "other.nrrd"
    service = AutosaveService(a, interval_s=3600)
    a.notify_labels_changed(None)
    assert service.save_now()
    service.set_document(b)
    b.notify_labels_changed(None)
    assert service.save_now()
    service.forget()  # B's labels were saved or discarded
    assert not service.session.folder.exists() and not service.dirty
    service.stop(clean=True)  # A was never saved nor discarded: left for recovery
    assert [e.image_path for e in find_recoverable()] == ["img.nrrd"]


def test_a_failing_autosave_says_so_once_and_keeps_going(monkeypatch):
    doc = make_doc()
    service = AutosaveService(doc, interval_s=3600)
    told: list[str] = []
    service.on_failure = told.append
    h = History(doc)
    tool = BrushTool(doc, EditorState(active_segment_id=1), BrushSettings(2.0))
    real_write = service.session.write
    failures = iter([OSError(28, "No space left on device"), MemoryError()])

    def failing_write(*args):
        raise next(failures)

    monkeypatch.setattr(service.session, "write", failing_write)
    h.push(tool.on_press(ViewEvent((5, 5, 5), 0)))
    assert not service.save_if_due()
    assert told == ["Autosave failed: [Errno 28] No space left on device"]
    assert not service.save_if_due()  # still failing (memory): logged, not told again
    assert len(told) == 1 and service.last_error == "MemoryError: "
    monkeypatch.setattr(service.session, "write", real_write)
    assert service.save_if_due() and service.last_error == ""  # space again: it saves
    service.stop(clean=True)


def test_the_autosave_thread_outlives_an_unexpected_error(monkeypatch):
    doc = make_doc()
    service = AutosaveService(doc, interval_s=0.05)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("unexpected")
        return False

    monkeypatch.setattr(service, "save_if_due", flaky)
    service.start()
    deadline = time.time() + 10
    while len(calls) < 3 and time.time() < deadline:
        time.sleep(0.02)
    service.stop(clean=True)
    assert len(calls) >= 3


def test_the_autosave_records_its_grid_and_a_damaged_grid_card_reads_as_unknown(tmp_path):
    import json

    from viewer.model.document import Document
    from viewer.model.geometry import Geometry
    from viewer.model.volume import Volume
    from viewer.services.autosave import AutosaveService, find_recoverable, fits_grid

    direction = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    grid = Geometry((4, 5, 6), (0.5, 0.75, 2.0), (-3.0, 7.5, 120.0), direction)
    doc = Document(Volume(np.zeros((4, 5, 6), np.int16), grid, "MR"))
    crashed = AutosaveService(doc, root=tmp_path)
    assert crashed.save_now()
    crashed.stop(clean=False)
    (entry,) = find_recoverable(tmp_path)
    assert entry.geometry.same_grid(grid)
    assert entry.geometry.spacing == (0.5, 0.75, 2.0)
    assert np.array_equal(entry.geometry.direction, direction)
    assert fits_grid(entry, grid)
    shifted = Geometry((4, 5, 6), (0.5, 0.75, 2.0), (-3.0, 7.5, 121.0), direction)
    assert not fits_grid(entry, shifted)

    meta_path = entry.folder / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["geometry"] = {"size": [6, 5, 4], "spacing": [0, 1, 1], "origin": [0, 0, 0]}
    meta_path.write_text(json.dumps(meta))
    (entry,) = find_recoverable(tmp_path)
    assert entry.geometry is None  # as an autosave that recorded none: the shape decides
    assert fits_grid(entry, shifted)
