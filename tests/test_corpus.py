"""The eight published tables of tests/fixtures/corpus, read from the files as they were copied.

Each file's expected findings are worked out from the table itself (the arithmetic is beside
each entry): what holds is checked to have been evaluated without a finding, what fails is a
finding, and what the copy cut off or lost is "cannot verify" naming the missing part. The same
tables transcribed by hand are tested in tests/test_project_tables.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.facts.read import read_filing

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"

# file → (tables, findings as (rule, status, table), checks that held as (rule, entity))
EXPECTED: dict[str, tuple[list[str], list[tuple[str, str, str]], set[tuple[str, str]]]] = {
    # 自评表, complete. 年初 238.93 = 238.93 + 0.00 + 0.00 + 空白; 调整后 251.89 = 251.89 + 0 + 0;
    # 执行 251.89 = 251.89 + 0 + 0; 执行率 251.89 ÷ 251.89 = 100.00% (总额, 财政资金), 0 ÷ 0 写 0.00%
    # (财政专户, 单位资金: 0 × … ≤ 0 ≤ 0 × …); 其他资金 blank: not checked.
    # 权重 60 + 30 = 90 = 绩效指标(90分); 90 + 预算执行 10 = 100 = 合计 100. 得分 all blank.
    # 数量指标 "发放(缴纳)覆盖率 = 100%" is a ratio by its name: no QG-QLT-007.
    "03_qingshen_fagai_gongzi_ziping_pipe.txt": (
        ["表1"],
        [],
        {
            ("QG-EXE-001", "表1/资金1"),
            ("QG-EXE-002", "表1/资金1"),
            ("QG-EXE-003", "表1/资金1"),
            ("QG-EXE-010", "表1/资金1"),
            ("QG-EXE-010", "表1/资金2"),
            ("QG-EXE-010", "表1/资金3"),
            ("QG-EXE-010", "表1/资金4"),
            ("QG-PTS-003", "表1"),
            ("QG-PTS-004", "表1"),
        },
    ),
    # 申报表 after a notice, cut off in the indicators. 年度资金总额 500 = 财政拨款 500 + 其他资金 空白.
    # The template has no weights: nothing else needs the cut-off part.
    "07_qingjian_jiaotong_guoyuanlu_pipe.txt": (["附表1"], [], {("QG-PRJ-001", "附表1/资金1")}),
    # Starts inside one 自评表 (表1), cut off inside the next (表2).
    # 表1: 权重 90 = 绩效指标(90分); 得分 90 ≤ 90; 合计 100 = 90 + 预算执行? — not in the copy.
    # 表2: 年初 0.00 = 0 + 0 + 0; 调整后 3.36 = 3.36 + 0 + 0; 执行 3.36 同; 3.36 ÷ 3.36 = 100.00%;
    #      预算执行得分 10 ≤ 分值 10; the indicators stop after one row: their weights cannot be summed.
    "08_daying_sifa_ziping_markdown.txt": (
        ["表1", "表2"],
        [("QG-PTS-003", "cannot_verify", "表2"), ("QG-PTS-004", "cannot_verify", "表1")],
        {
            ("QG-PTS-001", "表1/指标1"),
            ("QG-PTS-003", "表1"),
            ("QG-PTS-002", "表2"),
            ("QG-EXE-001", "表2/资金1"),
            ("QG-EXE-002", "表2/资金1"),
            ("QG-EXE-003", "表2/资金1"),
            ("QG-EXE-010", "表2/资金1"),
            ("QG-EXE-010", "表2/资金2"),
        },
    ),
    # Two 目标表 in flattened PDF text. 表1: 项目总投资 20万元 = 中央 0 + 省级 0 + 其他资金 20万元.
    # 表2 stops at "项目总投资174.78万元中央补": its split cannot be verified.
    # Reviewer checks on 表1: 政策依据 is the bare 文号 "甘财科[2022]78号" with no title; four
    # indicators carry no quantified value, only slogan text run into the name ("…绿化水平提升",
    # "…影响长远", "…增加岗位").
    "09_jiayuguan_bowuguan_shengji.txt": (
        ["表1", "表2"],
        [
            ("QG-PRJ-001", "cannot_verify", "表2"),
            ("QG-HYG-007", "fail", "表1"),  # 文号 with no title
            ("QG-QLT-014", "fail", "表1"),  # 对当地文物保护、文化传承影响长远: no value
            ("QG-QLT-014", "fail", "表1"),  # 为当地提供就业…增加岗位: no value
            ("QG-QLT-014", "fail", "表1"),  # 历史文化传承环保意识时限长远: no value
            ("QG-QLT-014", "fail", "表1"),  # 提升博物馆绿化水平提升: slogan, no value
        ],
        {("QG-PRJ-001", "表1/资金1")},
    ),
    # 自评表 copied from a PDF, one visual row per line. 880 = 880 + "-" + "-" in every column.
    # The copy lost blank cells: "880 880 880 10 10" under six headings puts "10" under 执行率
    # (no %, not read as a rate: cannot verify) and nothing under the budget line's 得分 (the
    # score total cannot be verified). The indicator rows, put back under their columns by the
    # reader: 分值 9 × 10 = 90, + 预算执行 10 = 100 = 总分 100 holds; every 得分 10 ≤ 分值 10.
    # Reviewer checks: the template's "指标1:" numbering is left in every filled indicator name
    # (10 rows; "指标1:/" is the 生态效益 row marked not applicable, so it has no value to miss), and
    # six rows state 分值/得分 but no 年度指标值 ("指标1:工程质量合格 10 10").
    "12_tianchang_shuili_fangxun_ziping_indented.txt": (
        ["表1"],
        [("QG-EXE-010", "cannot_verify", "表1"), ("QG-PTS-006", "cannot_verify", "表1")]
        + [("QG-HYG-005", "fail", "表1")] * 10  # placeholder "指标1:" left in the 三级指标
        + [("QG-QLT-014", "fail", "表1")] * 6,  # 质量/时效/成本/经济/社会/可持续: no 年度指标值
        {
            ("QG-EXE-001", "表1/资金1"),
            ("QG-EXE-002", "表1/资金1"),
            ("QG-EXE-003", "表1/资金1"),
            ("QG-PTS-004", "表1"),
            ("QG-PTS-001", "表1/指标1"),
            ("QG-PTS-001", "表1/指标9"),
        },
    ),
    # 分配明细表 (a paragraph per cell): 15 + 35 = 50 = 合计. 目标表: 当年度金额 50万元 ≤ 总金额 50万元;
    # cut off in the indicators, which carry no weights.
    "14_zhaoqing_fucai_zhulao_yiyang.txt": (["表1", "表2"], [], {("QG-ALC-001", "表1"), ("QG-PRJ-003", "表2")}),
    # Several projects in one table, in 元. 3,309,840.00 + 660,000.00 = 3,969,840.00 of the department's
    # 8,827,620.53: the list is cut off, so the total cannot be verified. 村组干部报酬's weights
    # 10+20+10+10+10+10+10+10 = 90; the table states no weight total, so there is nothing to compare.
    # Reviewer checks: slogan names with "≥95%" (维护社会稳定, 促进村集体经济发展, 保护生态环境卫生,
    # 项目维持时效; 促进农村集体经济发展, 经济、环境等方面可持续发展, 保障村社区正常运转 — seven rows) are
    # not ratios; 质量指标 "按时发放 ≥1人/年" is a count per year, not a quality measure.
    "15_jingyan_mata_cunzu_ganbu_markdown.txt": (
        ["表1"],
        [("QG-LST-001", "cannot_verify", "表1")]
        + [("QG-QLT-003", "fail", "表1-1")] * 4  # 维护社会稳定 / 促进村集体经济发展 / 保护生态环境卫生 / 项目维持时效
        + [("QG-QLT-003", "fail", "表1-2")]
        * 3  # 促进农村集体经济发展 / 经济、环境等方面可持续发展 / 保障村社区正常运转
        + [("QG-QLT-008", "fail", "表1-1")],  # 质量指标 in 人/年
        set(),
    ),
    # 资金安排表 (元): 7,548,150 = 7,074,550 + 473,600; 7,074,550 = 6,728,925 + 345,625;
    # 473,600 = 414,400 + 59,200. 目标表 (万元): 年度金额 and its parts all blank: nothing to check.
    # Reviewer check: two 数量指标 named "…应受助学生数" (a head count) state "100%" and no number
    # of students; the 覆盖率-type names elsewhere are ratios and pass.
    "19_lechang_zhongzhi_zhuxuejin_pipe_trad.txt": (
        ["附件1", "附件2"],
        [("QG-QLT-007", "fail", "附件2")] * 2,
        {("QG-PRJ-001", "附件1/资金1"), ("QG-PRJ-001", "附件1/资金2"), ("QG-PRJ-001", "附件1/资金5")},
    ),
}


def test_every_corpus_file_has_expectations():
    assert sorted(p.name for p in CORPUS.glob("*.txt")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def checked(evaluator):
    cache = {}

    def get(name):
        if name not in cache:
            filing = read_filing(CORPUS / name)
            cache[name] = (filing, evaluator.check(filing, explain=True))
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_findings(checked, name):
    tables, findings, held = EXPECTED[name]
    filing, result = checked(name)
    assert [t.label for t in filing.others] == tables
    assert sorted((f.rule_id, f.status, f.table) for f in result.findings) == sorted(findings)
    evaluated = {(row[0], str(row[1])) for row in result.evaluations}
    assert held <= evaluated, held - evaluated
    for finding in result.findings:
        assert finding.status == "fail" or "缺少" in finding.message
        assert finding.location.startswith(str(CORPUS / name)), finding.location


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_facts_command_shows_each_table(name):
    result = CliRunner().invoke(main, ["facts", str(CORPUS / name)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for label in EXPECTED[name][0]:
        assert f"【{label}】" in result.output, label


def test_cut_off_parts_are_named(checked):
    _, result = checked("08_daying_sifa_ziping_markdown.txt")
    messages = {f.table: f.message for f in result.findings}
    assert "文件从表格中间开始" in messages["表1"] and "预算执行情况" in messages["表1"]
    assert "截断" in messages["表2"] and "绩效指标" in messages["表2"]
    _, result = checked("15_jingyan_mata_cunzu_ganbu_markdown.txt")
    assert "其余项目" in result.findings[0].message
    _, result = checked("12_tianchang_shuili_fangxun_ziping_indented.txt")
    rate = next(f for f in result.findings if f.rule_id == "QG-EXE-010")
    assert "写的是“10”" in rate.message


def test_amounts_keep_each_tables_unit(checked):
    from decimal import Decimal

    filing, _ = checked("19_lechang_zhongzhi_zhuxuejin_pipe_trad.txt")
    allocation, target = filing.others
    assert (allocation.unit, target.unit) == ("元", "万元")
    assert allocation.grouped[0].values["金额"].money.yuan == Decimal(7548150)
    filing, _ = checked("15_jingyan_mata_cunzu_ganbu_markdown.txt")
    assert filing.others[0].total.money.yuan == Decimal("8827620.53")
