"""Peak resident memory of this process and of a child process (for the evaluation harness)."""

from __future__ import annotations

import resource
import sys


def peak_rss_self_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def peak_rss_of_pid(pid: int) -> int | None:
    """VmHWM of a live process on Linux; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
