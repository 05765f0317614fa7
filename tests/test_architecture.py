"""Import rules of the architecture. The layers and the libraries each part may import are
import-linter contracts in pyproject.toml (`make test` runs `lint-imports`; the first test runs
them from pytest too). What import-linter cannot say is checked here with grimp, the graph it
is built on: no module of viewer.io imports -- at any depth, inside functions included -- a
module that imports it back."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

import viewer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # grimp reads the package Python imports: make sure that is this checkout's
    assert Path(viewer.__file__).resolve().parent == REPO / "viewer"
    return grimp.build_graph("viewer", "segmentation_core", include_external_packages=True)


def test_import_linter_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(REPO)
    assert lint_imports(config_filename=str(REPO / "pyproject.toml")) == 0


def io_cycles(graph: grimp.ImportGraph, package: str = "viewer.io") -> list[str]:
    """'a <-> b' for every pair of modules of `package` that import each other at any depth."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    found = []
    for m in modules:
        back = graph.find_upstream_modules(m) & graph.find_downstream_modules(m)
        found += [f"{m} <-> {o}" for o in sorted(back) if m < o]
    return found


def test_no_import_cycles_in_viewer_io(graph):
    assert io_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle(graph):
    """The check itself: the cycle save_labels_atomic made (atomic_save importing the label
    saver, inside a function, which imports atomic_save) is found."""
    graph.add_import(
        importer="viewer.io.atomic_save",
        imported="viewer.io.labels.load_save",
        line_number=1,
        line_contents="from viewer.io.labels.load_save import save_labels",
    )
    try:
        found = io_cycles(graph)
    finally:
        graph.remove_import(importer="viewer.io.atomic_save", imported="viewer.io.labels.load_save")
    assert "viewer.io.atomic_save <-> viewer.io.labels.load_save" in found


TWIN = "segmentation_core.training.twin"


def _in_twin(module: str) -> bool:
    return module == TWIN or module.startswith(TWIN + ".")


def twin_leaks(graph: grimp.ImportGraph) -> list[str]:
    """Modules outside the PyTorch twin that import torch, or that import the twin at any
    depth (the product must run and be tested without torch: docs/gpu_training.md)."""
    torch_users = graph.find_modules_that_directly_import("torch")
    users = set()
    for m in sorted(m for m in graph.modules if _in_twin(m)):
        users |= graph.find_downstream_modules(m)  # those that import m, at any depth
    return sorted(f"{m} -> torch" for m in torch_users if not _in_twin(m)) + sorted(
        f"{m} -> {TWIN}" for m in users if not _in_twin(m)
    )


def test_only_the_twin_imports_torch_and_nothing_imports_the_twin(graph):
    assert graph.find_modules_that_directly_import("torch") == {
        f"{TWIN}.data",
        f"{TWIN}.network",
        f"{TWIN}.optim",
        f"{TWIN}.train",
    }
    assert twin_leaks(graph) == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [("viewer.cli.import_twin", f"{TWIN}.network"), ("segmentation_core.api", "torch")],
)
def test_the_twin_check_finds_a_leak(graph, importer, imported):
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    try:
        found = twin_leaks(graph)
    finally:
        graph.remove_import(importer=importer, imported=imported)
    assert found == [f"{importer} -> {'torch' if imported == 'torch' else TWIN}"]
