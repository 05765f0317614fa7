"""Size report of a built bundle (run by `make bundle`): total, the 20 largest files and the 20
largest folders, and the size of the compressed archive a user would download.

Usage: python scripts/bundle_report.py dist/radlabel [--archive dist/radlabel.tar.gz]
       [--limit-mb 800] [--top 20]
Over the limit, it also names the fewest largest files that alone exceed it.
"""

from __future__ import annotations

import argparse
import os
import tarfile
import time
from pathlib import Path


def tree_sizes(root: Path) -> tuple[dict[Path, int], dict[Path, int]]:
    """(file sizes, folder sizes including everything below) of real files; links count 0."""
    files: dict[Path, int] = {}
    folders: dict[Path, int] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            size = p.stat().st_size
            files[p] = size
            for parent in p.relative_to(root).parents:
                folders[root / parent] = folders.get(root / parent, 0) + size
    return files, folders


def largest_over_limit(files: dict[Path, int], limit: int) -> list[tuple[Path, int]]:
    """The fewest largest files whose sizes add up to more than `limit` bytes ([] when even all
    files together fit): when these are libraries the product loads, trimming the rest cannot
    reach the limit."""
    out: list[tuple[Path, int]] = []
    total = 0
    for p, n in sorted(files.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        out.append((p, n))
        total += n
        if total > limit:
            return out
    return []


def mb(n: int) -> str:
    return f"{n / 1e6:8.1f} MB"


def report(root: Path, top: int = 20, limit_mb: float = 0) -> int:
    files, folders = tree_sizes(root)
    total = folders.get(root, 0)
    print(f"bundle size: {total / 1e6:.1f} MB in {len(files)} files ({root})")
    print(f"{top} largest files:")
    for p, n in sorted(files.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {mb(n)}  {p.relative_to(root)}")
    print(f"{top} largest folders:")
    inner = {p: n for p, n in folders.items() if p != root}
    for p, n in sorted(inner.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {mb(n)}  {p.relative_to(root)}/")
    limit = int(limit_mb * 1e6)
    if limit and total > limit:
        print(f"bundle: {total / 1e6:.0f} MB is over the {limit_mb:.0f} MB target")
        alone = largest_over_limit(files, limit)
        if alone:
            names = ", ".join(p.name for p, _n in alone)
            size = sum(n for _p, n in alone)
            print(f"  the {len(alone)} largest files alone are {size / 1e6:.0f} MB: {names}")
    return total


def archive(root: Path, out: Path) -> int:
    t0 = time.monotonic()
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(root, arcname=root.name)
    os.replace(tmp, out)
    size = out.stat().st_size
    print(
        f"compressed archive: {size / 1e6:.1f} MB ({out}, gzip -6, {time.monotonic() - t0:.0f} s)"
    )
    return size


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path)
    p.add_argument("--archive", type=Path, default=None, help="also write this .tar.gz")
    p.add_argument(
        "--limit-mb",
        type=float,
        default=0,
        help="say so when the bundle is larger (a warning, not a failure)",
    )
    p.add_argument("--top", type=int, default=20, help="how many files and folders to list")
    args = p.parse_args()
    report(args.bundle, args.top, args.limit_mb)
    if args.archive:
        archive(args.bundle, args.archive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
