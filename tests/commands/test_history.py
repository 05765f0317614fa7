"""History: undo/redo, stroke merging, redo clearing, byte budget, clean state."""

from __future__ import annotations

import numpy as np

from viewer.commands import History, LabelEdit, StrokeCommand
from viewer.model import Geometry, LabelMap, Volume
from viewer.model.document import Document


def make_doc(shape=(10, 40, 40)) -> Document:
    geo = Geometry(shape)
    doc = Document(Volume(np.zeros(shape, np.float32), geo), LabelMap(geo))
    doc.segments.add("Liver")
    return doc


def paint(doc, z, y, x, value=1, size=3, stroke=None):
    arr = doc.labels.array
    new = arr[z : z + size, y : y + size, x : x + size].copy()
    new[:] = value
    e = LabelEdit.from_box("Brush on Liver", arr, (z, y, x, z + size, y + size, x + size), new)
    if stroke is None or e is None:
        return e
    return StrokeCommand("Brush on Liver", stroke, e)


def test_undo_redo_bit_identical():
    doc = make_doc()
    h = History(doc)
    states = [doc.labels.array.copy()]
    for i in range(5):
        h.push(paint(doc, i, 2 * i, 3 * i, value=i + 1))
        states.append(doc.labels.array.copy())
    for i in range(5, 0, -1):
        assert h.undo()
        assert np.array_equal(doc.labels.array, states[i - 1])
    assert not h.undo()
    for i in range(1, 6):
        assert h.redo()
        assert np.array_equal(doc.labels.array, states[i])
    assert not h.redo()


def test_stroke_is_one_entry_and_overlaps_restore_exactly():
    doc = make_doc()
    doc.labels.array[0:4, 0:4, 0:4] = 2
    before = doc.labels.array.copy()
    h = History(doc)
    for k in range(6):  # overlapping dabs with changing values
        h.push(paint(doc, 0, k, k, value=1 + k % 2, size=4, stroke="s1"))
    assert h.undo_names() == ["Brush on Liver"]
    h.push(paint(doc, 5, 20, 20, stroke="s2"))
    assert len(h.undo_names()) == 2
    h.undo()
    h.undo()
    assert np.array_equal(doc.labels.array, before)


def test_new_edit_clears_redo_and_changed_fires():
    doc = make_doc()
    h = History(doc)
    fired = []
    h.changed.connect(lambda: fired.append(1))
    h.push(paint(doc, 0, 0, 0))
    h.push(paint(doc, 1, 10, 10))
    h.undo()
    assert h.can_redo() and h.redo_name() == "Brush on Liver"
    h.push(paint(doc, 2, 20, 20))
    assert not h.can_redo()
    assert len(fired) == 4


def test_budget_drops_oldest_but_keeps_newest():
    doc = make_doc()
    h = History(doc, budget_bytes=3000)
    states = []  # states[k]: the labels after k pushes
    for i in range(30):
        states.append(doc.labels.array.copy())
        h.push(paint(doc, i % 8, i, 0, value=1 + i % 3, size=2))
    assert h.nbytes() <= 3000
    n = len(h.undo_names())
    assert 1 <= n < 30
    # The entries kept still undo correctly back to the state after the dropped ones.
    while h.undo():
        pass
    assert states[30 - n].any()  # dropped entries cannot be undone
    np.testing.assert_array_equal(doc.labels.array, states[30 - n])
    tiny = History(doc, budget_bytes=1)
    tiny.push(paint(doc, 0, 30, 30, value=3, size=5))
    assert tiny.can_undo()  # a single oversized entry is kept


def test_clean_state_tracks_saves():
    doc = make_doc()
    h = History(doc)
    assert h.is_clean()
    h.push(paint(doc, 0, 0, 0))
    assert not h.is_clean()
    h.mark_clean()
    assert h.is_clean()
    h.undo()
    assert not h.is_clean()
    h.redo()
    assert h.is_clean()
    h.undo()
    h.push(paint(doc, 3, 3, 3, value=2))
    assert not h.is_clean()  # the saved state is no longer reachable
