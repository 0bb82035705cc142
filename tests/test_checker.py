"""The end-to-end checker (app/checker.py): one input read, evaluated and waived, one error policy."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hegui.app.checker import Checker, CheckOptions, UnexpectedError, read_input
from hegui.engine.rules import RuleLoadError
from hegui.engine.waivers import Waiver
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.reports import exit_code, to_json


@pytest.fixture(scope="module")
def app_checker(ruleset, registry) -> Checker:
    return Checker(registry, ruleset)


def test_check_gives_the_evaluators_findings(app_checker, evaluator, example_path):
    outcome = app_checker.check(example_path)
    expected = evaluator.check(read_filing(example_path))
    assert outcome.error is None and outcome.path == str(example_path)
    assert [f.id for f in outcome.findings] == [f.id for f in expected.findings]
    assert outcome.jurisdiction == expected.jurisdiction == ["石峰区", "株洲市", "湖南省", "全国"]


def test_unreadable_input_is_its_error_record(app_checker, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    outcome = app_checker.check(bad)
    assert outcome.filing is None and isinstance(outcome.error, InputError)
    assert not isinstance(outcome.error, UnexpectedError) and "文件为空" in outcome.error.message


def test_any_other_failure_is_its_error_record_and_the_next_input_is_checked(
    ruleset, registry, example_path, monkeypatch
):
    checker = Checker(registry, ruleset)
    real = checker.evaluator.check
    calls = []

    def flaky(filing, **options):
        calls.append(filing.path)
        if len(calls) == 1:
            raise KeyError("engine bug")
        return real(filing, **options)

    monkeypatch.setattr(checker.evaluator, "check", flaky)
    first, second = checker.check_all([example_path, example_path])
    assert isinstance(first.error, UnexpectedError) and isinstance(first.error.cause, KeyError)
    assert first.error.message == "检查时程序出错：KeyError: 'engine bug'"
    assert second.error is None and second.findings
    assert exit_code([first, second], "never") == 2  # an error record always means exit 2
    entry = json.loads(to_json([first, second], ruleset))["filings"][0]
    assert entry == {
        "file": str(example_path),
        "status": "error",
        "error": {"message": first.error.message, "location": ""},
    }


def test_read_input_turns_reader_crashes_into_input_errors(registry, tmp_path, monkeypatch):
    import hegui.app.checker as module

    def crash(path, registry=None):
        raise MemoryError("too big")

    monkeypatch.setattr(module, "read_filing", crash)
    with pytest.raises(UnexpectedError, match="MemoryError: too big"):
        read_input(tmp_path / "x.txt", registry)


def test_options_reach_the_evaluation_and_waivers(ruleset, registry, example_path):
    plain = Checker(registry, ruleset).check(example_path)
    target = next(f for f in plain.findings if f.rule_id == "ZZ-ZCDY-001")
    waiver = Waiver(target.rule_id, "*.txt", target.item, "试点", "张三", dt.date(2024, 6, 30), "w.yaml", 3)
    options = CheckOptions(district="株洲市", explain=True, waivers=(waiver,), today=dt.date(2024, 1, 1))
    outcome = Checker(registry, ruleset, options).check(example_path)
    assert outcome.jurisdiction == ["株洲市", "湖南省", "全国"]
    assert all(f.explanation is not None for f in outcome.findings)
    assert [f.waived for f in outcome.findings if f.rule_id == "ZZ-ZCDY-001"] == [True]
    # Per-call options (the service's per-request ones) replace the checker's own.
    again = Checker(registry, ruleset, options).check(example_path, options=CheckOptions())
    assert [f.id for f in again.findings] == [f.id for f in plain.findings]
    assert not any(f.waived or f.explanation for f in again.findings)


def test_read_replaces_the_file_and_path_is_only_the_name(app_checker, example_path):
    outcome = app_checker.check("申报.json", read=lambda: read_filing(example_path))
    assert outcome.path == "申报.json" and outcome.error is None and outcome.findings


def test_load_refuses_bad_rules(registry, tmp_path):
    pack = tmp_path / "bad.yaml"
    pack.write_text("pack: {name: 坏, jurisdiction: 全国}\nrules:\n  - id: nope\n", encoding="utf-8")
    with pytest.raises(RuleLoadError):
        Checker.load([pack], registry=registry)
