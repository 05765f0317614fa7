"""Refuses headers that claim more voxels than the file can hold or than memory allows.

Checked from the header alone, before any pixel buffer is allocated.
"""

from __future__ import annotations

import os

from viewer.errors import LoadError

# gzip/zlib cannot expand data by more than ~1032:1; anything beyond that is a lying header.
MAX_COMPRESSION_RATIO = 1100
_ENV_LIMIT = "RADLABEL_MAX_IMAGE_BYTES"


def memory_limit_bytes() -> int:
    """The largest image we agree to allocate: half the physical memory (override by env)."""
    override = os.environ.get(_ENV_LIMIT)
    if override:
        return int(override)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on every platform
        total = 8 * 1024**3
    return int(total // 2)


def check_claimed_size(
    path: str,
    claimed_bytes: int,
    *,
    stored_bytes: int | None = None,
    compressed: bool = False,
) -> None:
    """Raise LoadError when `claimed_bytes` is implausible for the file or too big for memory.

    `stored_bytes` is how many bytes of pixel data the file actually has room for (file size
    for a single file, sum of sizes for a series); with `compressed` the ratio limit applies.
    """
    limit = memory_limit_bytes()
    if claimed_bytes > limit:
        raise LoadError(
            f"header claims an image of {_fmt(claimed_bytes)}, more than the "
            f"{_fmt(limit)} this computer can hold",
            path,
        )
    if stored_bytes is None:
        return
    if compressed:
        if claimed_bytes > stored_bytes * MAX_COMPRESSION_RATIO + 1_000_000:
            raise LoadError(
                f"header claims {_fmt(claimed_bytes)} of pixels but the file holds only "
                f"{_fmt(stored_bytes)} (corrupt or truncated header)",
                path,
            )
    elif claimed_bytes > stored_bytes:
        raise LoadError(
            f"file is truncated: header claims {_fmt(claimed_bytes)} of pixels but the file "
            f"holds only {_fmt(stored_bytes)}",
            path,
        )


def _fmt(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"
