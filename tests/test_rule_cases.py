"""Every shipped rule, one passing and one failing variant of the example filing.

Each case names the lines of the example it rewrites. ``fires`` lists the items on which
the rule must report a failure in that variant; in the passing variant it must report
none. A test below fails when a shipped rule has no case here.
"""

from __future__ import annotations

import pytest

from hegui.engine.findings import STATUS_FAIL
from hegui.facts.model import Cell
from hegui.facts.read import read_filing
from hegui.facts.tables import build_filing
from hegui.facts.textdump import read_text_dump

FILLED_TOTAL = {21: "\t资金总额：939.28"}
# 附件3-1's first line says 15万元 where 5万元/个 × 5个 = 25万元 is meant.
FIXED_SLZZ = {297: "\t五个涉老组织经费25万元", 300: "\t五个涉老组织经费25万元：比照2022年预算（5万元/个*5个）"}

# rule id → (passing changes, failing changes, items that must fail in the failing variant)
CASES: dict[str, tuple[dict[int, str], dict[int, str], set[str]]] = {
    "QG-SUM-001": (FILLED_TOTAL, {21: "\t资金总额：900"}, {"石峰区委组织部"}),
    "QG-SUM-002": (FILLED_TOTAL, {**FILLED_TOTAL, 31: "\t356.00"}, {"石峰区委组织部"}),
    "QG-SUM-003": ({}, {31: "\t356.00"}, {"石峰区委组织部"}),
    "QG-SUM-004": ({}, {146: "\t580.00"}, {"专项资金预算绩效目标汇总表"}),
    "QG-SUM-005": ({}, {316: "\t71"}, {"老干部专项经费"}),
    "QG-SUM-006": ({}, {207: "\t72"}, {"老干部专项经费"}),
    "QG-SUM-007": (
        FIXED_SLZZ,
        {
            **FIXED_SLZZ,
            581: "\t党建工作经费（含机关工委）办公费3万元，会议费1万元，印刷费2万元，其他商品服务支出1.5万元",
        },
        {"党建工作专项经费"},
    ),
    "QG-CALC-001": (
        FIXED_SLZZ,
        {**FIXED_SLZZ, 441: "2、办公经费：9个村每个村5万元办公经费共40万元。"},
        {"9个村每个村5万元"},
    ),
    "QG-X-001": ({}, {37: "\t580.00"}, {"专项资金预算绩效目标汇总表"}),
    "QG-X-002": ({}, {37: "\t580.00"}, {"石峰区委组织部"}),
    "QG-X-003": (
        {337: "\t村级组织运转经费", 481: "\t业务性专项经费", 736: "\t驻村工作队队员待遇保障"},
        {},
        {"村级组织运转经费", "业务性专项经费", "驻村工作队队员待遇保障"},
    ),
    "QG-X-004": ({}, {158: "\t299.00"}, {"村级组织运转经费"}),
    "QG-X-005": ({}, {723: "\t附件3-6"}, {"驻村工作队队员待遇保障"}),
    "QG-X-006": ({}, {723: "\t附件3-6"}, {"驻村工作队员待遇保障"}),
    "QG-X-007": (
        {154: "\t抓好老干部工作两项待遇落实，指导全区18个离退休干部党支部党建工作、五老组织建设。"},
        {},
        {"离退休干部党支部"},
    ),
    "QG-IND-001": ({}, {268: "\t生态环境"}, {"老干部专项经费"}),
    "QG-IND-002": ({}, {113: "\t生态环境"}, {"石峰区委组织部"}),
    "QG-IND-003": ({532: "\t≤13.50万元"}, {}, {"总费用控制"}),
    "QG-IND-004": (FILLED_TOTAL, {**FILLED_TOTAL, 97: "\t≤950万元"}, {"总费用控制"}),
    "QG-IND-005": ({}, {235: "\t120%"}, {"老干部“两项待遇”（政治待遇和生活待遇）的落实比例"}),
    "QG-IND-006": ({}, {242: "\t2024年6月前"}, {"完成时间"}),
    "QG-REQ-001": (FILLED_TOTAL, {}, {"石峰区委组织部"}),
    "QG-REQ-002": ({}, {209: "\t"}, {"老干部专项经费"}),
    "QG-REQ-003": ({}, {146: "\t"}, {"专项资金预算绩效目标汇总表"}),
    # The posts covered are read from the line's own words (支出内容简介 and 支出明细).
    "HN-YLBX-001": (
        {452: "\t村主干养老保险补贴", 453: "\t村主干养老保险补贴"},
        {452: "\t村主干养老保险补贴", 453: "\t村主干养老保险补贴", 454: "\t2.0"},
        {"村主干养老保险补贴"},
    ),
    "HN-YLBX-003": (
        {},
        {455: "\t财政补贴标准为3600元/人/年，其余由区财政负责按1000元/人/年的标准予以补助。"},
        {"村主干（仅村书记）养老保险补贴"},
    ),
    "HN-YLBX-004": (
        {455: "\t其余由区财政负责按1000元/人/年的标准予以补助。"},
        {455: "\t其余由区财政负责按1500元/人/年的标准予以补助。"},
        {"村主干（仅村书记）养老保险补贴"},
    ),
    "ZZ-CJFW-002": (
        {},
        {433: "\t按照（株组〔2018〕32号）文件要求，9个村每个村2万元村级服务群众专项经费"},
        {"村级服务群众专项经费"},
    ),
    "ZZ-ZCDY-002": (
        {},
        {831: "\t预计下派工作队2支6人。按200元/人/月落实交通费，按600元/人/年落实人身意外伤害保险。"},
        {"驻村工作队员待遇保障"},
    ),
    "ZZ-ZCDY-003": (
        {},
        {831: "\t预计下派工作队2支6人。按2000元/人/月落实交通费，按300元/人/年落实人身意外伤害保险。"},
        {"驻村工作队员待遇保障"},
    ),
    "SF-LDYZ-001": ({}, {311: "\t8"}, {"离退休干部党工委工作经费"}),
    "ZZ-CJFW-001": ({}, {432: "\t30"}, {"村级服务群众专项经费"}),
    "ZZ-ZCDY-001": ({741: "\t30"}, {}, {"驻村工作队员待遇保障"}),
    "ZZ-DJPT-001": (
        {711: "\t在党群服务中心（站点）建设期按照不低于市级投入资金1：2的比例安排建设资金，市级投入资金90万元。"},
        {711: "\t在党群服务中心（站点）建设期按照不低于市级投入资金1：2的比例安排建设资金，市级投入资金100万元。"},
        {"拨付基层党建工作专项经费"},
    ),
    "SF-LRCG-001": ({}, {448: "\t90"}, {"离任村干部补贴"}),
    "QG-REF-001": ({}, {433: "\t按照（株组〔2018〕32号）文件要求，10个村每个村3万元村级服务群众专项经费"}, {"10个"}),
    "SF-LRCG-002": (
        {448: "\t49.68", 449: "\t离任村主干176名，补助300元/月，共100人；补助150元/月，共76人。"},
        {449: "\t离任村主干176名，补助300元/月，共100人；补助150元/月，共76人。"},
        {"离任村干部补贴"},
    ),
}


