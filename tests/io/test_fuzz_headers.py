"""Property-based fuzz of the header readers (issue 20): any mutation of the header region of
a small NIfTI, NRRD or DICOM loads as a valid volume or raises LoadError: never another
exception, never a hang. Bounded to about a minute (derandomized, so CI is reproducible);
benchmarks/bench_fuzz.py runs many more random mutants."""

from __future__ import annotations

import pytest
from header_fuzz import (
    INTERESTING_FLOATS,
    INTERESTING_INTS,
    NIFTI_FIELDS,
    NUMBERS,
    SUFFIX,
    TOKENS,
    apply,
    bases,
    check,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASES = bases()

_where = st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from(NIFTI_FIELDS))
_op = st.one_of(
    st.tuples(st.just("byte"), _where, st.integers(0, 255)),
    st.tuples(st.just("int16"), _where, st.sampled_from(INTERESTING_INTS)),
    st.tuples(st.just("int32"), _where, st.sampled_from(INTERESTING_INTS)),
    st.tuples(st.just("float32"), _where, st.sampled_from(INTERESTING_FLOATS)),
    st.tuples(st.just("text"), st.floats(0, 1, allow_nan=False), st.sampled_from(TOKENS)),
    st.tuples(st.just("number"), st.floats(0, 1, allow_nan=False), st.sampled_from(NUMBERS)),
    st.tuples(st.just("number"), st.floats(0, 1, allow_nan=False), st.sampled_from(NUMBERS)),
)

FUZZ = settings(
    max_examples=1000,
    deadline=None,  # loads vary with machine load; hangs are caught by the timeout mark
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", ["nifti", "nrrd", "dicom"])
def test_mutated_headers_load_validly_or_raise_load_error(kind, tmp_path):
    seen: dict[str, int] = {}

    @FUZZ
    @given(ops=st.lists(_op, min_size=1, max_size=4))
    def run(ops):
        path = tmp_path / f"mutant{SUFFIX[kind]}"
        path.write_bytes(apply(BASES[kind], kind, ops))
        outcome = check(path)
        seen[outcome] = seen.get(outcome, 0) + 1

    run()
    assert seen.get("LoadError", 0) > 0  # the mutations do reach the checks
    assert sum(seen.values()) >= 100


@pytest.mark.parametrize("kind", ["nifti", "nrrd", "dicom"])
def test_unmutated_bases_load(kind, tmp_path):
    path = tmp_path / f"base{SUFFIX[kind]}"
    path.write_bytes(BASES[kind])
    assert check(path) == "loaded"
