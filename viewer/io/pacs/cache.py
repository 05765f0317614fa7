"""The local cache of retrieved series: one folder per server / study / series, size-limited.

A series is downloaded into a temporary sibling folder and renamed into place only when every
instance arrived, with a `.complete` marker listing the instance count: a cancelled or broken
retrieval never leaves a half series that looks whole. When the cache grows past its limit the
least recently used series are removed (never the one just retrieved, nor one open in this
process: `pin` / `unpin`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections import Counter
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = ".complete"
_pinned: Counter[str] = Counter()  # real paths of series open in this process (per window)
DEFAULT_LIMIT_BYTES = 5 * 1024**3  # 5 GiB: a few dozen CT studies
LIMIT_ENV = "RADLABEL_PACS_CACHE_MB"


def cache_root() -> Path:
    """RADLABEL_DATA_DIR/pacs-cache when set (tests), else the platformdirs cache folder."""
    override = os.environ.get("RADLABEL_DATA_DIR")
    if override:
        return Path(override) / "pacs-cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("RadLabel", appauthor=False)) / "pacs"


def cache_limit_bytes() -> int:
    value = os.environ.get(LIMIT_ENV)
    try:
        return int(float(value) * 1024**2) if value else DEFAULT_LIMIT_BYTES
    except ValueError:
        log.warning("%s=%r is not a number of MB; using the default", LIMIT_ENV, value)
        return DEFAULT_LIMIT_BYTES


def _safe_uid(uid: str) -> str:
    # UIDs are digits and dots; anything else (a hostile server) must not walk out of the cache
    if len(uid) > 64 or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", uid):  # no "." or ".."
        raise ValueError(f"not a DICOM UID: {uid!r}")
    return uid


def series_dir(root: Path, url: str, study_uid: str, series_uid: str) -> Path:
    server = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]
    return root / server / _safe_uid(study_uid) / _safe_uid(series_uid)


def cached_series(folder: Path) -> bool:
    """True when `folder` holds a complete retrieval (and marks it as just used)."""
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        files = [p for p in folder.iterdir() if p.suffix == ".dcm"]
        complete = len(files) == int(info["instances"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        complete = False
    if complete:
        os.utime(marker)  # least-recently-used order
    return complete


def commit_series(partial: Path, folder: Path, instances: int) -> None:
    """Mark `partial` complete and move it to `folder` (replacing an older copy)."""
    (partial / MARKER).write_text(json.dumps({"instances": instances}), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, folder)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def pin(folder: Path) -> None:
    """A window opened the series in `folder`: eviction leaves it alone until `unpin`."""
    _pinned[os.path.realpath(folder)] += 1


def unpin(folder: Path) -> None:
    key = os.path.realpath(folder)
    _pinned[key] -= 1
    if _pinned[key] <= 0:
        del _pinned[key]


def evict(root: Path, limit: int, keep: Path | None = None) -> list[Path]:
    """Remove least recently used series until the cache holds at most `limit` bytes."""
    entries = []
    for marker in root.glob(f"*/*/*/{MARKER}"):
        folder = marker.parent
        try:
            entries.append((marker.stat().st_mtime, _size(folder), folder))
        except OSError:
            continue
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, folder in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        if (keep is not None and folder == keep) or os.path.realpath(folder) in _pinned:
            continue  # just retrieved, or open in a window: its images are in use
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
        total -= size
        log.info("PACS cache: removed %s (%d bytes) to stay under %d bytes", folder, size, limit)
    # leftovers of a crashed retrieval older than a day are garbage
    for partial in root.glob("*/*/*.partial-*"):
        try:
            if time.time() - partial.stat().st_mtime > 86400:
                shutil.rmtree(partial, ignore_errors=True)
        except OSError:
            pass
    return removed
