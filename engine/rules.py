"""Rule packs: strict loading of YAML rule files into validated rule objects.

A rule pack is a YAML file with three top-level keys::

    pack:        name, jurisdiction, description
    parameters:  named rates with a unit and effective periods
    rules:       a list of rules

Every problem becomes a :class:`RuleProblem` breadcrumb (file, line, column, rule id, key
path, what was expected, did-you-mean) in Chinese. Loading collects all problems of all
files and raises :class:`RuleLoadError` if there is any: an invalid rule stops the run, it
is never skipped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from hegui.engine import expr as ex
from hegui.engine.checks import CheckKind, CheckSection, check_kind_for, check_kinds, check_section_keys

# BUDGET, SCOPES and Input moved to the input kinds; importing them from here still works.
from hegui.engine.checks.inputs import BUDGET as BUDGET
from hegui.engine.checks.inputs import INPUT_KINDS, InputSpec
from hegui.engine.checks.inputs import SCOPES as SCOPES
from hegui.engine.checks.inputs import Input as Input
from hegui.engine.packfiles import pack_files
from hegui.engine.problems import RuleLoadError as RuleLoadError
from hegui.engine.problems import RuleProblem as RuleProblem
from hegui.engine.rulecache import cached_load
from hegui.engine.strictyaml import Located, LocatedList, Mark, YamlProblem, load_file
from hegui.facts.units import Unit, UnitError, parse_unit

SEVERITIES = ("error", "warning", "info")
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
SUBJECT_KINDS = (
    "申报",
    "附件1",
    "附件2",
    "附件3",
    "汇总行",
    "明细",
    "指标",
    "测算项",
    "测算式",
    "计数",
    "费率",
    "比例",
    # Tables of other templates and their lines (hegui.facts.recognise_projects).
    "项目表",
    "资金行",
    "执行行",
    "明细表",
    "项目清单",
)
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_NAME = re.compile(r"^[\w\u3400-\u9fff]+$")


@dataclass(frozen=True)
class Citation:
    document: str
    clause: str = ""
    quote: str = ""
    url: str = ""
    title: str = ""
    basis: str = ""  # one of BASIS_KINDS: how far the rule's rate or wording is known

    def __str__(self) -> str:
        return self.document + (f" {self.clause}" if self.clause else "")


#: How a rule's basis is known (``source.basis``). The catalogue shows it, so a reviewer sees
#: which rates come from a verified policy text and which are known only from a filing.
BASIS_KINDS = {
    "政策原文": "依据政策文件原文",
    "申报引用": "标准仅见于申报文本对政策的引用，政策原文未核实",
    "申报自述": "标准由申报自己写明，只核对申报内部是否自洽",
    "表式": "表格结构与勾稽关系",
    "审核实务": "财政审核实务（判断）",
}


@dataclass(frozen=True)
class ParameterValue:
    value: Decimal  # in base units of the parameter's unit
    written: Decimal
    start_year: int | None
    end_year: int | None

    def applies(self, year: int) -> bool:
        return (self.start_year is None or year >= self.start_year) and (self.end_year is None or year <= self.end_year)


@dataclass(frozen=True)
class Parameter:
    key: str  # pack-qualified: "株洲市:交通费标准"
    name: str
    unit_text: str
    unit: Unit
    values: tuple[ParameterValue, ...]
    description: str = ""
    source: Citation | None = None

    def value_for(self, year: int | None) -> ParameterValue | None:
        if year is None:
            return None
        for candidate in self.values:
            if candidate.applies(year):
                return candidate
        return None


@dataclass(frozen=True)
class Condition:
    """A ``where`` condition on a text field of the subject (or of a related entity)."""

    field: str
    op: str  # equals | contains_any | contains_all | excludes_any | present | absent
    values: tuple[str, ...] = ()


def describe_input(inp: Input) -> str:
    """Where an input is read from, in words (catalogue, cannot-verify messages, explanations)."""
    return inp.input_kind.describe(inp)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    pack: str
    file: str
    line: int
    subject: str
    check: CheckKind  # how the rule checks: one instance of a registered kind (hegui.engine.checks)
    source: Citation
    description: str = ""
    fix: str = ""
    tags: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    inputs: tuple[Input, ...] = ()
    tolerance: Decimal = Decimal(0)
    message: str = ""
    parameters: tuple[Parameter, ...] = ()
    example: str = ""
    jurisdiction: str = "全国"  # the rule applies to filings whose jurisdiction chain contains this


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    packs: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    jurisdiction_of_pack: dict[str, str] = field(default_factory=dict)
    file_jurisdiction: dict[str, str] = field(default_factory=dict)

    def parameters_named(self, name: str) -> list[Parameter]:
        """Every pack's parameter called ``name`` (a district may override a city's rate)."""
        return [p for p in self.parameters.values() if p.name == name]

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


# --- schema ------------------------------------------------------------------------------------

PACK_KEYS = {"pack": "规则包信息", "parameters": "参数", "rules": "规则列表"}
PACK_INFO_KEYS = {"name": "规则包名称", "jurisdiction": "适用地区", "description": "说明"}
PARAM_KEYS = {"unit": "单位", "values": "取值与有效期", "description": "说明", "source": "依据"}
PARAM_VALUE_KEYS = {"value": "数值", "from": "起始年度", "until": "截止年度"}
SOURCE_KEYS = {
    "document": "文件名称或文号",
    "clause": "条款",
    "quote": "原文",
    "url": "网址",
    "title": "文件标题",
    "basis": "依据性质",
}
RULE_KEYS = {
    "id": "规则编号",
    "title": "标题",
    "severity": "严重程度",
    "tags": "标签",
    "source": "政策依据",
    "description": "为什么检查",
    "fix": "如何改正",
    "example": "不合规示例",
    "subject": "检查对象",
    "where": "适用条件",
    "inputs": "输入",
    "check": "检查",
    "tolerance": "容差",
    "message": "消息模板",
}
CONDITION_OPS = (
    "equals",
    "contains_any",
    "contains_all",
    "excludes_any",
    "present",
    "absent",
    "has_children",
    "in_table",
)
_FIELDLESS_OPS = ("has_children", "in_table")
INPUT_KEYS = {
    "amount": "金额字段",
    "number": "数值字段",
    "text": "文字字段",
    "sum": "求和字段",
    "over": "求和对象",
    "count": "计数对象",
    "scope": "计数范围",
    "of": "关联对象",
    "year": "年度",
    "unit": "单位",
    "reference": "地区参考数据",
    "name_contains": "求和对象名称含有",
    "stated": "申报写明的标准（费率名称含有）",
    "default": "申报未写明时采用的参数",
}


class _Ctx:
    """Collects problems for one file, with the current rule id for the breadcrumb."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rule_id = ""
        self.problems: list[RuleProblem] = []

    def problem(self, mark: Mark | None, path: str, message: str, expected: str = "", suggestion: str = "") -> None:
        line, col = (mark.line, mark.column) if mark else (0, 0)
        self.problems.append(RuleProblem(self.file, line, col, self.rule_id, path, message, expected, suggestion))

    # The helpers below as methods: check and input kinds read their YAML through these
    # (the hegui.engine.checks.Reader protocol) without importing this module.
    def text(self, node: Located, key: str, path: str, *, required: bool = True, limit: int = 2000) -> str:
        return _text(self, node, key, path, required=required, limit=limit)

    def text_list(self, value: Any, mark: Mark | None, path: str) -> tuple[str, ...]:
        return _text_list(self, value, mark, path)

    def mapping(self, value: Any, mark: Mark | None, path: str) -> Located | None:
        return _mapping(self, value, mark, path)

    def check_keys(self, node: Located, allowed: dict[str, str], path: str) -> None:
        _check_keys(self, node, allowed, path)

    def field_ok(self, kind: str | None, name: str, ftype: str, mark: Mark | None, path: str) -> bool:
        return _field_ok(self, kind, name, ftype, mark, path)

    @staticmethod
    def fields(kind: str, ftype: str) -> tuple[str, ...]:
        return _fields(kind, ftype)

    @staticmethod
    def all_fields(kind: str) -> tuple[str, ...]:
        return _all_fields(kind)

    @staticmethod
    def suggest(word: str, choices: Iterable[str]) -> str:
        return _suggest(word, choices)

    @staticmethod
    def describe(value: Any) -> str:
        return _describe(value)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return close[0] if close else ""


