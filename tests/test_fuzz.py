"""Fuzzing every input hegui reads (issue 13): readers of every format, the YAML loaders (rules,
test cases, waivers) and the inline filing format, each damaged by the seeded mutator of
:mod:`fuzzing`, must end in a report or in hegui's own located error — never anything else.

Hypothesis picks the kinds and seeds (derandomized, so CI runs the same examples every time);
bench/fuzz_inputs.py runs the same cases by the ten thousand.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# --import-mode=importlib puts nothing on sys.path: the shared mutator sits beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzing import KINDS, Runner, build_seeds, mutate


@functools.cache
def _setup() -> tuple[dict[str, bytes], Runner]:
    folder = Path(tempfile.mkdtemp(prefix="hegui-fuzz-"))
    return build_seeds(folder / "seeds"), Runner(folder)


def test_every_seed_is_read_or_refused_cleanly():
    seeds, runner = _setup()
    outcomes = {kind: runner.run(kind, seeds[kind]) for kind in KINDS}
    assert {k: o.status for k, o in outcomes.items() if o.status == "crash"} == {}
    # The seeds are real inputs: the example in every office format is read and checked.
    assert {k for k, o in outcomes.items() if o.status == "ok"} >= {"txt", "xlsx", "docx", "rules", "cases", "inline"}


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(kind=st.sampled_from(KINDS), seed=st.integers(min_value=0, max_value=2**32))
def test_damaged_inputs_end_in_a_report_or_a_located_error(kind, seed):
    seeds, runner = _setup()
    outcome = runner.run(kind, mutate(kind, seeds[kind], seed))
    assert outcome.status in ("ok", "refused"), f"{kind} seed {seed}:\n{outcome.detail}"


#: Cases the by-hand fuzz runs found (each crashed or hung before its fix); kept as regressions.
FOUND = [
    ("html", 516),  # unclosed <script> in a table: the HTML parser's close() looped for ever
    ("inline", 3179),  # a 4,400-digit number reached the JSON report
    ("docx", 3953),  # an XML declaration naming an unknown encoding (LookupError from expat)
    ("trad", 59574),  # a 小计 row wider than the data below it (IndexError in the project tables)
]


@pytest.mark.parametrize("kind, seed", FOUND, ids=[f"{k}-{s}" for k, s in FOUND])
def test_what_the_fuzzer_found_stays_fixed(kind, seed):
    seeds, runner = _setup()
    outcome = runner.run(kind, mutate(kind, seeds[kind], seed))
    assert outcome.status in ("ok", "refused"), outcome.detail
