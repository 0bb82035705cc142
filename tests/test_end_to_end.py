"""The example filing end to end: exactly the findings a careful reviewer makes, no more."""

from __future__ import annotations

import pytest

from hegui.engine.findings import STATUS_CANNOT_VERIFY, STATUS_FAIL
from hegui.facts.read import read_filing

EXPECTED_FAILURES = {
    ("QG-REQ-001", "附件1", "石峰区委组织部"),
    ("QG-X-003", "附件2", "村级组织运转经费"),
    ("QG-X-003", "附件2", "业务性专项经费"),
    ("QG-X-003", "附件2", "驻村工作队队员待遇保障"),
    ("QG-TXT-001", "附件2", "驻村工作队队员待遇保障"),
    ("QG-X-007", "附件3-1", "离退休干部党支部"),
    ("QG-SUM-007", "附件3-1", "五个涉老组织经费（含老年大学工作经费）"),
    ("QG-CALC-001", "附件3-1", "5万元/个*5个"),
    ("HN-YLBX-002", "附件3-2", "村主干（仅村书记）养老保险补贴"),
    ("QG-IND-003", "附件3-3", "总费用控制"),
    ("ZZ-ZCDY-001", "附件3-5", "驻村工作队员待遇保障"),
}
EXPECTED_CANNOT_VERIFY = {
    ("QG-SUM-001", "附件1"),
    ("QG-SUM-002", "附件1"),
    ("QG-IND-004", "附件1"),
    ("SF-LRCG-002", "附件3-2"),
    ("ZZ-DJPT-001", "附件3-4"),
}


@pytest.fixture(scope="module")
def findings(evaluator, example_path):
    return evaluator.check(read_filing(example_path)).findings


def test_exactly_the_expected_failures(findings):
    found = {(f.rule_id, f.table, f.item) for f in findings if f.status == STATUS_FAIL}
    assert found == EXPECTED_FAILURES


def test_exactly_the_expected_cannot_verify(findings):
    found = {(f.rule_id, f.table) for f in findings if f.status == STATUS_CANNOT_VERIFY}
    assert found == EXPECTED_CANNOT_VERIFY


def _one(findings, rule_id):
    matches = [f for f in findings if f.rule_id == rule_id and f.status == STATUS_FAIL]
    assert len(matches) == 1, matches
    return matches[0]


def test_village_team_arithmetic_in_message(findings):
    finding = _one(findings, "ZZ-ZCDY-001")
    assert finding.actual == "20.00万元"
    assert finding.expected == "≥ 29.76万元"
    assert "29.76万元" in finding.message and "6人" in finding.message
    assert finding.location.endswith(":741")
    values = {e.name: e.value for e in finding.evidence}
    assert values["驻村交通费标准"] == "2000元/人/月"
    assert values["驻村意外伤害保险标准"] == "600元/人/年"
    assert values["后盾单位帮扶资金下限"] == "15万元/年"
    assert values["队员人数"] == "6人"


def test_pension_subsidy_bound(findings):
    finding = _one(findings, "HN-YLBX-002")
    assert finding.actual == "1.40万元" and finding.expected == "≤ 0.90万元"
    assert finding.location.endswith(":454")
    assert "9村" in finding.message


def test_stated_total_against_rate_times_count(findings):
    calc = _one(findings, "QG-CALC-001")
    assert (calc.actual, calc.expected) == ("15.00万元", "= 25.00万元")
    assert calc.location.endswith(":300")
    parts = _one(findings, "QG-SUM-007")
    assert (parts.actual, parts.expected) == ("15.00万元", "= 25.00万元")


def test_cost_indicator_above_amount(findings):
    finding = _one(findings, "QG-IND-003")
    assert (finding.actual, finding.expected) == ("15.00万元", "≤ 13.50万元")
    assert finding.location.endswith(":532")


def test_branch_count_disagreement_names_both_places(findings):
    finding = _one(findings, "QG-X-007")
    assert {finding.actual, finding.expected} == {"18", "20"}
    locations = {e.location.rsplit(":", 1)[1] for e in finding.evidence}
    assert locations == {"154", "215"}


def test_name_mismatch_quotes_both_names(findings):
    messages = [f.message for f in findings if f.rule_id == "QG-X-003"]
    assert any("村级组织运转经费" in m and "村级组织运转专项经费" in m for m in messages)


def test_cannot_verify_names_what_is_missing(findings):
    findings = {f.rule_id: f for f in findings if f.status == STATUS_CANNOT_VERIFY}
    assert "各档补助合计" in findings["SF-LRCG-002"].message
    assert "市级投入" in findings["ZZ-DJPT-001"].message
    assert findings["QG-SUM-001"].location.endswith(":21")


def test_holding_identities_are_not_flagged(findings):
    """Negative controls: every sum and tie-out that holds in the example stays silent."""
    fired = {(f.rule_id, f.item) for f in findings}
    holding = [
        "QG-SUM-003",  # 939.28 = 356.38 + 582.90
        "QG-SUM-004",  # 70 + 299.40 + 13.50 + 180 + 20 = 582.90
        "QG-SUM-005",  # each 附件3's detail lines = its 合计
        "QG-SUM-006",  # each 附件3's 合计 = 项目金额
        "QG-X-001",  # 附件2 合计 = 附件1 项目支出
        "QG-X-002",  # Σ 附件3 项目金额 = 582.90
        "QG-X-004",  # each 附件2 row amount = its 附件3
        "QG-X-005",
        "QG-X-006",
        "ZZ-CJFW-001",  # 9 × 3万 = 27万
        "SF-LRCG-001",  # 31.68 ≤ 50 ≤ 84.48
        "SF-SLZZ-001",  # 5 × 5万 = 25万
        "SF-CJBG-001",  # 9 × 5万 = 45万
        "SF-CJDJ-001",  # 9 × 4万 = 36万
        "HN-YLBX-001",
        "QG-IND-001",
        "QG-IND-002",
        "QG-IND-005",
        "QG-IND-006",
    ]
    assert not [rule for rule, _ in fired if rule in holding]
    # QG-SUM-007 holds on every line but 附件3-1's first (13+27=40, 140+45+36=221, 2+1+2+1.5=6.5 …).
    assert [item for rule, item in fired if rule == "QG-SUM-007"] == ["五个涉老组织经费（含老年大学工作经费）"]
