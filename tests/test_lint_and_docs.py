"""Rule-set lint and the rule documentation generated from the rules."""

from __future__ import annotations

from pathlib import Path

from hegui.engine.catalogue import describe_rule, render_rule_docs
from hegui.engine.lint import lint
from hegui.engine.rules import load_rules

REPO = Path(__file__).resolve().parent.parent

PACK = """pack: {name: 测试}
parameters:
  标准:
    unit: 元/人/年
    source: {document: 测试文件}
    values:
      - {value: 100, from: 2020, until: 2022}
      - {value: 120, from: 2022}
  另一标准:
    unit: 元/人/年
    values:
      - {value: 1, from: 2018, until: 2019}
      - {value: 2, from: 2021}
  比例:
    unit: "1"
    values: [{value: 2}]
rules:
  - id: T-A-001
    title: 甲
    severity: error
    source: {document: 测试文件, clause: 第一条}
    description: 因为
    fix: 改
    example: 例
    subject: 明细
    inputs: {金额: {amount: 金额}, 人数: {count: 人, scope: 本行}}
    check: 金额 ≤ 标准 × 人数
  - id: T-A-002
    title: 乙
    severity: error
    source: {document: 测试文件}
    subject: 明细
    inputs: {金额: {amount: 金额}, 人数: {count: 人, scope: 本行}}
    check: 金额 ≤ 标准 × 人数
"""


def test_lint_finds_each_kind_of_issue(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    issues = [f"{i.subject}：{i.message}" for i in lint(load_rules([path]))]
    assert issues == [  # sorted by file, line, subject, message
        "标准：有效期重叠：2020—2022年 与 2022—不限年",
        "另一标准：参数没有写依据（source）",
        "另一标准：参数没有被任何规则使用",
        "另一标准：有效期有空档：2020年至2020年没有取值",
        "比例：参数没有写依据（source）",
        "比例：参数没有被任何规则使用",
        "比例：参数没有量纲（单位“1”）：请确认不是漏写了“元/人/年”之类的单位",
        "T-A-002：政策依据没有写条款（source.clause）",
        "T-A-002：检查条件与 T-A-001 完全相同",
        "T-A-002：缺少不合规示例（example）",
        "T-A-002：缺少为什么检查（description）",
        "T-A-002：缺少如何改正（fix）",
    ]


def test_shipped_rules_lint_clean(ruleset):
    assert [str(i) for i in lint(ruleset)] == []


def test_rule_docs_are_generated_from_the_rules(ruleset):
    pages = render_rule_docs(ruleset)
    assert set(pages) == {f"{r.id}.md" for r in ruleset.rules} | {"index.md"}
    for name, text in pages.items():
        assert (REPO / "docs" / "rules" / name).read_text(encoding="utf-8") == text, (
            f"docs/rules/{name} is stale: run hegui rules doc"
        )


def test_every_rule_documents_the_same_fields(ruleset):
    for rule in ruleset.rules:
        text = describe_rule(rule)
        for label in ("检查什么：", "为什么：", "政策依据：", "不合规示例：", "如何改正："):
            assert label in text and f"{label}（未写明）" not in text, (rule.id, label)


def test_a_district_override_of_a_used_parameter_is_not_unused(tmp_path):
    # A district pack redefining 标准 overrides the city's value for its filings (nearest
    # jurisdiction wins), so it is used although no rule of its own names it; a parameter no
    # rule anywhere reads is still reported.
    (tmp_path / "city.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "district.yaml").write_text(
        """pack: {name: 区}
parameters:
  标准:
    unit: 元/人/年
    source: {document: 区文件}
    values: [{value: 90, from: 2020}]
  区里没人用:
    unit: 元/人/年
    source: {document: 区文件}
    values: [{value: 1, from: 2020}]
rules:
  - id: T-B-001
    title: 丙
    severity: error
    source: {document: 区文件, clause: 第一条}
    description: 因为
    fix: 改
    example: 例
    subject: 明细
    check: {required: [金额]}
""",
        encoding="utf-8",
    )
    messages = [str(i) for i in lint(load_rules([tmp_path]))]
    assert not [m for m in messages if "district.yaml" in m and "标准：参数没有被任何规则使用" in m]
    assert [m for m in messages if "district.yaml" in m and "区里没人用：参数没有被任何规则使用" in m]
