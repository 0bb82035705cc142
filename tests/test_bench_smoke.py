"""The benchmark harness (bench/run_all.py) still runs: its smallest pieces, in a few seconds.

Not a performance test: nothing here asserts a speed. It keeps the harness from rotting while
hegui's internals move: the step-by-step copy of a check must still find exactly what
``Evaluator.check`` finds, generated rule sets must still load, the anchor (``../shared/bench``,
when present beside the repository) must still be runnable by path, and the JSON document must
keep its shape.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("hegui_bench_run_all", REPO / "bench" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


TINY = {
    "warm_iterations": 2,  # one with the real check first, one with the copy first
    "warm_warmup": 0,
    "rules": 45,
    "scaling_rules": (10, 45),
    "anchor_filings": 2,
    "anchor_rounds": 1,
}


def test_generated_rule_sets_have_the_asked_count(bench, tmp_path):
    from hegui.engine.rules import load_rules

    assert bench.generate_rules(tmp_path / "few", 10) == 10  # fewer than the built-in packs hold
    assert len(load_rules([tmp_path / "few"]).rules) == 10
    assert bench.generate_rules(tmp_path / "more", 45) == 45  # built-in rules plus copies
    assert len(load_rules([tmp_path / "more"]).rules) == 45


def test_warm_phases_match_the_real_check_and_json_keeps_its_shape(bench):
    results = bench.run(("warm", "anchor"), dict(TINY))
    document = json.loads(json.dumps(results))  # serialisable as it is
    assert document["schema"] == bench.SCHEMA
    assert set(document["warm"]) == {
        "example_builtin_rules",
        "example_generated_rules",
        "example_generated_rules_new_texts",
    }
    generated = document["warm"]["example_generated_rules"]
    # The same check with the per-text caches emptied first: same findings, its own figures.
    new_texts = document["warm"]["example_generated_rules_new_texts"]
    assert new_texts["phase_error"] is None and new_texts["finding_count"] == generated["finding_count"]
    assert new_texts["check"]["n"] == 2 and new_texts["label"] == "new texts"
    assert generated["rules"] == 45
    # None means check_phases still mirrors Evaluator.check (same finding ids); if this fails,
    # update check_phases in bench/run_all.py to the new internals.
    assert generated["phase_error"] is None
    for key in ("read", *bench.PHASES, "check", "check_cpu", "total"):
        assert generated[key]["n"] == 2 and generated[key]["median_ms"] > 0
    # Both rule sets find something in the example (how many depends on which packs ship).
    assert generated["finding_count"] > 0 and document["warm"]["example_builtin_rules"]["finding_count"] > 0
    anchor = document["anchor"]
    if anchor["path"] is None:
        assert "not found" in anchor["note"] and anchor["warm_ms"] is None
    else:
        assert anchor["warm_ms"] > 0
        assert anchor["ratio_check"] == round(generated["check"]["median_ms"] / anchor["warm_ms"], 2)
        assert anchor["ratio_check_new_texts"] == round(new_texts["check"]["median_ms"] / anchor["warm_ms"], 2)
        assert anchor["warm_cpu_ms"] is None  # one round: no CPU difference to take
    assert "Warm check of the example" in bench.render(results)


def test_missing_anchor_is_reported_not_silently_skipped(bench, tmp_path):
    path, note = bench.find_anchor(str(tmp_path / "nope.py"))
    assert path is None and "no such file" in note
    results = bench.run(("anchor",), dict(TINY), anchor_arg=str(tmp_path / "nope.py"))
    assert results["anchor"]["warm_ms"] is None
    assert "no such file" in bench.render(results)


def test_anchor_runs_by_path_when_present(bench):
    anchor, note = bench.find_anchor(None)
    if anchor is None:
        pytest.skip(note)
    wall_ms, cpu_ms = bench.anchor_warm_cpu(anchor, rules=5, filings=2, rounds=3)
    assert wall_ms > 0
    # CPU per filing is the difference of two runs: at these tiny sizes it is noise, so only
    # its presence is asserted; the wall time proves the anchor ran.
    assert cpu_ms is not None


def test_batch_run_measures_a_subprocess(bench, tmp_path):
    folder = bench.generate_filings(tmp_path / "filings", 2)
    run = bench.run_batch_once(folder, 1, tmp_path / "report.json")
    assert run["filings"] == 2 and run["jobs"] == 1
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))  # the report was written
    assert run["peak_rss_any_process_mb"] > 10  # a Python process with hegui loaded
    assert run["peak_rss_parent_mb"] >= run["peak_rss_any_process_mb"]  # in-process: the parent is the peak
