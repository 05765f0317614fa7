"""The two-command set-up: pyproject declares every library the code imports, setuptools finds
every package, and scripts/check_system.sh explains what is missing from the system."""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHECK = REPO / "scripts" / "check_system.sh"
CODE_DIRS = ("viewer", "segmentation_core")

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(reqs: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in reqs}


def _third_party_imports(paths: list[Path]) -> dict[str, Path]:
    local = {"viewer", "segmentation_core", "main", "conftest"}
    local |= {p.stem for p in (REPO / "tests").rglob("*.py")}  # helpers imported by tests
    local |= {p.stem for p in (REPO / "benchmarks").glob("*.py")}  # one benchmark reusing another
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, path)
    return found


def _undeclared(imports: dict[str, Path], declared: set[str]) -> list[str]:
    by_module = importlib.metadata.packages_distributions()
    out = []
    for module, path in sorted(imports.items()):
        dists = {_norm(d) for d in by_module.get(module, [])}
        if not dists & declared:
            out.append(f"{module} (imported in {path.relative_to(REPO)}; dists {sorted(dists)})")
    return out


def test_pyproject_declares_every_imported_library():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = _requirement_names(project["dependencies"])
    dev = runtime | _requirement_names(project["optional-dependencies"]["dev"])
    twin = REPO / "segmentation_core" / "training" / "twin"
    app_files = [p for d in CODE_DIRS for p in (REPO / d).rglob("*.py") if twin not in p.parents]
    app_files.append(REPO / "main.py")
    test_files = list((REPO / "tests").rglob("*.py")) + list((REPO / "benchmarks").glob("*.py"))
    assert _undeclared(_third_party_imports(app_files), runtime) == []
    # the PyTorch twin runs in its own venv (torch is not installed beside the product, so
    # its imports are matched by name against the `twin` extra)
    twin_extra = _requirement_names(project["optional-dependencies"]["twin"])
    assert sorted(_third_party_imports(list(twin.rglob("*.py")))) == ["numpy", "torch"]
    assert {"torch", "numpy"} <= twin_extra
    assert _undeclared(_third_party_imports(test_files), dev) == []


def test_every_code_folder_is_a_package_setuptools_finds():
    # setuptools' find: only folders with __init__.py whose dotted name matches `include`; a
    # folder without one would be left out of a wheel or a bundle.
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = cfg["packages"]["find"]["include"]
    folders = {
        p.parent
        for d in CODE_DIRS
        for p in (REPO / d).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders
    missing = [f for f in folders if not (f / "__init__.py").is_file()]
    assert missing == []
    dotted = {".".join(f.relative_to(REPO).parts) for f in folders}
    assert {n for n in dotted if not any(fnmatch.fnmatchcase(n, g) for g in include)} == set()


def _fake_bin(tmp_path: Path, uid: str = "1000", ldconfig_output: str = "") -> dict[str, str]:
    """PATH with a stand-in `ldconfig` (which libraries exist) and `id` (not root, so nothing is
    installed); everything else is the real system."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ldconfig").write_text(f"#!/bin/sh\ncat <<'X'\n{ldconfig_output}\nX\n")
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PY"] = sys.executable
    return env


def _real_ldconfig() -> str:
    exe = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        return subprocess.run([exe, "-p"], capture_output=True, text=True).stdout
    except OSError:
        return ""


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CHECK), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_check_system_names_missing_debian_packages(tmp_path):
    r = _check(_fake_bin(tmp_path, ldconfig_output=""))
    assert r.returncode == 1
    assert "libgl1" in r.stderr and "libgomp1" in r.stderr and "sudo apt-get install" in r.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_check_system_passes_when_everything_is_there(tmp_path):
    real = _real_ldconfig()
    if "libGL.so.1" not in real:
        pytest.skip("this machine lacks the libraries itself")
    r = _check(_fake_bin(tmp_path, ldconfig_output=real))
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_check_system_rejects_a_wrong_python(tmp_path):
    env = _fake_bin(tmp_path)
    env["PY"] = str(tmp_path / "no-such-python")
    r = _check(env)
    assert r.returncode == 1 and "no-such-python" in r.stderr and "3.10-3.12" in r.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gui_check_explains_a_missing_display(tmp_path):
    env = _fake_bin(tmp_path)
    env.pop("QT_QPA_PLATFORM", None)
    r = _check(env, "gui")
    assert r.returncode == 1 and "QT_QPA_PLATFORM=offscreen" in r.stderr
    real = _real_ldconfig()
    if "libGL.so.1" in real:
        env = _fake_bin(tmp_path / "full", ldconfig_output=real)
        env["QT_QPA_PLATFORM"] = "offscreen"
        assert _check(env, "gui").returncode == 0  # headless run: no display needed