def _failing_items(findings, rule_id):
    return {f.item for f in findings if f.rule_id == rule_id and f.status == STATUS_FAIL}


@pytest.fixture(scope="module")
def findings_of(evaluator, mutate, tmp_path_factory):
    """The findings of the example with ``changes`` made, each distinct variant checked once.

    Many rules share a variant (the unchanged example, or one rewritten line that two rules
    both see): 76 cases are 41 distinct filings, and each test asserts on its own rule only.
    """
    folder = tmp_path_factory.mktemp("variants")
    seen: dict[tuple, list] = {}

    def _findings(changes: dict[int, str]) -> list:
        key = tuple(sorted(changes.items()))
        if key not in seen:
            path = folder / f"variant-{len(seen)}.txt"
            path.write_text(mutate(changes), encoding="utf-8")
            seen[key] = evaluator.check(read_filing(path)).findings
        return seen[key]

    return _findings


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes(rule_id, findings_of):
    passing, _, _ = CASES[rule_id]
    assert _failing_items(findings_of(passing), rule_id) == set()


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fails(rule_id, findings_of):
    _, failing, items = CASES[rule_id]
    assert _failing_items(findings_of(failing), rule_id) == items


def _with_formula_cell(example_path, line: int):
    """The example's grid with the cell of ``line`` turned into a formula whose result was never saved."""
    grid = read_text_dump(example_path)
    for row in grid.rows:
        for index, cell in enumerate(row.cells):
            if cell.source.line == line:
                row.cells[index] = Cell("", cell.source, problem="公式“=SUM(D30:D33)”没有保存计算结果")
                return grid
    raise AssertionError(line)


def test_unreadable_cell_rule(evaluator, example_path):
    clean = evaluator.check(build_filing(read_text_dump(example_path))).findings
    assert not [f for f in clean if f.rule_id == "QG-READ-001"]
    findings = evaluator.check(build_filing(_with_formula_cell(example_path, 207))).findings
    unreadable = [f for f in findings if f.rule_id == "QG-READ-001"]
    assert [(f.location.rsplit(":", 1)[1], f.table) for f in unreadable] == [("207", "附件3-1")]
    assert "SUM(D30:D33)" in unreadable[0].message
    # The amount is missing, never zero: the header rule reports it and no sum uses 0.
    assert ("QG-REQ-002", "老干部专项经费") in {(f.rule_id, f.item) for f in findings}


#: The reviewer-level packs (rules/national/quality.yaml, hygiene.yaml, coherence.yaml): their
#: pass and fail cases are data in the packs' *.cases.yaml, and what each reports on the example,
#: with the reasoning, is tested in tests/test_review_checks.py.
REVIEW_PACKS = ("QG-QLT-", "QG-HYG-", "QG-COH-")


def test_every_shipped_rule_has_cases(ruleset):
    # The 项目表 pack does not apply to the example (it has no such tables); its rules are tested
    # by their cases (rules/national/projects.cases.yaml) and tests/test_project_tables.py.
    shipped = [r.id for r in ruleset.rules if r.pack != "全国·项目表" and not r.id.startswith(REVIEW_PACKS)]
    assert sorted(shipped) == sorted([*CASES, "QG-READ-001"])