def _check_keys(ctx: _Ctx, node: Located, allowed: dict[str, str], path: str) -> None:
    for key in node:
        if key not in allowed:
            ctx.problem(
                node.key_marks.get(key),
                f"{path}.{key}" if path else key,
                f"未知的键“{key}”（拼错的键会让条件被悄悄忽略，所以视为错误）",
                "、".join(f"{k}（{v}）" for k, v in allowed.items()),
                _suggest(key, allowed),
            )


def _mapping(ctx: _Ctx, value: Any, mark: Mark | None, path: str) -> Located | None:
    if isinstance(value, Located):
        return value
    ctx.problem(mark, path, f"应为键值对（映射），实际是{_describe(value)}", "键: 值 的形式")
    return None


def _text(ctx: _Ctx, node: Located, key: str, path: str, *, required: bool = True, limit: int = 2000) -> str:
    if key not in node:
        if required:
            ctx.problem(node.mark, f"{path}.{key}" if path else key, f"缺少必填的键“{key}”")
        return ""
    value = node[key]
    if isinstance(value, Decimal) and key in ("clause", "document", "title"):
        value = str(value)
    if not isinstance(value, str):
        ctx.problem(
            node.value_marks.get(key),
            f"{path}.{key}" if path else key,
            f"应为文字，实际是{_describe(value)}",
            "文字（必要时加引号）",
        )
        return ""
    if len(value) > limit:
        ctx.problem(
            node.value_marks.get(key), f"{path}.{key}" if path else key, f"文字过长（{len(value)}个字符，上限{limit}）"
        )
        return ""
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return f"布尔值 {str(value).lower()}"
    if isinstance(value, Decimal):
        return f"数字 {value}"
    if isinstance(value, str):
        return f"文字“{value[:30]}”"
    if isinstance(value, list):
        return "列表"
    return "键值对"


