"""Shared test configuration: headless Qt, quiet Paddle, and the optional ../shared/data fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep logs, settings and autosave of the app under test out of the real home folder."""
    monkeypatch.setenv("RADLABEL_DATA_DIR", str(tmp_path_factory.mktemp("radlabel-user")))


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
