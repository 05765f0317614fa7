"""Import rules of the architecture: model/commands/tools stay Qt-free, the core stays viewer-free."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z0-9_\.]+)", re.MULTILINE)

RULES = {
    "segmentation_core": ("PyQt5", "pyqtgraph", "vtk", "vtkmodules", "SimpleITK", "viewer"),
    "viewer/model": ("PyQt5", "pyqtgraph", "vtk", "vtkmodules", "paddle", "SimpleITK", "pydicom"),
    "viewer/commands": ("PyQt5", "pyqtgraph", "vtk", "vtkmodules", "paddle", "SimpleITK"),
    "viewer/tools": ("PyQt5", "pyqtgraph", "vtk", "vtkmodules", "paddle", "SimpleITK"),
}
IO_ONLY = ("SimpleITK", "pydicom", "highdicom", "nibabel", "nrrd")


def _imports(path: Path) -> list[str]:
    return [m.split(".")[0] for m in IMPORT.findall(path.read_text(encoding="utf-8"))]


def test_layers_do_not_import_forbidden_packages():
    bad = []
    for folder, forbidden in RULES.items():
        for f in (REPO / folder).rglob("*.py"):
            bad += [f"{f.relative_to(REPO)} imports {m}" for m in _imports(f) if m in forbidden]
    assert not bad, "\n".join(bad)


def test_file_libraries_only_in_viewer_io():
    bad = []
    for f in list((REPO / "viewer").rglob("*.py")) + list(
        (REPO / "segmentation_core").rglob("*.py")
    ):
        rel = f.relative_to(REPO).as_posix()
        if rel.startswith("viewer/io/"):
            continue
        bad += [f"{rel} imports {m}" for m in _imports(f) if m in IO_ONLY]
    assert not bad, "\n".join(bad)
