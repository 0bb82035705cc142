"""Rule documentation built from the rules themselves (``hegui rule ID``)."""

from __future__ import annotations

from hegui.engine.rules import BASIS_KINDS, SEVERITY_NAMES, Parameter, Rule, describe_input
from hegui.facts.units import format_decimal


def _periods(param: Parameter) -> str:
    parts = []
    for value in param.values:
        start = f"{value.start_year}年起" if value.start_year else "不限起始"
        end = f"至{value.end_year}年" if value.end_year else ""
        parts.append(f"{format_decimal(value.written)}{param.unit_text}（{start}{end}）")
    return "；".join(parts)


def rule_basis(rule: Rule) -> str:
    """How the rule's basis is known (a key of BASIS_KINDS, or ""): a rate known only from a
    filing's quotation marks the whole rule, whatever its own source says."""
    kinds = [p.source.basis for p in rule.parameters if p.source is not None and p.source.basis]
    for weakest in ("申报自述", "申报引用"):
        if weakest in kinds:
            return weakest
    return rule.source.basis or (kinds[0] if kinds else "")


def basis_words(rule: Rule) -> str:
    """The catalogue's 依据性质 line: the kind and what it means."""
    kind = rule_basis(rule)
    return f"{kind}（{BASIS_KINDS[kind]}）" if kind else "未标注"


def describe_rule(rule: Rule) -> str:
    """Every rule documented with the same fields, in the same order."""
    lines = [
        f"{rule.id}  {rule.title}",
        f"严重程度：{SEVERITY_NAMES[rule.severity]}（{rule.severity}）    规则包：{rule.pack}    定义于：{rule.file}:{rule.line}",
        "",
        "检查什么：" + check_summary(rule),
        f"检查对象：{rule.subject}" + ("；条件：" + "；".join(_condition(c) for c in rule.where) if rule.where else ""),
        "为什么：" + (rule.description or "（未写明）"),
        f"政策依据：{rule.source.document}"
        + (f"《{rule.source.title}》" if rule.source.title else "")
        + (f" {rule.source.clause}" if rule.source.clause else ""),
    ]
    lines.append("依据性质：" + basis_words(rule))
    if rule.source.quote:
        lines.append(f"    原文：“{rule.source.quote}”")
    if rule.source.url:
        lines.append(f"    网址：{rule.source.url}")
    if rule.parameters:
        lines.append("参数：")
        for param in rule.parameters:
            basis = param.source.basis if param.source is not None else ""
            lines.append(
                f"    {param.name} = {_periods(param)}"
                + (f"（依据：{param.source}）" if param.source is not None else "")
                + (f"〔{basis}：{BASIS_KINDS[basis]}〕" if basis in ("申报引用", "申报自述") else "")
            )
    if rule.inputs:
        lines.append("输入：")
        for inp in rule.inputs:
            lines.append(f"    {inp.name}：{describe_input(inp)}")
    lines.append("不合规示例：" + (rule.example or "（未写明）"))
    lines.append("如何改正：" + (rule.fix or "（未写明）"))
    return "\n".join(lines)


def check_summary(rule: Rule) -> str:
    """What the rule's check requires, in one sentence (its expression, for a compare rule)."""
    return rule.check.describe()


# The name the service imports.
_check_summary = check_summary


def _condition(condition) -> str:
    words = {
        "equals": "等于",
        "contains_any": "含有任一",
        "contains_all": "含有全部",
        "excludes_any": "不含",
        "present": "已填写",
        "absent": "未填写",
        "has_children": "有下级",
        "in_table": "位于",
    }
    values = "、".join(condition.values)
    return f"{condition.field}{words[condition.op]}{values}" if condition.field else f"{words[condition.op]}{values}"


def render_rule_docs(ruleset) -> dict[str, str]:
    """``docs/rules/``: one Markdown page per rule and an index, from the rules themselves."""
    pages: dict[str, str] = {}
    index = [
        "# 规则目录",
        "",
        "由 `HEGUI_PLUGINS= hegui rules doc` 从内置规则包生成，请勿手改；装有区县插件时去掉 HEGUI_PLUGINS= 即包含插件的规则。",
        "",
        "| 编号 | 严重程度 | 规则包 | 标题 | 依据 | 依据性质 |",
        "|---|---|---|---|---|---|",
    ]
    for rule in ruleset.rules:
        index.append(
            f"| [{rule.id}]({rule.id}.md) | {SEVERITY_NAMES[rule.severity]} | {rule.pack} | {rule.title} | {rule.source} | {rule_basis(rule) or '未标注'} |"
        )
        body = describe_rule(rule).split("\n")
        title, rest = body[0], body[1:]
        # The file path where the rule is defined differs between installations: leave it out.
        rest = [line.split("    定义于：")[0] for line in rest]
        pages[f"{rule.id}.md"] = "\n".join([f"# {title}", "", *[f"{line}  " if line else "" for line in rest], ""])
    pages["index.md"] = "\n".join(index) + "\n"
    return pages
