"""The bundle's size report (scripts/bundle_report.py, issue 19): sizes of real files (links count
zero) and, over the target, the fewest largest files that alone exceed it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _report_module():
    path = REPO / "scripts" / "bundle_report.py"
    spec = importlib.util.spec_from_file_location("bundle_report", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


br = _report_module()


def _tree(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "big.so").write_bytes(b"\0" * 5000)
    (root / "lib" / "mid.so").write_bytes(b"\0" * 3000)
    (root / "small.py").write_bytes(b"\0" * 1000)
    (root / "tiny.txt").write_bytes(b"\0" * 500)
    os.symlink("lib/big.so", root / "big-link.so")  # PyInstaller's links: no extra bytes
    return root


def test_tree_sizes_count_real_files_and_folders(tmp_path):
    root = _tree(tmp_path / "b")
    files, folders = br.tree_sizes(root)
    assert {p.relative_to(root).as_posix(): n for p, n in files.items()} == {
        "lib/big.so": 5000,
        "lib/mid.so": 3000,
        "small.py": 1000,
        "tiny.txt": 500,
    }
    assert folders[root] == 9500
    assert folders[root / "lib"] == 8000


def test_largest_over_limit_names_the_fewest_largest_files(tmp_path):
    root = _tree(tmp_path / "b")
    files, _ = br.tree_sizes(root)
    names = lambda sel: [p.name for p, _n in sel]  # noqa: E731
    assert names(br.largest_over_limit(files, 7000)) == ["big.so", "mid.so"]
    assert names(br.largest_over_limit(files, 4999)) == ["big.so"]
    assert names(br.largest_over_limit(files, 8999)) == ["big.so", "mid.so", "small.py"]
    assert br.largest_over_limit(files, 9500) == []  # everything together fits


def test_report_over_the_limit_says_which_files_make_it_unreachable(tmp_path, capsys):
    root = _tree(tmp_path / "b")
    total = br.report(root, top=3, limit_mb=0.007)
    out = capsys.readouterr().out.splitlines()
    assert total == 9500
    assert out[0] == f"bundle size: 0.0 MB in 4 files ({root})"
    assert out[1] == "3 largest files:"
    assert [ln.split()[-1] for ln in out[2:5]] == ["lib/big.so", "lib/mid.so", "small.py"]
    assert out[-2] == "bundle: 0 MB is over the 0 MB target"
    assert out[-1] == "  the 2 largest files alone are 0 MB: big.so, mid.so"


def test_report_under_the_limit_prints_no_warning(tmp_path, capsys):
    root = _tree(tmp_path / "b")
    br.report(root, top=2, limit_mb=1)
    assert "over the" not in capsys.readouterr().out
