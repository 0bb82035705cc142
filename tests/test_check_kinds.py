"""Check kinds and input kinds: each documents itself, the engine dispatches on the class,
and a new kind is one class (registered here in a test and run end to end)."""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

import hegui
from hegui.engine.cases import inline_filing_from_text
from hegui.engine.catalogue import describe_rule
from hegui.engine.checks import (
    AgreeCheck,
    CheckKind,
    CheckSection,
    CompareCheck,
    ForbidTextCheck,
    ObservedCheck,
    ReadableCheck,
    RequiredCheck,
    RequiredChildrenCheck,
    WitnessSlot,
    check_kinds,
    register_check_kind,
    unregister_check_kind,
)
from hegui.engine.checks.inputs import BUDGET, INPUT_KINDS
from hegui.engine.evaluate import Evaluator
from hegui.engine.explain import Explainer, render_text
from hegui.engine.lint import lint
from hegui.engine.rules import RuleLoadError, load_rules

ENGINE = Path(hegui.__file__).parent / "engine"


# --- every kind documents itself -----------------------------------------------------------------


def test_the_built_in_kinds_are_registered_in_the_order_their_keys_are_tried():
    assert check_kinds() == (
        CompareCheck,
        RequiredCheck,
        AgreeCheck,
        ForbidTextCheck,
        ReadableCheck,
        RequiredChildrenCheck,
        ObservedCheck,
    )


@pytest.mark.parametrize("kind", check_kinds(), ids=lambda k: k.__name__)
def test_each_kind_says_what_it_checks_and_the_yaml_it_takes(kind: type[CheckKind]):
    doc = inspect.getdoc(kind) or ""
    # A sentence of what it checks, then the YAML: the keyword (or, for the expression kind, a
    # bare ``check:`` text) must appear in a YAML example of the docstring.
    assert len(doc.split("\n\n")[0]) > 40, doc
    assert "YAML:" in doc
    yaml_part = doc.split("YAML:", 1)[1]
    assert f"check: {{{kind.keyword}:" in yaml_part if kind.keyword else "check: " in yaml_part
    assert kind.name and kind.__module__.startswith("hegui.engine.checks.")
    # A mapping kind accepts its own keyword; the parse method is its own, not the abstract one.
    assert (kind.keyword in kind.keys) == bool(kind.keyword)
    assert "parse" in vars(kind) and "compile" in vars(kind) and "describe" in vars(kind)


@pytest.mark.parametrize("keyword", list(INPUT_KINDS))
def test_each_input_kind_documents_its_yaml(keyword: str):
    doc = inspect.getdoc(type(INPUT_KINDS[keyword])) or ""
    assert f"{{{keyword}:" in doc, doc


def test_every_shipped_rule_holds_an_instance_of_the_kind_its_yaml_names(ruleset):
    seen = {type(rule.check) for rule in ruleset.rules}
    assert {CompareCheck, RequiredCheck, AgreeCheck, ReadableCheck} <= seen
    for rule in ruleset.rules:
        assert isinstance(rule.check, check_kinds())
        # what the catalogue prints is what the kind says
        assert f"检查什么：{rule.check.describe()}" in describe_rule(rule)


def test_built_in_kinds_describe_what_they_require():
    assert RequiredCheck(("名称", "项目金额")).describe() == "必须填写：名称、项目金额"
    assert ForbidTextCheck(("《关于》",), ("年度绩效目标",)).describe() == "年度绩效目标中不得出现：“《关于》”"
    assert (
        RequiredChildrenCheck("指标", "指标类别", ("数量指标", "质量指标")).describe()
        == "必须具备指标类别为以下各项的指标：数量指标、质量指标"
    )
    # The explanation names a mapping check by its kind; an expression by its text.
    assert ForbidTextCheck((), ()).label() == "text_absent"
    assert CompareCheck("金额 = 合计", (), ()).label() == "金额 = 合计"


# --- no string dispatch in the engine -------------------------------------------------------------

_KIND_WORDS = {k.name for k in check_kinds()} | {k.keyword for k in check_kinds() if k.keyword} | set(INPUT_KINDS)


