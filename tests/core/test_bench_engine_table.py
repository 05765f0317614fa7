"""The engine benchmark's tables: the large-organ row and the per-target lines (named)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from segmentation_core.evaluation.harness import CaseResult, TargetResult

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_engine.py"


def _bench(monkeypatch, seg: Path):
    spec = importlib.util.spec_from_file_location("bench_engine_under_test", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "SEG", seg)
    return mod


def _result() -> CaseResult:
    r = CaseResult("paddle", 3, (1.0, 1.0, 1.0), "mm", 0)
    r.targets = [
        TargetResult(5, 1000, 1500.0, dice=[0.2, 0.5, 0.9], noc={"noc@85": 3}, latencies_s=[0.1]),
        TargetResult(1, 100, 12.5, dice=[0.6, 0.7, 0.8], noc={"noc@85": 4}, latencies_s=[0.1]),
    ]
    r.latency_p50_s = r.latency_p95_s = 0.1
    return r


def test_large_targets_get_their_own_row_and_targets_their_names(monkeypatch, tmp_path, capsys):
    bench = _bench(monkeypatch, tmp_path)
    rows = [("ct", "paddle", _result())]
    bench.print_table(rows, 3)
    lines = capsys.readouterr().out.splitlines()
    large = [ln for ln in lines if ln.startswith("targets >= 100 mL")]
    assert large == [f"{'targets >= 100 mL':<22}{'paddle':<8}{1:>4}{0.2:9.3f}{0.9:9.3f}{3.0:8.1f}"]
    bench.print_targets(rows, 3, {"ct": {5: "liver", 1: "spleen"}})
    named = [ln.split() for ln in capsys.readouterr().out.splitlines() if ln.startswith("ct ")]
    assert named == [
        ["ct", "paddle", "5", "liver", "1500.0", "0.200", "0.900"],
        ["ct", "paddle", "1", "spleen", "12.5", "0.600", "0.800"],
    ]


def test_a_case_without_label_names_prints_values_only(monkeypatch, tmp_path, capsys):
    bench = _bench(monkeypatch, tmp_path)
    bench.print_targets([("ct", "paddle", _result())], 1, {})
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines() if ln.startswith("ct ")]
    assert rows == [
        ["ct", "paddle", "5", "1500.0", "0.200"],
        ["ct", "paddle", "1", "12.5", "0.600"],
    ]
