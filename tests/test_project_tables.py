"""项目支出 target tables, self-evaluations, allocation tables and project lists, by structure.

The corpus tables are used as transcribed rows (tests/corpus_rows.py) until the readers read the
files; the expected findings are worked out from each table, with the arithmetic beside them.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the helper modules beside this test

from corpus_rows import (
    DAYING_08,
    JIAYUGUAN_09,
    JINGYAN_15,
    LECHANG_19,
    QINGJIAN_07,
    QINGSHEN_03,
    TIANCHANG_12,
    ZHAOQING_14,
)
from gridrows import grid_of

from hegui.facts.errors import InputError
from hegui.facts.model import AllocationTable, ProjectList, ProjectTable
from hegui.facts.tables import build_filing
from hegui.facts.vocabulary import filing_facts

CASES = Path(__file__).resolve().parent.parent / "rules" / "national" / "cases"


def outcomes(evaluator, rows):
    result = evaluator.check(build_filing(grid_of(rows)), explain=True)
    found = sorted((f.rule_id, f.status, f.item) for f in result.findings)
    evaluated = {row[0] for row in result.evaluations}
    return found, evaluated, result.findings


def test_03_self_evaluation_read_by_structure():
    filing = build_filing(grid_of(QINGSHEN_03))
    (table,) = filing.others
    assert isinstance(table, ProjectTable) and table.evaluation and table.missing == []
    assert filing.year == 2023 and filing.department == "青神县发展和改革局本级"
    total = table.funds
    assert total.label == "总额" and total.values["年初预算数"].money.yuan == Decimal("2389300.00")
    assert [p.label for p in total.parts] == ["财政资金", "财政专户管理资金", "单位资金", "其他资金"]
    assert total.parts[-1].values["年初预算数"].text == ""  # blank, not zero
    assert [(i.level3.stripped, i.value.stripped, i.weight.text) for i in table.indicators] == [
        ("发放(缴纳)覆盖率", "100%", "60"),
        ("足额保障率(参保率)", "100%", "30"),
    ]
    assert (table.indicator_points.text, table.budget_points.text, table.total_points.text) == ("90", "10", "100")


def test_03_every_identity_holds(evaluator):
    # 年初 238.93 = 238.93 + 0.00 + 0.00 + 空白; 调整后 251.89 = 251.89 + 0 + 0; 执行 251.89 同;
    # 执行率 251.89 ÷ 251.89 = 100.00% (总额、财政资金); 0 ÷ 0 写 0.00%;
    # 权重 60 + 30 = 90 = 绩效指标(90分); 90 + 预算执行 10 = 100 = 合计 100. 得分都空白: 不检查.
    found, evaluated, _ = outcomes(evaluator, QINGSHEN_03)
    assert found == []
    assert {"QG-EXE-001", "QG-EXE-002", "QG-EXE-003", "QG-EXE-010", "QG-PTS-003", "QG-PTS-004"} <= evaluated


def test_03_facts_carry_rate_tolerance_and_sources():
    facts = filing_facts(build_filing(grid_of(QINGSHEN_03)))
    rates = {(f[1], f[2]): f[3] for f in facts.facts if f[0] == "number" and f[2].startswith("执行率")}
    assert rates[("表1/资金1", "执行率")] == Decimal("100.00")
    assert rates[("表1/资金1", "执行率容差")] == Decimal("0.005")
    assert str(facts.provenance.source("表1/资金1", "年初预算数")) == "表.txt:第9行第2格"


def test_08_starts_mid_table_and_is_cut_off(evaluator):
    filing = build_filing(grid_of(DAYING_08))
    first, second = filing.others
    assert first.missing == ["项目名称", "预算执行情况"]
    assert second.missing and second.cut_after is not None
    # 表1: 权重 90 = 绩效指标(90分) holds; 得分 90 ≤ 分值 90 holds; 合计 100 = 90 + 预算执行? —
    #      the 预算执行 part is before the copy starts: cannot verify.
    # 表2: 年初 0.00 = 0 + 0 + 0; 调整后 3.36 = 3.36 + 0 + 0; 执行 3.36 同; 3.36 ÷ 3.36 = 100.00%;
    #      预算执行得分 10 ≤ 10; 指标 cut off after the first row: their sum cannot be verified.
    found, evaluated, findings = outcomes(evaluator, DAYING_08)
    assert found == [
        ("QG-PTS-003", "cannot_verify", "51092324T000010263357-2023年全县安可替代补助资金项目"),
        ("QG-PTS-004", "cannot_verify", "表1"),
    ]
    assert {"QG-PTS-001", "QG-PTS-002", "QG-EXE-002", "QG-EXE-010"} <= evaluated
    messages = {f.rule_id: f.message for f in findings}
    assert "预算执行情况" in messages["QG-PTS-004"] and "截断" in messages["QG-PTS-003"]


def test_12_lost_cells_are_cannot_verify_not_fail(evaluator):
    # 分值 20×… : 9 indicators × 10 = 90, + 预算执行 10 = 100 = 总分 100 holds.
    # The copy puts "10" under 执行率 (no %): not read as a rate → cannot verify; the 得分 of the
    # budget line is lost → the score total cannot be verified. 880 = 880 (+ "-" + "-") holds.
    found, evaluated, _ = outcomes(evaluator, TIANCHANG_12)
    names = [
        "指标1:保护全市人口财产不受损失",
        "指标1:全市安全度汛",
        "指标1:工程质量合格",
        "指标1:已建工程良性运行",
        "指标1:年度资金支付完成率100%",
        "指标1:资金执行在预算范围内",
    ]
    assert found == sorted(
        [
            ("QG-EXE-010", "cannot_verify", "年度资金总额"),
            ("QG-PTS-006", "cannot_verify", "水旱灾害防御经费"),
        ]
        # The template's row numbers are left in every filled 三级指标 (and in the "/" row).
        + [
            ("QG-HYG-005", "fail", n)
            for n in [
                *names,
                "指标1:/",
                "指标1:完成中型灌区节水改造项目数量",
                "指标1:服务对象满意度",
                "指标2:完成农业综合水价改革项目",
            ]
        ]
        # These rows give 分值 and 得分 only: no 年度指标值. "指标1:/" is marked not applicable.
        + [("QG-QLT-014", "fail", n) for n in names]
    )
    assert {"QG-PTS-004", "QG-PTS-001", "QG-EXE-001"} <= evaluated


def test_14_allocation_and_target_table(evaluator):
    filing = build_filing(grid_of(ZHAOQING_14))
    allocation, target = filing.others
    assert isinstance(allocation, AllocationTable)
    assert [line.amounts["金额"].money.yuan for line in allocation.lines] == [Decimal(150000), Decimal(350000)]
    assert target.period.text == "2024-2024" and target.annual_amount.money.yuan == Decimal(500000)
    # 15 + 35 = 50 = 合计 50; 当年度金额 50万元 ≤ 总金额 50万元.
    found, evaluated, _ = outcomes(evaluator, ZHAOQING_14)
    assert found == [] and {"QG-ALC-001", "QG-PRJ-003"} <= evaluated


def test_15_project_list_in_yuan_cut_off(evaluator):
    filing = build_filing(grid_of(JINGYAN_15))
    (listing,) = filing.others
    assert isinstance(listing, ProjectList) and listing.unit == "元"
    assert listing.total.money.yuan == Decimal("8827620.53")
    first, second = listing.projects
    assert (first.name.text, first.funds.values["金额"].money.yuan) == ("村组干部报酬", Decimal("3309840.00"))
    # 村组干部报酬: 10+20+10+10+10+10+10+10 = 90; the table states no weight total, so nothing to check.
    assert sum(Decimal(i.weight.text) for i in first.indicators) == 90
    assert second.name.text == "基层组织活动经费" and len(second.indicators) == 5
    # 3,309,840.00 + 660,000.00 = 3,969,840.00 of 8,827,620.53: the rest of the list was cut off.
    found, _, findings = outcomes(evaluator, JINGYAN_15)
    assert found == sorted(
        [("QG-LST-001", "cannot_verify", "部门预算项目绩效目标申报表(2023年度)")]
        # Slogans, not ratios, given "≥95%".
        + [
            ("QG-QLT-003", "fail", n)
            for n in (
                "促进农村集体经济发展",
                "促进村集体经济发展",
                "保护生态环境卫生",
                "保障村社区正常运转",
                "经济、环境等方面可持续发展",
                "维护社会稳定",
                "项目维持时效",
            )
        ]
        + [("QG-QLT-008", "fail", "按时发放")]  # 质量指标 "≥1人/年" is a count, not a quality
    )
    cut = next(f for f in findings if f.rule_id == "QG-LST-001")
    assert "截断" in cut.message


def test_07_target_table_after_a_notice(evaluator):
    filing = build_filing(grid_of(QINGJIAN_07))
    (table,) = filing.others
    assert table.label == "附表1" and not table.evaluation
    assert [p.label for p in table.funds.parts] == ["财政拨款", "其他资金"]
    # 年度资金总额 500 = 财政拨款 500 + 其他资金 空白.
    levels = [(i.level1.stripped, i.level2.stripped, i.level3.stripped) for i in table.indicators]
    assert levels[1] == ("产出指标", "数量指标", "呼家河至鲍家沟新建水泥路1条")
    assert levels[-1][:2] == ("效益指标", "经济效益")
    found, evaluated, _ = outcomes(evaluator, QINGJIAN_07)
    assert found == [] and "QG-PRJ-001" in evaluated


def test_no_table_at_all_says_what_was_seen():
    with pytest.raises(InputError, match="找到1个表格，均不是绩效目标表") as caught:
        build_filing(grid_of([["通知"], ["部门名称", "某部门"]], path="信.txt"))
    assert "信.txt" in str(caught.value) and "部门名称" in str(caught.value)
    with pytest.raises(InputError, match="文件中没有表格"):
        build_filing(grid_of([["只是一段文字。"]]))


def test_case_dumps_are_what_the_generator_writes():
    from make_case_dumps import FILINGS, dump

    for name, rows in FILINGS.items():
        assert (CASES / name).read_text(encoding="utf-8") == dump(rows), name


# --- the 一体化 export with units on its labels -------------------------------------------------


@pytest.fixture(scope="module")
def make_xlsx():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_xlsx", Path(__file__).resolve().parent / "make_xlsx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_xlsx"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _keys(findings):
    return sorted((f.rule_id, f.status, f.table, f.item, f.expected, f.actual) for f in findings)


def test_export_with_unit_labels_gives_the_word_form_findings(evaluator, example_path, make_xlsx, tmp_path):
    from hegui.facts.read import read_filing

    path = make_xlsx.write_export_xlsx(tmp_path / "一体化.xlsx", unit_labels=True)
    import openpyxl

    labels = {c.value for ws in openpyxl.load_workbook(path).worksheets for row in ws.iter_rows() for c in row}
    assert {"资金总额（万元）", "项目金额（万元）", "金额（万元）", "指标性质", "度量单位"} <= labels
    assert not any(isinstance(v, str) and v.startswith("金额单位") for v in labels)
    exported = evaluator.check(read_filing(path)).findings
    word_form = evaluator.check(read_filing(example_path)).findings
    assert _keys(exported) == _keys(word_form)
    # The labels with （万元） are read: no false 项目金额未填写, and the real findings are there.
    assert not [f for f in exported if f.rule_id == "QG-REQ-002"]
    assert {("QG-REQ-001", "fail"), ("ZZ-ZCDY-001", "fail"), ("QG-IND-003", "fail")} <= {
        (f.rule_id, f.status) for f in exported
    }


def test_label_in_yuan_is_read_in_yuan():
    from hegui.facts.tables import label_unit, norm

    assert norm("项目金额（万元）") == "项目金额" and label_unit("项目金额（万元）") == "万元"
    assert norm("其中：资金总额(元)：") == "资金总额" and label_unit("资金总额(元)：") == "元"
    assert norm("（万元）") == "（万元）"  # a unit note on its own stays what it is


def test_amount_label_in_yuan_takes_its_unit(mutate, tmp_path):
    from hegui.facts.read import read_filing

    path = tmp_path / "元.txt"
    path.write_text(mutate({206: "\t项目金额（元）", 207: "\t700000"}), encoding="utf-8")
    direction = read_filing(path).directions[0]
    # 700000 元 = 70 万元, as the form says in 万元: the label's unit wins over the table's.
    assert direction.amount.money.yuan == Decimal(700000) and direction.amount.money.written_unit == "元"


def test_09_cost_as_level_one_and_second_table_cut_in_its_funds(evaluator):
    filing = build_filing(grid_of(JIAYUGUAN_09))
    first, second = filing.others
    assert first.name.text == "博物馆纪念馆市级免费开放补助资金"
    levels = {(i.level1.stripped, i.level2.stripped) for i in first.indicators}
    # 财预〔2021〕101号: 成本指标 over 经济/社会/生态环境成本指标.
    assert {("成本指标", "经济成本指标"), ("成本指标", "社会成本指标"), ("成本指标", "生态环境成本指标")} <= levels
    funds = first.funds
    assert [(p.label, p.values["金额"].text) for p in funds.parts] == [
        ("中央", "0"),
        ("省级", "0"),
        ("其他资金", "20万元"),
    ]
    # 表1: 项目总投资 20万元 = 中央 0 + 省级 0 + 其他 20万元 holds.
    # 表2: 项目总投资 174.78万元, then the copy stops at "中央补": its split cannot be verified.
    found, evaluated, findings = outcomes(evaluator, JIAYUGUAN_09)
    assert found == [
        ("QG-HYG-007", "fail", "博物馆纪念馆市级免费开放补助资金"),  # 政策依据: 文号 only, no title
        ("QG-PRJ-001", "cannot_verify", "资金总额"),
        ("QG-QLT-001", "fail", "提升博物馆绿化水平"),  # value "提升": a slogan
        ("QG-QLT-002", "fail", "为当地提供就业LJUI,冈位"),  # "增加岗位": no number
        ("QG-QLT-002", "fail", "历史文化传承环保意识"),  # "时限长远"
        ("QG-QLT-002", "fail", "对当地文物保护、文化传承影响"),  # "长远"
    ]
    # "及时率 =99百分比" is a percentage in words: no unit finding.
    cut = next(f for f in findings if f.rule_id == "QG-PRJ-001")
    assert cut.table == second.label and "资金来源分项" in cut.message
    assert "QG-PRJ-001" in evaluated


def test_19_column_groups_add_up(evaluator):
    # 7,548,150 = 7,074,550 + 473,600; 7,074,550 = 6,728,925 + 345,625; 473,600 = 414,400 + 59,200.
    filing = build_filing(grid_of(LECHANG_19))
    allocation, target = filing.others
    (school,) = allocation.grouped
    assert school.values["金额"].money.yuan == Decimal(7548150) and allocation.unit == "元"
    assert [(g.label, [p.label for p in g.parts]) for g in school.parts] == [
        ("免学费补助", ["提前下达", "本次下达"]),
        ("国家助学金", ["提前下达", "本次下达"]),
    ]
    assert not target.evaluation  # 实际完成值 without 得分 is still a target table
    found, _, _ = outcomes(evaluator, LECHANG_19)
    # Every sum holds; 年度金额 and its parts are all blank: nothing to check. Two head counts
    # ("…应受助学生数") are given as "100%" with no number of students.
    counts_as_percent = [
        ("QG-QLT-007", "fail", "中等职业学校国家助学金应受助学生数"),
        ("QG-QLT-007", "fail", "中职免学费应受助学生数"),
    ]
    assert found == counts_as_percent
    wrong = [list(row) for row in LECHANG_19]
    wrong[5][4] = "354,625"  # 本次下达 typed 354,625: 6,728,925 + 354,625 = 7,083,550 ≠ 7,074,550
    found, _, findings = outcomes(evaluator, wrong)
    assert found == sorted([("QG-PRJ-001", "fail", "免学费补助"), *counts_as_percent])
    assert "7083550" in next(f for f in findings if f.rule_id == "QG-PRJ-001").message.replace(",", "").replace(
        ".00", ""
    )


# --- the command line ----------------------------------------------------------------------------


def _cli(*args: str):
    from click.testing import CliRunner

    from hegui.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_facts_command_shows_the_new_tables():
    result = _cli("facts", str(CASES / "自评表_全年预算写法.txt"))
    assert result.exit_code == 0, result.output
    for shown in ("【表1】", "项目表 水旱灾害防御经费", "执行行 年度资金总额", "执行率：98.86", "“98.86%”", "分值：20"):
        assert shown in result.output, shown


def test_check_command_on_a_self_evaluation(tmp_path):
    result = _cli("check", "--format", "json", str(CASES / "自评表_勾稽错误.txt"))
    assert result.exit_code == 1
    import json

    findings = json.loads(result.output)["filings"][0]["findings"]
    assert {f["rule_id"] for f in findings} == {
        "QG-EXE-001",
        "QG-EXE-005",
        "QG-EXE-010",
        "QG-PTS-001",
        "QG-PTS-002",
        "QG-PTS-003",
        "QG-PTS-004",
        "QG-PTS-006",
    }
    clean = _cli("check", str(CASES / "自评表_勾稽无误.txt"))
    assert clean.exit_code == 0, clean.output


def test_a_file_without_tables_is_refused_by_name(tmp_path):
    path = tmp_path / "通知.txt"
    path.write_text("\t关于下达资金的通知\n\n\t部门名称\t某部门\n", encoding="utf-8")
    result = _cli("check", str(path))
    assert result.exit_code == 2
    assert str(path) in result.output and "未识别到预算绩效目标表" in result.output


def test_separate_long_term_and_annual_indicator_blocks():
    rows = [
        ["项目支出绩效目标表"],
        ["项目名称", "农村公路建设"],
        ["资金情况", "年度资金总额:", "500"],
        ["长期绩效指标"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "三年新建公路里程", "≥12公里"],
        ["年度绩效指标"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "当年新建公路里程", "≥4公里"],
        ["满意度指标", "服务对象满意度指标", "群众满意度", "≥90%"],
        ["填表人:赵六"],
    ]
    (table,) = build_filing(grid_of(rows)).others
    assert [(i.block, i.level3.stripped, i.value.stripped) for i in table.indicators] == [
        ("长期", "三年新建公路里程", "≥12公里"),
        ("年度", "当年新建公路里程", "≥4公里"),
        ("年度", "群众满意度", "≥90%"),
    ]
    facts = filing_facts(build_filing(grid_of(rows)))
    assert ("text", "表1/指标1", "指标块", "长期") in facts.facts
    assert table.missing == []


def test_project_table_filed_with_the_attachments(evaluator, example_path, example_text, tmp_path):
    from make_case_dumps import FILINGS, dump

    from hegui.facts.read import read_filing

    path = tmp_path / "附件4.txt"
    path.write_text(example_text + "\n\t附件4\n\n" + dump(FILINGS["目标表_勾稽错误.txt"]), encoding="utf-8")
    filing = read_filing(path)
    assert [t.label for t in filing.others] == ["附件4"]
    findings = evaluator.check(filing).findings
    # 财政拨款 450 ≠ 300 + 100 + 40; 资金总额 500 ≠ 450 + 40; 权重 40 + 40 + 10 = 90 ≠ 100.
    assert sorted((f.rule_id, f.item) for f in findings if f.table == "附件4") == [
        ("QG-PRJ-001", "财政拨款"),
        ("QG-PRJ-001", "资金总额"),
        ("QG-PTS-005", "农村公路建设"),
        ("QG-QLT-002", "群众出行条件改善"),  # "明显改善": no number and not a graded value
    ]
    # 附件1-3 give exactly the example's findings.
    example = evaluator.check(read_filing(example_path)).findings
    key = lambda f: (f.rule_id, f.status, f.table, f.item, f.message)  # noqa: E731
    assert [key(f) for f in findings if f.table != "附件4"] == [key(f) for f in example]


def test_rows_that_lost_their_blank_cells_are_not_guessed(evaluator):
    # As a PDF copy gives them without column positions: "质量指标 指标1:工程质量合格 10 10" does
    # not say whether 10 and 10 are 指标值/完成值 or 分值/得分.
    rows = [list(row) for row in TIANCHANG_12]
    quality = next(i for i, row in enumerate(rows) if "工程质量合格" in "".join(row))
    rows[quality] = ["质量指标", "指标1:工程质量合格", "10", "10"]
    filing = build_filing(grid_of(rows))
    indicator = next(i for i in filing.others[0].indicators if "工程质量合格" in i.level3.text)
    assert indicator.weight.cell.problem and indicator.score.cell.problem
    found, _, findings = outcomes(evaluator, rows)
    assert ("QG-PTS-004", "cannot_verify", "水旱灾害防御经费") in found
    message = next(f.message for f in findings if f.rule_id == "QG-PTS-004")
    assert f"第{quality + 1}行第1格复制时丢失了空白单元格" in message
