"""Waivers: waived findings stay listed and are counted apart; expired ones no longer apply."""

from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner

from hegui.cli import main
from hegui.reports import report_schema

WAIVER = """waivers:
  - rule: QG-IND-003
    filing: "*.txt"
    item: 总费用控制
    reason: 成本指标按全年口径填报，已与预算科核实
    approved_by: 区财政局绩效科
    expires: 2024-06-30
"""


def _check(example_path, tmp_path, *extra):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["check", "--format", "json", "--waivers", str(waivers), *extra, str(example_path)]
    )
    document = json.loads(result.output)
    jsonschema.validate(document, report_schema())
    return result, document


def test_active_waiver_keeps_the_finding_listed_and_counts_it_apart(example_path, tmp_path):
    plain = json.loads(CliRunner().invoke(main, ["check", "--format", "json", str(example_path)]).output)
    _result, document = _check(example_path, tmp_path, "--today", "2024-01-01")
    finding = next(f for f in document["filings"][0]["findings"] if f["rule_id"] == "QG-IND-003")
    assert finding["waiver"]["status"] == "active" and finding["waiver"]["approved_by"] == "区财政局绩效科"
    counts = document["filings"][0]["counts"]
    assert counts["waived"] == 1
    assert counts["error"] == plain["filings"][0]["counts"]["error"] - 1
    assert len(document["filings"][0]["findings"]) == len(plain["filings"][0]["findings"])  # nothing dropped


def test_expired_waiver_no_longer_applies_and_says_so(example_path, tmp_path):
    _result, document = _check(example_path, tmp_path, "--today", "2024-07-01")
    finding = next(f for f in document["filings"][0]["findings"] if f["rule_id"] == "QG-IND-003")
    assert finding["waiver"]["status"] == "expired"
    assert document["filings"][0]["counts"]["waived"] == 0
    text = (
        CliRunner()
        .invoke(
            main, ["check", "--waivers", str(tmp_path / "waivers.yaml"), "--today", "2024-07-01", str(example_path)]
        )
        .output
    )
    assert "豁免已于2024-06-30过期，不再适用" in text


def test_waiving_the_only_errors_changes_the_exit_code(tmp_path, mutate, errors_fixed):
    clean = mutate(errors_fixed)
    path = tmp_path / "one-error.txt"
    path.write_text(clean, encoding="utf-8")
    assert CliRunner().invoke(main, ["check", str(path)]).exit_code == 1  # only QG-IND-003 remains an error
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER, encoding="utf-8")
    assert (
        CliRunner().invoke(main, ["check", "--waivers", str(waivers), "--today", "2024-01-01", str(path)]).exit_code
        == 0
    )


def test_bad_waiver_file_is_a_breadcrumb(example_path, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER.replace("approved_by", "aproved_by"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--waivers", str(waivers), str(example_path)])
    assert result.exit_code == 2
    assert f"{waivers}:6:5 › 键 waivers[0].aproved_by：未知的键“aproved_by”" in result.output
    assert "您是不是想写“approved_by”" in result.output