def _kind_comparisons(tree: ast.AST) -> list[str]:
    """Comparisons of a ``check_kind`` (or an input's ``kind``) with a kind name, as source text."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        attrs = [o.attr for o in operands if isinstance(o, ast.Attribute)]
        literals = set()
        for o in operands:
            if isinstance(o, ast.Constant) and isinstance(o.value, str):
                literals.add(o.value)
            elif isinstance(o, (ast.Tuple, ast.List, ast.Set)):
                literals |= {e.value for e in o.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        if "check_kind" in attrs or ("kind" in attrs and literals & _KIND_WORDS):
            found.append(ast.unparse(node))
    return found


def test_the_scan_finds_string_dispatch():
    code = 'if rule.check_kind == "agree": pass\nif inp.kind in ("amount", "text"): pass\nif t.kind == "op": pass'
    assert _kind_comparisons(ast.parse(code)) == ["rule.check_kind == 'agree'", "inp.kind in ('amount', 'text')"]


def test_no_engine_module_compares_kind_names():
    offending = {}
    for path in sorted(ENGINE.rglob("*.py")):
        found = _kind_comparisons(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offending[str(path.relative_to(ENGINE))] = found
    assert offending == {}


# --- a new kind is one class ----------------------------------------------------------------------


@dataclass(frozen=True)
class PositiveCheck(CheckKind):
    """An amount field of the subject must be greater than zero (a 0 written where the amount
    is unknown hides a missing figure).

    YAML: ``check: {positive: 项目金额}`` — one amount field of the subject.
    """

    keyword = "positive"
    name = "positive"
    keys: ClassVar[dict[str, str]] = {"positive": "必须大于零的金额字段"}

    field: str

    @classmethod
    def parse(cls, section: CheckSection) -> PositiveCheck:
        reader, check = section.reader, section.value
        field = reader.text(check, "positive", "check")
        if field:
            reader.field_ok(section.subject, field, "amount", check.value_marks.get("positive"), "check.positive")
        return cls(field)

    def compile(self, rc) -> list[WitnessSlot]:
        p = rc.p
        subject, value = p.var(), p.var()
        body = [*rc.subject_body(subject), p.lit("amount", subject, self.field, value), p.cmp(value, "<=", 0)]
        rc.violation(rc.head(subject, 0, value, p.const(0), [subject]), body)
        return [WitnessSlot(self.field, "origin")]

    def finding(self, fb, compiled, subject, leg, actual, expected, witness):
        where = fb.location(subject, self.field)
        shown = fb.show(actual, BUDGET)
        return fb.fail(
            compiled.rule,
            subject,
            leg,
            where=where,
            message=fb.fill(compiled.rule, {"实际": shown}) or f"{self.field}为{shown}，应大于零",
            expected="> 0",
            actual=shown,
            evidence=(fb.evidence(self.field, shown, where[0], fb.prov.raw_text.get((subject, self.field), "")),),
            raw_actual=actual,
            witness=witness,
        )

    def describe(self) -> str:
        return f"{self.field}必须大于零"


@pytest.fixture
def positive_kind():
    register_check_kind(PositiveCheck)
    yield PositiveCheck
    unregister_check_kind("positive")


_PACK = """\
pack:
  name: 测试正数
rules:
  - id: CS-POS-001
    title: 项目金额应大于零
    severity: error
    source: {{document: 测试文件, clause: 第一条}}
    description: 为什么
    fix: 怎么改
    example: 例子
    subject: 附件3
    check: {{positive: {field}}}  # line 12
"""

_FILING = """\
年度: 2023
附件3:
  - 名称: 有钱的项目
    项目金额: 30
  - 名称: 没钱的项目
    项目金额: 0
