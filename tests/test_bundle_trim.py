"""What the PyInstaller bundle leaves out (build_spec/trim.py, issue 19): it keeps every library
the product loads, and no module the product imports is among the excluded ones, so a new
`from scipy.optimize import ...` in the product fails here instead of in a user's bundle."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _trim():
    spec = importlib.util.spec_from_file_location("bundle_trim", REPO / "build_spec" / "trim.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


trim = _trim()


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("paddle/libs/libmklml_intel.so", True),  # the AI click fails without it (measured)
        ("paddle/libs/libdnnl.so.3", True),
        ("paddle/libs/libopenvino.so.2500", True),  # linked by libpaddle.so
        ("paddle/libs/libopenvino_intel_cpu_plugin.so", False),
        ("SimpleITK/_SimpleITK.abi3.so", True),
        ("PyQt5/Qt5/plugins/platforms/libqxcb.so", True),
        ("PyQt5/Qt5/plugins/platforms/libqoffscreen.so", True),
        ("PyQt5/Qt5/plugins/platforms/libqwebgl.so", False),
        ("PyQt5/Qt5/plugins/imageformats/libqjpeg.so", True),
        ("PyQt5/Qt5/plugins/sqldrivers/libqsqlite.so", False),
        ("PyQt5/Qt5/translations/qtbase_de.qm", False),
        ("PyQt5/Qt5/lib/libQt5Quick.so.5", False),
        ("PyQt5/Qt5/lib/libQt5Widgets.so.5", True),
        ("numpy/_core/include/numpy/ndarraytypes.h", False),
        ("skimage/segmentation/__init__.pyi", True),  # lazy loading reads the stubs
    ],
)
def test_wanted_keeps_loaded_libraries_and_drops_unused_files(dest, kept):
    assert trim.wanted(dest) is kept
    assert trim.wanted(dest.replace("/", os.sep)) is kept


def test_is_excluded_matches_whole_module_names_only():
    assert trim.is_excluded("scipy.optimize") is True
    assert trim.is_excluded("scipy.optimize._highspy._core") is True
    assert trim.is_excluded("scipy.ndimage") is False
    assert trim.is_excluded("scipy.sparse") is False  # only its linalg and csgraph go
    assert trim.is_excluded("scipy.sparse.linalg") is True
    assert trim.is_excluded("skimage.filters") is False
    assert trim.is_excluded("skimage.filters.rank") is True
    assert trim.is_excluded("scipy.optimizers") is False  # a prefix of a name is not the module


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, function-level ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def test_no_product_module_imports_an_excluded_module():
    files = [REPO / "main.py"]
    for pkg in ("viewer", "segmentation_core"):
        files += sorted((REPO / pkg).rglob("*.py"))
    bad = [
        f"{f.relative_to(REPO)}:{line} imports {mod}"
        for f in files
        for line, mod in _imports(f)
        if trim.is_excluded(mod)
    ]
    assert bad == []


# what the product imports at run time, including what its libraries import for it
_PROBE = r"""
import importlib, json, os, pkgutil, sys, warnings
os.environ["QT_QPA_PLATFORM"] = "offscreen"
warnings.simplefilter("ignore")
import numpy as np
import segmentation_core, viewer
for pkg in (viewer, segmentation_core):
    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if m.name.startswith("segmentation_core.training.twin."):
            continue  # the PyTorch twin: GPU training only, not in the product or bundle
        importlib.import_module(m.name)
import paddle  # noqa: F401
from scipy import ndimage
from skimage.measure import marching_cubes
from skimage.segmentation import watershed
a = np.zeros((8, 8, 8), np.float32)
a[2:6, 2:6, 2:6] = 1
marching_cubes(np.pad(a, 1), level=0.5, method="lorensen")
markers = np.zeros(a.shape, np.int32)
markers[4, 4, 4], markers[0, 0, 0] = 1, 2
watershed(ndimage.gaussian_gradient_magnitude(a, 1.0), markers)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.slow
def test_importing_and_running_the_product_loads_no_excluded_module():
    r = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert r.returncode == 0, r.stderr[-2000:]
    modules = json.loads(r.stdout.strip().splitlines()[-1])
    assert "paddle.distributed" in modules  # `import paddle` imports it: it cannot be left out
    assert [m for m in modules if trim.is_excluded(m)] == []