def _text_list(ctx: _Ctx, value: Any, mark: Mark | None, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, LocatedList) and all(isinstance(v, str) for v in value) and value:
        return tuple(value)
    ctx.problem(mark, path, f"应为文字或文字列表，实际是{_describe(value)}", "例如 [驻村工作队, 工作队员]")
    return ()


def _citation(ctx: _Ctx, value: Any, mark: Mark | None, path: str) -> Citation | None:
    node = _mapping(ctx, value, mark, path)
    if node is None:
        return None
    _check_keys(ctx, node, SOURCE_KEYS, path)
    document = _text(ctx, node, "document", path)
    basis = _text(ctx, node, "basis", path, required=False)
    if basis and basis not in BASIS_KINDS:
        ctx.problem(node.value_marks.get("basis"), f"{path}.basis", f"未知的依据性质“{basis}”", "、".join(BASIS_KINDS))
        basis = ""
    return Citation(
        document=document,
        clause=_text(ctx, node, "clause", path, required=False),
        quote=_text(ctx, node, "quote", path, required=False),
        url=_text(ctx, node, "url", path, required=False),
        title=_text(ctx, node, "title", path, required=False),
        basis=basis,
    )


def _year(ctx: _Ctx, node: Located, key: str, path: str) -> int | None:
    if key not in node or node[key] is None:
        return None
    value = node[key]
    if isinstance(value, Decimal) and value == value.to_integral_value() and 1990 <= value <= 2100:
        return int(value)
    ctx.problem(
        node.value_marks.get(key),
        f"{path}.{key}",
        f"年度应为1990到2100之间的整数，实际是{_describe(value)}",
        "例如 2023",
    )
    return None