"""


def _pack(tmp_path: Path, field: str = "项目金额", copies: int = 1) -> Path:
    text = _PACK.format(field=field)
    if copies == 2:
        rule = text.split("rules:\n", 1)[1]
        text += rule.replace("CS-POS-001", "CS-POS-002")
    path = tmp_path / "positive.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_custom_kind_runs_end_to_end(positive_kind, tmp_path, registry):
    ruleset = load_rules([_pack(tmp_path)])
    (rule,) = ruleset.rules
    assert rule.check == PositiveCheck("项目金额")

    checker = Evaluator(ruleset, registry)
    result = checker.check(inline_filing_from_text(_FILING), explain=True)
    # 30 > 0 holds; 0 > 0 does not: exactly the zero project is reported.
    (finding,) = result.findings
    assert finding.rule_id == "CS-POS-001" and finding.status == "fail"
    assert finding.item == "没钱的项目"
    assert finding.message == "项目金额为0.00万元，应大于零"
    assert finding.actual == "0.00万元" and finding.expected == "> 0"
    assert finding.witness[0] == finding.subject

    # The explanation comes from the kind's default: the evidence and the check in words.
    tree = finding.explanation
    assert tree["verdict"] == "fail" and tree["rule"]["check"] == "positive"
    assert tree["subject"]["item"] == "没钱的项目"
    assert tree["comparison"]["expression"] == "项目金额必须大于零"
    assert tree["inputs"][0]["name"] == "项目金额" and tree["inputs"][0]["value"] == "0.00万元"
    assert "结论：项目金额为0.00万元，应大于零" in render_text(tree)

    # Why-not on the project that holds: the kind's description, held.
    holding = next(e for e, item in result.facts.provenance.item_of.items() if item == "有钱的项目")
    (verdict,) = [r for r in Explainer(checker, result).subject(holding)["rules"] if r["rule"]["id"] == "CS-POS-001"]
    assert verdict["verdict"] == "pass" and verdict["statement"] == "项目金额必须大于零：成立"

    # The catalogue and lint dispatch on the kind as well.
    assert "检查什么：项目金额必须大于零" in describe_rule(rule)


def test_lint_finds_two_rules_of_a_custom_kind_that_check_the_same(positive_kind, tmp_path):
    issues = lint(load_rules([_pack(tmp_path, copies=2)]))
    assert [i.message for i in issues if i.subject == "CS-POS-002"] == ["检查条件与 CS-POS-001 完全相同"]


def test_a_custom_kind_reports_problems_with_file_line_and_suggestion(positive_kind, tmp_path):
    path = _pack(tmp_path, field="项目金钱")
    with pytest.raises(RuleLoadError) as caught:
        load_rules([path])
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.rule_id, problem.key_path) == (
        str(path),
        12,
        "CS-POS-001",
        "check.positive",
    )
    assert "没有名为“项目金钱”的金额字段" in problem.message and problem.suggestion == "项目金额"


def test_without_registration_the_keyword_is_unknown_and_the_known_ones_are_listed(tmp_path):
    with pytest.raises(RuleLoadError) as caught:
        load_rules([_pack(tmp_path)])
    messages = [str(p) for p in caught.value.problems]
    assert any("未知的键“positive”" in m for m in messages), messages
    unclear = next(m for m in messages if "检查方式不明" in m)
    assert "required / agree / forbid_text / readable / required_children" in unclear


def test_registration_refuses_a_taken_keyword_and_an_undocumented_kind():
    @dataclass(frozen=True)
    class Other(PositiveCheck):
        """Also positive."""

        keyword = "required"

    with pytest.raises(ValueError, match="already registered by RequiredCheck"):
        register_check_kind(Other)

    class Silent(PositiveCheck):
        keyword = "silent"

    Silent.__doc__ = None
    with pytest.raises(TypeError, match="must document"):
        register_check_kind(Silent)
    assert "silent" not in {k.keyword for k in check_kinds()}


# --- input kinds ---------------------------------------------------------------------------------


def test_input_kinds_describe_where_they_read(ruleset):
    described = {
        inp.kind: inp.input_kind.describe(inp) for rule in ruleset.rules for inp in rule.inputs if inp.kind != "text"
    }
    assert described["year"] == "预算年度"
    assert re.fullmatch(r"(本行|本表|全文)中写明的“.+”数量", described["count"])
    assert described["sum"].endswith(("之和", "）"))
    # Only text inputs compare as text; only reference data makes a rule not apply when absent.
    assert [k for k, kind in INPUT_KINDS.items() if kind.is_text] == ["text"]
    # A stated rate (or its fallback parameter) that the filing lacks also makes the rule not apply.
    assert [k for k, kind in INPUT_KINDS.items() if not kind.missing_is_cannot] == ["reference", "stated"]


def test_an_amount_input_keeps_exact_decimal_money(positive_kind, tmp_path, registry):
    ruleset = load_rules([_pack(tmp_path)])
    filing = inline_filing_from_text(_FILING.replace("项目金额: 0", "项目金额: -0.01"))
    (finding,) = Evaluator(ruleset, registry).check(filing).findings
    assert finding.raw_actual == Decimal("-100")  # -0.01万元 read as exact 元
    assert finding.actual == "-0.01万元"


# --- kind-specific lint ---------------------------------------------------------------------------

_TOLERANT = """\
pack:
  name: 测试容差
rules:
  - id: CS-TOL-001
    title: 严格小于时容差不起作用
    severity: error
    source: {document: 测试文件, clause: 第一条}
    description: 为什么
    fix: 怎么改
    example: 例子
    subject: 附件3
    inputs:
      金额: {amount: 项目金额}
    check: 金额 < 100万元/年
    tolerance: "0.01万元/年"
  - id: CS-TOL-002
    title: 不超过时容差起作用
    severity: error
    source: {document: 测试文件, clause: 第一条}
    description: 为什么
    fix: 怎么改
    example: 例子
    subject: 附件3
    inputs:
      金额: {amount: 项目金额}
    check: 金额 ≤ 100万元/年
    tolerance: "0.01万元/年"
  - id: CS-TOL-003
    title: 必填检查不用容差
    severity: error
    source: {document: 测试文件, clause: 第一条}
    description: 为什么
    fix: 怎么改
    example: 例子
    subject: 附件3
    check: {required: [名称]}
    tolerance: "0.01万元/年"
"""


def test_lint_asks_each_kind_whether_the_tolerance_matters(tmp_path):
    path = tmp_path / "tolerant.yaml"
    path.write_text(_TOLERANT, encoding="utf-8")
    issues = {i.subject: i.message for i in lint(load_rules([path])) if "容差" in i.message}
    assert issues == {
        "CS-TOL-001": "写了容差（tolerance），但比较符 < 不使用容差，只有 = ≤ ≥ 使用",
        "CS-TOL-003": "写了容差（tolerance），但这种检查方式不使用容差",
    }
