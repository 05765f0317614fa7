"""The command line as a user meets it: a log file in the user's data folder, `--version`, and
errors as one line on stderr (a traceback only with --debug). Runs `main.py` in a subprocess so
that logging is configured exactly as in a real run."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "ct_abdomen_demo.nii.gz"


def _run(args: list[str], data_dir: Path, code: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, RADLABEL_DATA_DIR=str(data_dir), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "main.py", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_cli_run_writes_a_log_file_in_the_data_dir(tmp_path):
    r = _run(["info", str(DEMO)], tmp_path)
    assert r.returncode == 0, r.stderr
    log = tmp_path / "logs" / "radlabel.log"
    text = log.read_text()
    assert f"loaded {DEMO}" in text and "(122, 101, 30) voxels" in text
    assert "info " + str(DEMO) in text  # the command line, for a bug report


def test_log_dir_defaults_to_platformdirs(monkeypatch, tmp_path):
    from platformdirs import user_log_dir

    from viewer.logsetup import log_dir, log_file_path

    monkeypatch.delenv("RADLABEL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = Path(user_log_dir("RadLabel", appauthor=False))
    assert log_dir() == expected and tmp_path in expected.parents
    assert log_file_path().parent == expected


def test_version_prints_app_and_library_versions(tmp_path):
    r = _run(["--version"], tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"RadLabel {importlib.metadata.version('radlabel')}"
    for label, dist in (
        ("numpy", "numpy"),
        ("SimpleITK", "SimpleITK"),
        ("pydicom", "pydicom"),
        ("highdicom", "highdicom"),
        ("PaddlePaddle", "paddlepaddle"),
        ("VTK", "vtk"),
        ("pyqtgraph", "pyqtgraph"),
    ):
        line = next(ln for ln in lines if ln.startswith(f"{label} "))
        assert line.split()[1] == importlib.metadata.version(dist)
        assert line.rstrip().endswith(")") and "(" in line, "each component with its licence"
    assert any(line.startswith("Qt 5.15.") for line in lines)
    assert "VTK 9." in r.stdout and "(BSD)" in r.stdout.split("VTK ")[1].splitlines()[0]
    assert "Demo study (resources/demo): Apache-2.0" in lines
    assert lines[-1].endswith("THIRD_PARTY.md (in the bundle)")
    assert "ccache" not in r.stderr  # paddle's import warning stays out of the output


def test_missing_path_is_one_line_on_stderr(tmp_path):
    r = _run(["info", "/nonexistent/scan"], tmp_path)
    assert r.returncode != 0
    assert r.stdout == ""
    (line,) = r.stderr.strip().splitlines()
    assert "/nonexistent/scan" in line and "no such file" in line
    assert "Traceback" not in r.stderr
    assert "no such file or folder" in (tmp_path / "logs" / "radlabel.log").read_text()


def test_debug_shows_the_traceback(tmp_path):
    r = _run(["--debug", "info", "/nonexistent/scan"], tmp_path)
    assert r.returncode != 0
    assert "Traceback" in r.stderr and "LoadError" in r.stderr
    assert "/nonexistent/scan" in r.stderr


BOOM = (
    "import sys, viewer.cli.info as i\n"
    "def boom(*a):\n"
    "    raise RuntimeError('boom in collect\\nsecond line of a long library message')\n"
    "i.collect = boom\n"
    "import main\n"
    "sys.exit(main.main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_error_keeps_the_traceback_for_the_log(tmp_path, debug):
    r = _run(["--debug", "info", "x"] if debug else ["info", "x"], tmp_path, code=BOOM)
    assert r.returncode != 0
    log = (tmp_path / "logs" / "radlabel.log").read_text() if not debug else ""
    if debug:
        assert "Traceback" in r.stderr and "boom in collect" in r.stderr
    else:
        (line,) = r.stderr.strip().splitlines()
        assert "RuntimeError: boom in collect" in line and "radlabel.log" in line
        assert "second line" not in r.stderr
        assert "Traceback" in log and "second line of a long library message" in log
