"""Refuses headers that claim more voxels than the file can hold or than memory allows.

Checked from the header alone, before any pixel buffer is allocated.
"""

from __future__ import annotations

import logging
import os

from viewer.errors import LoadError

# gzip/zlib cannot expand data by more than ~1032:1; anything beyond that is a lying header.
MAX_COMPRESSION_RATIO = 1100
_ENV_LIMIT = "RADLABEL_MAX_IMAGE_BYTES"
log = logging.getLogger(__name__)


def memory_limit_bytes() -> int:
    """The largest image we agree to allocate: a quarter of the physical memory, because the
    viewer holds the image, a label map and display copies beside it (about 3-4 times the
    image). RADLABEL_MAX_IMAGE_BYTES overrides it (a positive whole number of bytes)."""
    override = os.environ.get(_ENV_LIMIT, "").strip()
    if override:
        try:
            value = int(override)
        except ValueError:
            value = 0
        if value > 0:
            return value
        log.warning("ignoring %s=%r: not a positive number of bytes", _ENV_LIMIT, override)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on every platform
        total = 8 * 1024**3
    return int(total // 4)


def claimed_bytes(sizes, item_bytes: int) -> int:
    """Bytes of an image of `sizes` voxels of `item_bytes`, in Python integers: numpy's int64
    product wraps to 0 for sizes like 4294967296 x 4294967296 x 16 and would pass any guard."""
    total = int(item_bytes)
    for s in sizes:
        total *= int(s)
    return total


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