def _parameters(ctx: _Ctx, value: Any, mark: Mark | None, pack: str) -> dict[str, Parameter]:
    node = _mapping(ctx, value, mark, "parameters")
    out: dict[str, Parameter] = {}
    if node is None:
        return out
    for name, spec_value in node.items():
        path = f"parameters.{name}"
        if not _NAME.match(name):
            ctx.problem(node.key_marks[name], path, f"参数名“{name}”只能由汉字、字母、数字和下划线组成")
            continue
        spec = _mapping(ctx, spec_value, node.value_marks[name], path)
        if spec is None:
            continue
        _check_keys(ctx, spec, PARAM_KEYS, path)
        unit_text = _text(ctx, spec, "unit", path)
        unit: Unit | None = None
        scale = Decimal(1)
        if unit_text:
            try:
                scale, unit = parse_unit(unit_text)
            except UnitError as exc:
                ctx.problem(spec.value_marks.get("unit"), f"{path}.unit", str(exc), "例如 元/人/月、万元/村/年、人/村")
        values: list[ParameterValue] = []
        raw_values = spec.get("values")
        if not isinstance(raw_values, LocatedList) or not raw_values:
            ctx.problem(
                spec.value_marks.get("values", spec.mark),
                f"{path}.values",
                "至少要有一个取值",
                "列表，如 - {value: 2000, from: 2021}",
            )
        else:
            for index, item in enumerate(raw_values):
                ipath = f"{path}.values[{index}]"
                entry = _mapping(ctx, item, raw_values.item_marks[index], ipath)
                if entry is None:
                    continue
                _check_keys(ctx, entry, PARAM_VALUE_KEYS, ipath)
                number = entry.get("value")
                if not isinstance(number, Decimal):
                    ctx.problem(
                        entry.value_marks.get("value", entry.mark),
                        f"{ipath}.value",
                        f"应为十进制数，实际是{_describe(number)}",
                        "例如 2000 或 0.5",
                    )
                    continue
                if abs(number) >= Decimal(10) ** 15:
                    ctx.problem(entry.value_marks.get("value"), f"{ipath}.value", "数值过大")
                    continue
                start, end = _year(ctx, entry, "from", ipath), _year(ctx, entry, "until", ipath)
                if start is not None and end is not None and end < start:
                    ctx.problem(entry.mark, ipath, f"截止年度{end}早于起始年度{start}")
                values.append(ParameterValue(number * scale, number, start, end))
        source = (
            _citation(ctx, spec["source"], spec.value_marks["source"], f"{path}.source") if "source" in spec else None
        )
        if unit is not None and values:
            out[name] = Parameter(
                key=f"{pack}:{name}",
                name=name,
                unit_text=unit_text,
                unit=unit,
                values=tuple(values),
                description=_text(ctx, spec, "description", path, required=False),
                source=source,
            )
    return out


def _fields(kind: str, ftype: str) -> tuple[str, ...]:
    from hegui.facts.vocabulary import ENTITY_KINDS

    return ENTITY_KINDS.get(kind, {}).get(ftype, ())


def _all_fields(kind: str) -> tuple[str, ...]:
    from hegui.facts.vocabulary import ENTITY_KINDS

    return tuple(f for fields in ENTITY_KINDS.get(kind, {}).values() for f in fields)


RELATION_TARGETS = {
    ("汇总行", "对应附件3"): "附件3",
    ("附件3", "对应汇总行"): "汇总行",
}


def _related_kind(ctx: _Ctx, subject: str, of: str, mark: Mark | None, path: str) -> str | None:
    from hegui.facts.vocabulary import RELATIONS, TABLE_KINDS

    if not of:
        return subject
    if of in TABLE_KINDS or of == "申报":
        return of
    if (subject, of) in RELATION_TARGETS:
        return RELATION_TARGETS[(subject, of)]
    if of in ("所属", "所属表"):
        return "所属表" if of == "所属表" else "所属"
    ctx.problem(
        mark,
        path,
        f"无法从“{subject}”沿关系“{of}”找到对象",
        "、".join((*RELATIONS, "附件1", "附件2", "申报")),
        _suggest(of, RELATIONS),
    )
    return None


