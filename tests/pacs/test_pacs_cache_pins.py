"""The PACS cache never evicts the series a window has open: its files are read again for a
DICOM SEG and for recovery. Without a server: the cache's own rules and the window's pinning."""

from __future__ import annotations

import os

import numpy as np

from viewer.io.pacs import cache

URL = "http://pacs.example/dicom-web"


def _cached(root, series_uid: str, age_s: float):
    folder = cache.series_dir(root, URL, "1.2.3", series_uid)
    partial = root / f"{series_uid}.partial-x"
    partial.mkdir(parents=True)
    (partial / "00001.dcm").write_bytes(b"\0" * 1000)
    cache.commit_series(partial, folder, 1)
    then = os.path.getmtime(folder / cache.MARKER) - age_s
    os.utime(folder / cache.MARKER, (then, then))
    return folder


def test_a_pinned_series_is_not_evicted(tmp_path):
    opened = _cached(tmp_path, "1.2.3.1", age_s=3600)  # the least recently used
    new = _cached(tmp_path, "1.2.3.2", age_s=0)
    cache.pin(opened)
    try:
        assert cache.evict(tmp_path, 1500, keep=new) == []
        assert cache.cached_series(opened)
    finally:
        cache.unpin(opened)
    assert cache.evict(tmp_path, 1500, keep=new) == [opened]  # closed: it may go
    assert not opened.exists() and cache.cached_series(new)


def test_the_window_pins_the_open_pacs_series_and_unpins_it_when_replaced(qtbot, tmp_path):
    from viewer.model.document import Document
    from viewer.model.geometry import Geometry
    from viewer.model.volume import Volume
    from viewer.qt.main_window import MainWindow
    from viewer.qt.pacs_actions import install_pacs

    window = MainWindow(with_3d=False)
    qtbot.addWidget(window)
    actions = install_pacs(window)
    folder = _cached(tmp_path, "1.2.3.9", age_s=0)
    g = Geometry((2, 3, 4))
    pacs = Volume(np.zeros(g.shape_zyx, np.int16), g, source_path=str(folder))
    pacs.metadata["pacs"] = {"url": URL, "study_uid": "1.2.3", "series_uid": "1.2.3.9"}
    window.set_document(Document(pacs))
    assert os.path.realpath(folder) in cache._pinned and actions.pinned == folder
    local = Volume(np.zeros(g.shape_zyx, np.int16), g, source_path=str(tmp_path / "x.nii.gz"))
    window.set_document(Document(local))
    assert os.path.realpath(folder) not in cache._pinned and actions.pinned is None
