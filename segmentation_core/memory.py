"""Resident memory of this process and of a child process (for the evaluation harness).

On Linux the peak (VmHWM) can be reset (`reset_peak_rss`), so a harness run reports its own peak
rather than whatever loading the files or an earlier run in the same process reached."""

from __future__ import annotations

import resource
import sys


def _status_kb(pid: int | str, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_self_bytes() -> int:
    """Peak resident memory of this process since it started or since `reset_peak_rss`."""
    hwm = _status_kb("self", "VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_rss_bytes() -> int | None:
    """Resident memory of this process now (Linux); None where /proc is not available."""
    return _status_kb("self", "VmRSS")


def reset_peak_rss() -> bool:
    """Start the peak over from the current resident size (Linux >= 4.0: /proc/self/clear_refs);
    False where that is not possible, and the peak then stays the process's lifetime peak."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_of_pid(pid: int) -> int | None:
    """VmHWM of a live process on Linux; None where /proc is not available."""
    return _status_kb(int(pid), "VmHWM")