def _field_ok(ctx: _Ctx, kind: str | None, name: str, ftype: str, mark: Mark | None, path: str) -> bool:
    if kind in (None, "所属", "所属表"):
        return True  # resolved at run time; the name is still checked against all kinds below
    allowed = _fields(kind, ftype)
    if name in allowed:
        return True
    label = {"amount": "金额", "number": "数值", "text": "文字"}[ftype]
    ctx.problem(
        mark,
        path,
        f"“{kind}”没有名为“{name}”的{label}字段",
        "、".join(allowed) or "（该对象没有此类字段）",
        _suggest(name, allowed),
    )
    return False


def _inputs(ctx: _Ctx, value: Any, mark: Mark | None, subject: str) -> list[Input]:
    node = _mapping(ctx, value, mark, "inputs")
    out: list[Input] = []
    if node is None:
        return out
    for name, spec_value in node.items():
        path = f"inputs.{name}"
        if not _NAME.match(name):
            ctx.problem(node.key_marks[name], path, f"输入名“{name}”只能由汉字、字母、数字和下划线组成")
            continue
        spec = _mapping(ctx, spec_value, node.value_marks[name], path)
        if spec is None:
            continue
        _check_keys(ctx, spec, INPUT_KEYS, path)
        kinds = [k for k in INPUT_KINDS if k in spec]
        if len(kinds) != 1:
            ctx.problem(spec.mark, path, "每个输入须且只须写明一种来源", "、".join(INPUT_KINDS) + " 之一")
            continue
        of = _text(ctx, spec, "of", path, required=False)
        target = _related_kind(ctx, subject, of, spec.value_marks.get("of"), f"{path}.of")
        unit_text = _text(ctx, spec, "unit", path, required=False)
        inp = INPUT_KINDS[kinds[0]].parse(InputSpec(ctx, name, spec, path, subject, of, target, unit_text))
        if inp is not None:
            out.append(inp)
    return out


def _conditions(ctx: _Ctx, value: Any, mark: Mark | None, subject: str) -> list[Condition]:
    out: list[Condition] = []
    if not isinstance(value, LocatedList):
        ctx.problem(mark, "where", f"应为条件列表，实际是{_describe(value)}", "- {field: 名称, contains_any: [驻村]}")
        return out
    text_fields = _fields(subject, "text")
    for index, item in enumerate(value):
        path = f"where[{index}]"
        node = _mapping(ctx, item, value.item_marks[index], path)
        if node is None:
            continue
        _check_keys(ctx, node, {"field": "字段", **{op: op for op in CONDITION_OPS}}, path)
        ops = [op for op in CONDITION_OPS if op in node]
        if len(ops) != 1:
            ctx.problem(node.mark, path, "每个条件须且只须写一种比较", "、".join(CONDITION_OPS))
            continue
        op = ops[0]
        if op in _FIELDLESS_OPS:
            from hegui.facts.vocabulary import ENTITY_KINDS, TABLE_KINDS

            kinds = TABLE_KINDS if op == "in_table" else tuple(ENTITY_KINDS)
            kind = _text(ctx, node, op, path)
            if kind and kind not in kinds:
                ctx.problem(
                    node.value_marks.get(op),
                    f"{path}.{op}",
                    f"未知的对象类别“{kind}”",
                    "、".join(kinds),
                    _suggest(kind, kinds),
                )
            if "field" in node:
                ctx.problem(node.key_marks["field"], f"{path}.field", f"{op} 条件不需要 field")
            out.append(Condition("", op, (kind,)))
            continue
        fname = _text(ctx, node, "field", path)
        usable = _all_fields(subject) if op in ("present", "absent") else text_fields
        if fname and fname not in usable:
            ctx.problem(
                node.value_marks.get("field"),
                f"{path}.field",
                f"“{subject}”没有名为“{fname}”的字段",
                "、".join(usable),
                _suggest(fname, usable),
            )
        if op in ("present", "absent"):
            if node[op] is not True:
                ctx.problem(node.value_marks.get(op), f"{path}.{op}", "应写 true", "true")
            out.append(Condition(fname, op))
            continue
        values = _text_list(ctx, node[op], node.value_marks.get(op), f"{path}.{op}")
        if op == "equals" and len(values) != 1:
            ctx.problem(node.value_marks.get(op), f"{path}.{op}", "equals 只能写一个值", "一个文字")
        out.append(Condition(fname, op, tuple(re.sub(r"\s+", "", v) for v in values)))
    return out


