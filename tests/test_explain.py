"""Explanations: derivation trees in budget terms, from clause to cell, and why-not."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.engine.explain import Explainer, render_text
from hegui.engine.select import SelectionError, select
from hegui.facts.read import read_filing
from hegui.reports import report_schema


@pytest.fixture(scope="module")
def explained(evaluator, example_path):
    return evaluator.check(read_filing(example_path), explain=True)


def _tree(result, rule_id):
    return next(f.explanation for f in result.findings if f.rule_id == rule_id)


def _tail(location):
    return location.rsplit(":", 1)[1]


def test_village_team_derivation(explained):
    tree = _tree(explained, "ZZ-ZCDY-001")
    assert tree["verdict"] == "fail"
    assert tree["rule"]["citation"]["quote"].startswith("按2000元/人/月落实交通费")
    assert tree["steps"] == [
        "2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元",
        "600元/人/年 × 6人 = 3600元 = 0.36万元",
        "14.40万元 + 0.36万元 + 15万元/年 = 29.76万元",
    ]
    assert tree["comparison"] == {
        "expression": "项目金额 ≥ 交通费标准 × 队员人数 × 12月/年 + 意外伤害保险标准 × 队员人数 + 后盾单位帮扶资金下限",
        "actual": "20.00万元",
        "op": "≥",
        "expected": "29.76万元",
        "holds": False,
        "statement": "20.00万元 ≥ 29.76万元：不成立",
    }
    inputs = {i["name"]: i for i in tree["inputs"]}
    assert (inputs["项目金额"]["value"], _tail(inputs["项目金额"]["location"]), inputs["项目金额"]["text"]) == (
        "20.00万元",
        "741",
        "20",
    )
    assert inputs["队员人数"]["value"] == "6人" and "6人" in inputs["队员人数"]["text"]
    assert _tail(inputs["队员人数"]["location"]) in {"761", "762", "831"}
    # The rates are the ones the filing states (its 测算说明), quoted from the filing.
    assert inputs["交通费标准"]["value"] == "2000元/人/月"
    assert "按2000元/人/月落实交通费" in inputs["交通费标准"]["text"]
    assert _tail(inputs["交通费标准"]["location"]) == "831"
    params = {p["name"]: p for p in tree["parameters"]}
    assert params["后盾单位帮扶资金下限"]["pack"] == "株洲市"


def test_sum_derivation_lists_each_part_with_its_line(evaluator, mutate, tmp_path):
    path = tmp_path / "sum.txt"
    path.write_text(mutate({146: "\t580.00"}), encoding="utf-8")
    result = evaluator.check(read_filing(path), explain=True)
    tree = _tree(result, "QG-SUM-004")
    parts = next(i for i in tree["inputs"] if i["name"] == "各行之和")["parts"]
    assert [(p["value"], _tail(p["location"])) for p in parts] == [
        ("70.00万元", "152"),
        ("299.40万元", "158"),
        ("13.50万元", "164"),
        ("180.00万元", "170"),
        ("20.00万元", "176"),
    ]
    assert tree["comparison"]["statement"] == "582.90万元 = 580.00万元：不成立"


def test_cross_table_derivation_shows_both_sides(explained):
    tree = next(
        f.explanation for f in explained.findings if f.rule_id == "QG-X-003" and f.item == "驻村工作队队员待遇保障"
    )
    sides = [(i["value"], _tail(i["location"])) for i in tree["inputs"]]
    assert sides == [("驻村工作队队员待遇保障", "175"), ("驻村工作队员待遇保障", "736")]


def _about(evaluator, result, item):
    explainer = Explainer(evaluator, result)
    return {t["rule"]["id"]: t for t in explainer.subject(select(result, item).entity)["rules"]}


def test_why_not_for_a_passing_line(evaluator, explained):
    trees = _about(evaluator, explained, "村级服务群众专项经费")
    tree = trees["ZZ-CJFW-001"]
    assert tree["verdict"] == "pass"
    # 每个村3万元 is the filing's own standard (line 433), so the check is internal consistency.
    assert tree["steps"] == ["3.00万元/村/年 × 9村 = 270000元 = 27.00万元"]
    assert tree["comparison"]["statement"] == "27.00万元 = 27.00万元：成立"
    assert trees["SF-LRCG-001"]["verdict"] == "not_applicable"
    assert "离任村干部" in trees["SF-LRCG-001"]["reason"]


def test_why_not_for_a_cannot_verify_line(evaluator, explained):
    tree = _about(evaluator, explained, "离任村干部补贴")["SF-LRCG-002"]
    assert tree["verdict"] == "cannot_verify"
    assert tree["missing"][0]["name"] == "各档补助合计"
    assert "费率" in tree["missing"][0]["looked"]
    passing = _about(evaluator, explained, "离任村干部补贴")["SF-LRCG-001"]
    assert passing["verdict"] == "pass"
    assert passing["comparison"]["statement"].endswith("成立")


def test_why_not_for_a_rule_outside_its_period(evaluator, mutate, tmp_path):
    path = tmp_path / "2020.txt"
    path.write_text(mutate({8: "\t2020年部门整体支出绩效目标表"}), encoding="utf-8")
    result = evaluator.check(read_filing(path), explain=True)
    assert result.filing.year == 2020
    # Comparing the stated rate with the policy needs the policy rate, which starts in 2021.
    tree = _about(evaluator, result, "附件3-5")["ZZ-ZCDY-002"]
    assert tree["verdict"] == "not_applicable"
    assert tree["reason"] == "参数“驻村交通费标准”在预算年度2020年没有有效取值（规则有效期外）"
    # The budget is still checked against the filing's own rates: they need no policy period.
    assert [f.rule_id for f in result.findings if f.rule_id == "ZZ-ZCDY-001"] == ["ZZ-ZCDY-001"]


def test_explanations_validate_against_the_report_schema(example_path):
    result = CliRunner().invoke(main, ["check", "--explain", "--format", "json", str(example_path)])
    document = json.loads(result.output)
    jsonschema.validate(document, report_schema())
    assert all("explanation" in f for f in document["filings"][0]["findings"])
    plain = json.loads(CliRunner().invoke(main, ["check", "--format", "json", str(example_path)]).output)
    assert not any("explanation" in f for f in plain["filings"][0]["findings"])


def test_why_command_selectors(example_path, explained):
    finding = next(f for f in explained.findings if f.rule_id == "ZZ-ZCDY-001")
    by_id = CliRunner().invoke(main, ["why", str(example_path), finding.id])
    assert by_id.exit_code == 0
    assert "计算：2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元" in by_id.output
    assert "结论：20.00万元 ≥ 29.76万元：不成立" in by_id.output
    by_line = CliRunner().invoke(main, ["why", str(example_path), "454", "--format", "json"])
    document = json.loads(by_line.output)
    assert document["subject"]["item"] == "村主干（仅村书记）养老保险补贴"
    for tree in document["explanations"]:
        jsonschema.validate(tree, report_schema()["$defs"]["explanation"] | {"$defs": report_schema()["$defs"]})
    by_table = CliRunner().invoke(main, ["why", str(example_path), "附件3-3"])
    assert "QG-IND-001" in by_table.output and "→ 合规" in by_table.output


def test_ambiguous_or_unknown_selector(example_path, explained):
    with pytest.raises(SelectionError, match="多个"):
        select(explained, "经费")
    result = CliRunner().invoke(main, ["why", str(example_path), "不存在的项目名称"])
    assert result.exit_code == 2 and "找不到" in result.output


def test_text_rendering_of_a_tree(explained):
    text = render_text(_tree(explained, "HN-YLBX-001"))
    # The filing writes no readable district rate (“1000月/人/年” is a typo), so the policy rate is used and said so.
    assert "申报未写明该标准，按政策参数：湘组〔2019〕55号 财政补贴标准" in text
    assert "计算：1000元/人/年 × 1人/村 × 9村 = 9000元 = 0.90万元" in text
