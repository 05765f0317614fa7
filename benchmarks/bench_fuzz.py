"""Header fuzz, the long run: random header mutants of a small NIfTI, NRRD and DICOM through
`load_volume`; prints, per format, how many loaded as valid volumes, gave a LoadError, broke the
volume rule, raised another exception, or took longer than 10 s, and the slowest load.

Run: `.venv/bin/python benchmarks/bench_fuzz.py [--per-kind N] [--seed S]` (default 2000, 0).
The CI-sized version is tests/io/test_fuzz_headers.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "io"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from header_fuzz import (  # noqa: E402
    INTERESTING_FLOATS,
    INTERESTING_INTS,
    KINDS,
    NIFTI_FIELDS,
    NUMBERS,
    SUFFIX,
    TOKENS,
    apply,
    bases,
    check,
)

SLOW_S = 10.0


def random_ops(rng: random.Random) -> list[tuple]:
    ops = []
    for _ in range(rng.randint(1, 4)):
        where = rng.choice(NIFTI_FIELDS) if rng.random() < 0.3 else rng.random()
        op = rng.choice(["byte", "int16", "int32", "float32", "text", "number", "number"])
        if op == "byte":
            value = rng.randrange(256)
        elif op in ("int16", "int32"):
            value = rng.choice(INTERESTING_INTS)
        elif op == "float32":
            value = rng.choice(INTERESTING_FLOATS)
        elif op == "number":
            value, where = rng.choice(NUMBERS), rng.random()
        else:
            value, where = rng.choice(TOKENS), rng.random()
        ops.append((op, where, value))
    return ops


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-kind", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = bases()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            counts: Counter = Counter()
            slowest = 0.0
            examples: dict[str, str] = {}
            t_kind = time.perf_counter()
            for i in range(args.per_kind):
                ops = random_ops(rng)
                path = Path(tmp) / f"m{i}{SUFFIX[kind]}"
                path.write_bytes(apply(base[kind], kind, ops))
                t0 = time.perf_counter()
                try:
                    outcome = check(path)
                except AssertionError as e:
                    outcome = "invalid volume"
                    examples.setdefault(outcome, f"{ops}: {e}")
                except Exception as e:  # the bug class the fuzzer hunts
                    outcome = f"other: {type(e).__name__}"
                    examples.setdefault(outcome, f"{ops}: {e}"[:300])
                dt = time.perf_counter() - t0
                slowest = max(slowest, dt)
                if dt > SLOW_S:
                    counts["slower than 10 s"] += 1
                counts[outcome] += 1
                path.unlink()
            total = time.perf_counter() - t_kind
            parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(
                f"{kind:6s} {args.per_kind} mutants: {parts}; slowest {slowest * 1000:.0f} ms, "
                f"total {total:.1f} s"
            )
            for k, ex in examples.items():
                print(f"    first {k}: {ex}")
            bad += sum(v for k, v in counts.items() if k not in ("loaded", "LoadError"))
    print(f"outside the rule: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