def _check(
    ctx: _Ctx,
    node: Located,
    subject: str,
    inputs: tuple[Input, ...],
    params: dict[str, Parameter],
    declared: frozenset[str],
) -> CheckKind | None:
    """The rule's ``check:`` as an instance of the registered kind it selects, or None."""
    check = node.get("check")
    check_mark = node.value_marks.get("check", node.mark)
    if check is None:
        ctx.problem(node.mark, "check", "缺少检查（check）")
        return None
    if not isinstance(check, (str, Located)):
        ctx.problem(check_mark, "check", f"应为表达式文字或键值对，实际是{_describe(check)}")
        return None
    if isinstance(check, Located):
        _check_keys(ctx, check, check_section_keys(), "check")
    kind = check_kind_for(check)
    if kind is None:
        keywords = " / ".join(k.keyword for k in check_kinds() if k.keyword)
        ctx.problem(check_mark, "check", "检查方式不明", f"表达式文字，或 {keywords} 之一")
        return None
    return kind.parse(CheckSection(ctx, check, check_mark, node, subject, inputs, params, declared))


def _rule(ctx: _Ctx, node: Located, pack: str, params: dict[str, Parameter], declared_params: set[str]) -> Rule | None:
    given_id = node.get("id")
    ctx.rule_id = given_id if isinstance(given_id, str) else ""
    _check_keys(ctx, node, RULE_KEYS, "")
    rule_id = _text(ctx, node, "id", "", limit=60)
    if rule_id and not _RULE_ID.match(rule_id):
        ctx.problem(
            node.value_marks.get("id"), "id", f"规则编号“{rule_id}”格式不正确", "大写字母、数字和连字符，如 ZZ-ZCDY-001"
        )
    title = _text(ctx, node, "title", "", limit=200)
    severity = _text(ctx, node, "severity", "")
    if severity and severity not in SEVERITIES:
        ctx.problem(
            node.value_marks.get("severity"),
            "severity",
            f"未知的严重程度“{severity}”",
            "、".join(SEVERITIES),
            _suggest(severity, SEVERITIES),
        )
    source = _citation(ctx, node["source"], node.value_marks["source"], "source") if "source" in node else None
    if "source" not in node:
        ctx.problem(node.mark, "source", "缺少政策依据（source）：每条规则都要写明依据的文件和条款")
    subject = _text(ctx, node, "subject", "")
    if subject and subject not in SUBJECT_KINDS:
        ctx.problem(
            node.value_marks.get("subject"),
            "subject",
            f"未知的检查对象“{subject}”",
            "、".join(SUBJECT_KINDS),
            _suggest(subject, SUBJECT_KINDS),
        )
        subject = ""
    tags = _text_list(ctx, node["tags"], node.value_marks.get("tags"), "tags") if "tags" in node else ()
    where = (
        _conditions(ctx, node["where"], node.value_marks.get("where"), subject) if "where" in node and subject else []
    )
    inputs = (
        _inputs(ctx, node["inputs"], node.value_marks.get("inputs"), subject) if "inputs" in node and subject else []
    )
    tolerance = Decimal(0)
    if "tolerance" in node:
        try:
            tol_nodes = ex.parse_check(f"0 = {node['tolerance']}") if isinstance(node["tolerance"], str) else None
        except ex.ExpressionError as exc:
            tol_nodes = None
            ctx.problem(node.value_marks.get("tolerance"), "tolerance", exc.message)
        if tol_nodes and isinstance(tol_nodes[0].right, ex.Num):
            tolerance = tol_nodes[0].right.value
        else:
            ctx.problem(
                node.value_marks.get("tolerance"), "tolerance", '容差应写成带单位的数，如 "0.01万元"', '"0.01万元"'
            )
    declared = set(node["inputs"]) if isinstance(node.get("inputs"), Located) else set()
    declared |= declared_params
    check = _check(ctx, node, subject, tuple(inputs), params, frozenset(declared))
    used_params = check.parameters() if check is not None else ()
    for inp in inputs:
        # A stated rate falls back to a pack parameter when the filing states none: it is used.
        fallback = inp.input_kind.fallback_parameter(inp)
        if not fallback:
            continue
        if fallback not in params:
            ctx.problem(
                node.value_marks.get("inputs"),
                f"inputs.{inp.name}.default",
                f"参数“{fallback}”没有在本规则包中定义",
                "、".join(params),
                _suggest(fallback, params),
            )
        elif params[fallback] not in used_params:
            used_params = (*used_params, params[fallback])
    message = _text(ctx, node, "message", "", required=False, limit=500)
    if message:
        allowed = {i.name for i in inputs} | {p.name for p in used_params} | {"实际", "期望", "对象", "表"}
        for placeholder in re.findall(r"\{([^{}]*)\}", message):
            if placeholder not in allowed and placeholder not in declared:
                ctx.problem(
                    node.value_marks.get("message"),
                    "message",
                    f"消息模板中的“{{{placeholder}}}”不是输入、参数或内置名称",
                    "、".join(sorted(allowed)),
                    _suggest(placeholder, allowed),
                )
    if not (rule_id and title and severity and source and subject and check is not None):
        return None
    return Rule(
        id=rule_id,
        title=title,
        severity=severity,
        pack=pack,
        file=ctx.file,
        line=node.mark.line,
        subject=subject,
        check=check,
        source=source,
        description=_text(ctx, node, "description", "", required=False),
        fix=_text(ctx, node, "fix", "", required=False),
        example=_text(ctx, node, "example", "", required=False),
        tags=tags,
        where=tuple(where),
        inputs=tuple(inputs),
        tolerance=tolerance,
        message=message,
        parameters=tuple(used_params),
    )


