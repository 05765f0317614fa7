"""Plain-text tables of evaluation results (per target, mean, engines side by side)."""

from __future__ import annotations

from segmentation_core.evaluation.harness import CaseResult, summary_keys

MB = 1024 * 1024


def _fmt(key: str, v: float) -> str:
    return f"{v:6.1f}" if key.startswith("noc@") else f"{v:6.3f}"


def target_table(res: CaseResult, names: dict[int, str] | None = None) -> str:
    keys = summary_keys(res.n_clicks)
    head = f"{'target':<28}{'mL':>8} " + " ".join(f"{k:>8}" for k in keys) + f" {'p50 s':>7}"
    lines = [
        f"engine: {res.engine}  (EDT in {res.edt_units}; {res.cpu_count} cores, {res.device})",
        head,
    ]
    for t in res.targets:
        name = f"{t.value} {(names or {}).get(t.value, '')}".strip()[:27]
        lat = sorted(t.latencies_s)
        p50 = lat[len(lat) // 2] if lat else float("nan")
        vals = " ".join(f"{_fmt(k, _metric(t, k)):>8}" for k in keys)
        err = f"  ERROR: {t.error}" if t.error else ""
        lines.append(f"{name:<28}{t.volume_ml:8.1f} {vals} {p50:7.3f}{err}")
    lines.append(
        f"{'mean of ' + str(len(res.targets)) + ' targets':<28}{'':>8} "
        + " ".join(f"{_fmt(k, res.mean(k)):>8}" for k in keys)
    )
    lines.append(summary_line(res))
    if res.skipped:
        lines.append("skipped: " + ", ".join(f"{s['value']} ({s['reason']})" for s in res.skipped))
    return "\n".join(lines)


def _metric(t, key: str) -> float:
    from segmentation_core.evaluation.harness import _target_metric

    return _target_metric(t, key)


def summary_line(res: CaseResult) -> str:
    worker = res.worker_peak_rss_bytes
    mem = f"peak RSS {res.peak_rss_bytes / MB:.0f} MB"
    if res.rss_at_start_bytes:
        mem += f" ({(res.peak_rss_bytes - res.rss_at_start_bytes) / MB:+.0f} MB over the start)"
    if worker:
        mem += f" + worker {worker / MB:.0f} MB"
    return (
        f"latency p50 {res.latency_p50_s:.3f} s, p95 {res.latency_p95_s:.3f} s; {mem}; "
        f"image {res.image_bytes / MB:.0f} MB; wall {res.wall_s:.0f} s"
    )
