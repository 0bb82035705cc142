"""The example filing end to end: exactly the findings a careful reviewer makes, no more."""

from __future__ import annotations

import pytest

from hegui.engine.findings import STATUS_CANNOT_VERIFY, STATUS_FAIL
from hegui.facts.read import read_filing

# Every failing finding on the example; tests/test_review_checks.py gives the reasoning for
# each of the reviewer-level ones (indicator quality, text hygiene, coherence, honest rates).
EXPECTED_FAILURES = {
    ("QG-REQ-001", "附件1", "石峰区委组织部"),
    ("QG-HYG-012", "附件1", "石峰区委组织部"),
    ("QG-QLT-006", "附件1", "落实好全区副县以上老干部、离休干部两项待遇。石峰区9个行政村村支“两委”成员。"),
    (
        "QG-QLT-003",
        "附件1",
        "深学笃用习近平新时代中国特色社会主义思想，坚持固本强基，不断推进基层党组织建设。负责全区组织、干部、人才工作的检查督促，及时向市委组织部和区委反映重要情况，提出建议达成率",
    ),
    ("QG-QLT-010", "附件1", "石峰区委组织部"),
    ("QG-QLT-001", "附件1", "用心用情服务，切实发挥老干部“余热”"),
    (
        "QG-QLT-001",
        "附件1",
        "深入推进小区党建和产业链党建、两新党建、机关党建，探索党员分类管理，锤炼干部队伍专业水平，有效激发人才活力，为石峰高质量发展提供坚强组织保障。",
    ),
    ("QG-COH-002", "附件1", "受益党员干部和服务对象满意度"),
    ("QG-HYG-011", "附件1", "石峰区委组织部"),
    ("QG-X-003", "附件2", "村级组织运转经费"),
    ("QG-X-003", "附件2", "业务性专项经费"),
    ("QG-HYG-008", "附件2", "城市基层党建工作经费"),
    ("QG-X-003", "附件2", "驻村工作队队员待遇保障"),
    ("QG-HYG-006", "附件2", "驻村工作队队员待遇保障"),
    ("QG-HYG-008", "附件2", "驻村工作队队员待遇保障"),
    ("QG-HYG-008", "附件2", "驻村工作队队员待遇保障"),
    ("QG-HYG-011", "附件2", "专项资金预算绩效目标汇总表"),
    ("QG-COH-001", "附件3-1", "老干部专项经费"),
    ("QG-COH-001", "附件3-1", "老干部专项经费"),
    ("QG-X-007", "附件3-1", "离退休干部党支部"),
    ("QG-QLT-015", "附件3-1", "总费用控制"),
    ("QG-QLT-010", "附件3-1", "老干部专项经费"),
    ("QG-QLT-001", "附件3-1", "用心用情服务，切实发挥老干部“余热”"),
    ("QG-QLT-001", "附件3-1", "让老干部获得更多荣誉感、成就感，不断丰富老干部精神文化需求，涉老组织工作成效明显。"),
    ("QG-SUM-007", "附件3-1", "五个涉老组织经费（含老年大学工作经费）"),
    ("QG-CALC-001", "附件3-1", "5万元/个*5个"),
    ("QG-HYG-011", "附件3-1", "老干部专项经费"),
    ("QG-QLT-003", "附件3-2", "强化党建引领，不断提高基层党组织组织力"),
    ("QG-QLT-011", "附件3-2", "完成时间"),
    ("QG-QLT-015", "附件3-2", "总费用控制"),
    ("QG-QLT-010", "附件3-2", "村级组织运转专项经费"),
    ("QG-COH-002", "附件3-2", "强化党建引领，引导各方党员参与到社会治理"),
    ("QG-QLT-001", "附件3-2", "强化党建引领，引导各方党员参与到社会治理"),
    ("QG-COH-002", "附件3-2", "强化党建引领，不断提高基层党组织的政治功能和服务功能"),
    ("QG-QLT-001", "附件3-2", "强化党建引领，不断提高基层党组织的政治功能和服务功能"),
    ("QG-HYG-007", "附件3-2", "村级服务群众专项经费"),
    ("QG-HYG-002", "附件3-2", "村级运转经费（村干部工资、党建工作经费、办公经费）"),
    ("HN-YLBX-001", "附件3-2", "村主干（仅村书记）养老保险补贴"),
    ("QG-HYG-001", "附件3-2", "村主干（仅村书记）养老保险补贴"),
    ("QG-HYG-011", "附件3-2", "村级组织运转专项经费"),
    ("QG-COH-004", "附件3-3", "业务性专项"),
    ("QG-QLT-003", "附件3-3", "坚持固本强基，夯实基层基础，加强干部队伍建设，推进公务员管理实效，有效激发人才活力"),
    ("QG-IND-003", "附件3-3", "总费用控制"),
    ("QG-QLT-010", "附件3-3", "业务性专项"),
    ("QG-COH-002", "附件3-3", "推进基层党组织和党员、领导班子和干部队伍、人才队伍建设"),
    ("QG-QLT-001", "附件3-3", "推进基层党组织和党员、领导班子和干部队伍、人才队伍建设"),
    ("QG-COH-002", "附件3-3", "为石峰高质量发展提供坚强的组织保障"),
    ("QG-QLT-001", "附件3-3", "为石峰高质量发展提供坚强的组织保障"),
    ("QG-COH-002", "附件3-3", "党员、干部等满意度"),
    ("QG-HYG-010", "附件3-3", "干部和公务员管理工作专项经费"),
    ("QG-HYG-011", "附件3-3", "业务性专项"),
    ("QG-COH-004", "附件3-4", "城市基层党建工作经费"),
    ("QG-HYG-003", "附件3-4", "城市基层党建工作经费"),
    ("QG-HYG-004", "附件3-4", "城市基层党建工作经费"),
    ("QG-QLT-003", "附件3-4", "推进“动力党建·活力家园”建设基层党建组织"),
    ("QG-QLT-015", "附件3-4", "总费用控制"),
    ("QG-QLT-010", "附件3-4", "城市基层党建工作经费"),
    ("QG-QLT-001", "附件3-4", "推进基层党组织和党员、领导班子和干部队伍、人才队伍建设"),
    ("QG-QLT-001", "附件3-4", "为石峰高质量发展提供坚强的组织保障"),
    ("QG-HYG-011", "附件3-4", "城市基层党建工作经费"),
    ("ZZ-ZCDY-001", "附件3-5", "驻村工作队员待遇保障"),
    ("QG-COH-005", "附件3-4", "城市基层党建工作经费"),
    ("QG-COH-006", "附件3-2", "村级服务群众专项经费"),
    ("QG-COH-006", "附件3-2", "村主干（仅村书记）养老保险补贴"),
    ("QG-COH-005", "附件3-5", "驻村工作队员待遇保障"),
    ("QG-COH-004", "附件3-5", "驻村工作队员待遇保障"),
    ("QG-QLT-003", "附件3-5", "建设美丽乡村，促进乡村振兴"),
    ("QG-QLT-011", "附件3-5", "完成时间"),
    ("QG-QLT-015", "附件3-5", "总费用控制"),
    ("QG-QLT-010", "附件3-5", "驻村工作队员待遇保障"),
    ("QG-QLT-001", "附件3-5", "强化党建引领，引导各方党员参与到社会治理"),
    ("QG-QLT-001", "附件3-5", "强化党建引领，不断提高基层党组织的政治功能和服务功能"),
    ("QG-HYG-008", "附件3-5", "驻村工作队员待遇及后盾单位帮扶资金"),
    ("QG-HYG-011", "附件3-5", "驻村工作队员待遇保障"),
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
    # The rates are the filing's own (测算说明, line 741), quoted from the filing, not the rule.
    assert values["交通费标准"] == "2000元/人/月"
    assert values["意外伤害保险标准"] == "600元/人/年"
    texts = {e.name: e.text for e in finding.evidence}
    assert "按2000元/人/月落实交通费" in texts["交通费标准"]
    assert values["后盾单位帮扶资金下限"] == "15万元/年"
    assert values["队员人数"] == "6人"


def test_pension_subsidy_bound(findings):
    finding = _one(findings, "HN-YLBX-001")
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
        "ZZ-CJFW-001",  # 9 × 3万 (the filing's own 每个村3万元) = 27万
        "ZZ-CJFW-002",  # stated 3万/村 = 株组〔2018〕32号's 3万/村
        "SF-LRCG-001",  # 31.68 ≤ 50 ≤ 84.48
        "HN-YLBX-003",  # stated 3000/1000/1000元/人/年 ≤ 3000
        "QG-IND-001",
        "QG-IND-002",
        "QG-IND-005",
        "QG-IND-006",
    ]
    assert not [rule for rule, _ in fired if rule in holding]
    # QG-SUM-007 holds on every line but 附件3-1's first (13+27=40, 140+45+36=221, 2+1+2+1.5=6.5 …).
    assert [item for rule, item in fired if rule == "QG-SUM-007"] == ["五个涉老组织经费（含老年大学工作经费）"]
