"""A damaged recovery folder never stops the start: it is checked, set aside once, reported once.

Issue 20 item 4: `meta.json` holding a list, `shape` an int, `pid` null, a 200,000-deep JSON, a
bad dtype and a 4 GB zlib bomb in `labels.bin` each broke every start (AttributeError, TypeError,
RecursionError, or 4 GB inflated in memory when the user said yes).
"""

from __future__ import annotations

import logging
import zlib

import pytest
from recovery_damage import KINDS, damage, write_session, zlib_bomb

from viewer.errors import LoadError
from viewer.services.recovery_check import QUARANTINE, inflate_exact
from viewer.services.recovery_store import find_recoverable, recover


def test_the_bomb_is_a_real_zlib_stream():
    assert zlib.decompress(zlib_bomb(3)) == bytes(3 << 20)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_folder_is_set_aside_once_and_the_good_one_still_offered(tmp_path, kind, caplog):
    good = write_session(tmp_path, value=1)
    bad = write_session(tmp_path, value=2)
    damage(kind, bad)
    notes: list[str] = []
    with caplog.at_level(logging.WARNING):
        entries = find_recoverable(tmp_path, set_aside=notes)
    assert [e.folder for e in entries] == [good]
    assert len(notes) == 1
    moved = list((tmp_path / QUARANTINE).iterdir())
    assert len(moved) == 1 and moved[0].name.startswith(bad.name + ".bad-")
    assert notes[0].startswith("damaged autosave set aside (") and notes[0].endswith(str(moved[0]))
    assert not bad.exists()
    assert any(str(bad) in r.getMessage() for r in caplog.records)
    # the next start: nothing to report, the good entry still there and recoverable
    again: list[str] = []
    assert [e.folder for e in find_recoverable(tmp_path, set_aside=again)] == [good]
    assert again == []
    labels, segments = recover(entries[0])
    assert int(labels.sum()) == 2 * 2 * 3 and segments[0].name == "liver"


def test_a_folder_damaged_after_the_offer_is_refused_by_recover_and_set_aside(tmp_path):
    folder = write_session(tmp_path)
    (entry,) = find_recoverable(tmp_path)
    (folder / "labels.bin").write_bytes(zlib_bomb(4096))
    with pytest.raises(LoadError, match="inflates to more than 384 bytes") as err:
        recover(entry)
    assert "\n" not in str(err.value)
    assert not folder.exists() and len(list((tmp_path / QUARANTINE).iterdir())) == 1
    assert find_recoverable(tmp_path) == []


def test_bounded_inflate_reads_no_more_than_it_needs(tmp_path, monkeypatch):
    """The bomb is refused after expected + 1 output bytes, not after inflating 4 GiB."""
    path = tmp_path / "labels.bin"
    path.write_bytes(zlib_bomb(4096))
    calls = []
    real = zlib.decompressobj

    class Counting:
        def __init__(self):
            self.d = real()

        def decompress(self, data, max_length=0):
            calls.append(max_length)
            return self.d.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self.d, name)

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    with pytest.raises(ValueError, match="inflates to more than 384 bytes"):
        inflate_exact(path, 384)
    assert calls == [385]


def test_a_linked_session_folder_is_set_aside_and_its_target_left_alone(tmp_path):
    from viewer.services.recovery_store import RecoveryEntry, discard

    root = tmp_path / "recovery"
    root.mkdir()
    good = write_session(root, value=1)
    elsewhere = write_session(tmp_path / "elsewhere", value=2)  # a complete autosave, outside
    link = root / "session-1-2-linked"
    link.symlink_to(elsewhere, target_is_directory=True)
    notes: list[str] = []

    assert [e.folder for e in find_recoverable(root, set_aside=notes)] == [good]

    (moved,) = (root / QUARANTINE).iterdir()
    assert notes == [f"damaged autosave set aside (a link, not a session folder): {moved}"]
    assert moved.is_symlink() and moved.name.startswith("session-1-2-linked.bad-")
    assert sorted(p.name for p in elsewhere.iterdir()) == [
        "labels.bin",
        "lock",
        "meta.json",
        "segments.json",
    ]
    # discarding an entry that is a link removes the link, not the folder it points to
    entry = RecoveryEntry(moved, "", "", 0.0, (1, 1, 1), 0, 0)
    discard(entry)
    assert not moved.is_symlink() and elsewhere.is_dir()
    assert (elsewhere / "labels.bin").is_file()