def load_root(ctx: _Ctx, path: Path, what: str = "规则文件") -> Located | None:
    """The top-level mapping of a strict YAML file (pack, cases, waivers), or None with the
    problem recorded in ``ctx`` as a breadcrumb."""
    try:
        data = load_file(path)
    except YamlProblem as exc:
        ctx.problem(exc.mark, "", exc.message)
        return None
    except OSError as exc:
        ctx.problem(None, "", f"无法读取{what}：{exc.strerror or exc}")
        return None
    return _mapping(ctx, data, Mark(1, 1), "")


def load_pack_file(
    path: Path, problems: list[RuleProblem], known: Iterable[str] | None = None
) -> tuple[str, list[Rule], dict[str, Parameter]]:
    """Load one pack file, appending problems; returns (pack name, rules, parameters).

    ``known`` lists the registered jurisdictions; a pack naming another is an error, because
    its rules would silently apply to no filing.
    """
    ctx = _Ctx(str(path))
    root = load_root(ctx, path)
    if root is None:
        problems.extend(ctx.problems)
        return "", [], {}
    _check_keys(ctx, root, PACK_KEYS, "")
    info = _mapping(ctx, root.get("pack"), root.value_marks.get("pack", root.mark), "pack")
    name = ""
    jurisdiction = "全国"
    if info is not None:
        _check_keys(ctx, info, PACK_INFO_KEYS, "pack")
        name = _text(ctx, info, "name", "pack")
        jurisdiction = _text(ctx, info, "jurisdiction", "pack", required=False) or "全国"
        known = list(known) if known is not None else None
        if known is not None and jurisdiction not in known:
            ctx.problem(
                info.value_marks.get("jurisdiction", info.mark),
                "pack.jurisdiction",
                f"未知的适用地区“{jurisdiction}”：规则将不适用于任何申报",
                "已注册的地区（见 hegui plugins）",
                _suggest(jurisdiction, known),
            )
    params = _parameters(ctx, root["parameters"], root.value_marks["parameters"], name) if "parameters" in root else {}
    declared_params = set(root["parameters"]) if isinstance(root.get("parameters"), Located) else set()
    rules: list[Rule] = []
    raw_rules = root.get("rules")
    if not isinstance(raw_rules, LocatedList):
        ctx.problem(
            root.value_marks.get("rules", root.mark), "rules", "缺少规则列表或格式不对", "rules: 后接以 - 开头的规则"
        )
    elif not raw_rules:
        ctx.problem(
            root.value_marks.get("rules", root.mark), "rules", "规则列表为空：没有规则的规则包会让任何申报都显得“合规”"
        )
    else:
        for index, item in enumerate(raw_rules):
            node = _mapping(ctx, item, raw_rules.item_marks[index], f"rules[{index}]")
            if node is None:
                continue
            rule = _rule(ctx, node, name, params, declared_params)
            if rule is not None:
                rules.append(replace(rule, jurisdiction=jurisdiction))
            ctx.rule_id = ""
    problems.extend(ctx.problems)
    return name, rules, params


def load_rules(
    paths: Iterable[Path], known_jurisdictions: Iterable[str] | None = None, *, cache: bool = True
) -> RuleSet:
    """Load every ``*.yaml`` pack under ``paths`` (files or folders), all or nothing.

    With ``known_jurisdictions``, a pack whose ``pack.jurisdiction`` is not among them is an
    error. Parameters of the same name in several packs must have the same dimension, since
    the nearest jurisdiction's value replaces the others.

    With ``cache`` (the default) a rule set loaded before from files with the same bytes is
    taken from the user's cache (:mod:`hegui.engine.rulecache`); errors are never cached.
    """
    paths = [Path(p) for p in paths]
    known = list(known_jurisdictions) if known_jurisdictions is not None else None
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(pack_files(path))
        else:
            files.append(path)
    if cache:
        return cached_load(files, known, lambda: _load_files(paths, files, known))
    return _load_files(paths, files, known)


def _load_files(paths: list[Path], files: list[Path], known: list[str] | None) -> RuleSet:
    problems: list[RuleProblem] = []
    ruleset = RuleSet()
    seen: dict[str, Rule] = {}
    for file in files:
        pack, rules, params = load_pack_file(file, problems, known)
        if pack and pack not in ruleset.packs:
            ruleset.packs.append(pack)
        ruleset.files.append(str(file))
        if rules:
            ruleset.jurisdiction_of_pack[pack] = rules[0].jurisdiction
            ruleset.file_jurisdiction[str(file)] = rules[0].jurisdiction
        for param in params.values():
            for other in ruleset.parameters_named(param.name):
                if other.unit != param.unit:
                    problems.append(
                        RuleProblem(
                            str(file),
                            0,
                            0,
                            "",
                            f"parameters.{param.name}",
                            f"参数“{param.name}”的单位“{param.unit_text}”与规则包“{other.key.split(':')[0]}”中同名参数的“{other.unit_text}”量纲不同，无法按就近原则替换",
                        )
                    )
        for parameter in params.values():
            ruleset.parameters[parameter.key] = parameter
        for rule in rules:
            if rule.id in seen:
                earlier = seen[rule.id]
                problems.append(
                    RuleProblem(
                        str(file), rule.line, 1, rule.id, "id", f"规则编号重复：已在 {earlier.file}:{earlier.line} 定义"
                    )
                )
                continue
            seen[rule.id] = rule
            ruleset.rules.append(rule)
    if not files:
        problems.append(
            RuleProblem(
                ", ".join(str(p) for p in paths),
                0,
                0,
                "",
                "",
                "没有找到任何规则文件（*.yaml）：没有规则就无法判断是否合规",
            )
        )
    if problems:
        raise RuleLoadError(problems)
    ruleset.rules.sort(key=lambda r: r.id)
    return ruleset
