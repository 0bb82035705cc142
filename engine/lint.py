"""Lint of a rule set: problems that load fine but make a rule set worse (``hegui rules lint``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from hegui.engine.rules import Parameter, RuleSet
from hegui.engine.strictyaml import Located, YamlProblem, load_file
from hegui.facts.units import DIMENSIONLESS


@dataclass(frozen=True)
class LintIssue:
    file: str
    line: int
    subject: str  # rule id or parameter name
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} › {self.subject}：{self.message}"


def _declared_parameters(files: list[str]) -> list[tuple[str, str, int, str]]:
    """(file, pack, line, name) of every parameter declared in the pack files."""
    out = []
    for file in files:
        try:
            data = load_file(Path(file))
        except (YamlProblem, OSError):
            continue
        if not isinstance(data, Located) or not isinstance(data.get("parameters"), Located):
            continue
        pack = data["pack"].get("name", "") if isinstance(data.get("pack"), Located) else ""
        params = data["parameters"]
        for name in params:
            out.append((file, pack, params.key_marks[name].line, name))
    return out


def _period_issues(param: Parameter) -> list[str]:
    spans = sorted((v.start_year or 0, v.end_year or 9999) for v in param.values)
    issues = []
    for (start_a, end_a), (start_b, end_b) in itertools.pairwise(spans):
        if start_b <= end_a:
            issues.append(f"有效期重叠：{_span(start_a, end_a)} 与 {_span(start_b, end_b)}")
        elif start_b > end_a + 1:
            issues.append(f"有效期有空档：{end_a + 1}年至{start_b - 1}年没有取值")
    return issues


def _span(start: int, end: int) -> str:
    return f"{start or '不限'}—{'不限' if end == 9999 else end}年"


def lint(ruleset: RuleSet) -> list[LintIssue]:
    """Issues in ``ruleset``: unused or unit-less parameters, overlapping or gapped periods,
    rules missing documentation fields, and rules whose conditions are identical."""
    issues: list[LintIssue] = []
    used = {p.key for rule in ruleset.rules for p in rule.parameters}
    # A rule reads a parameter by name from the nearest jurisdiction that defines it, so a
    # district pack's parameter named like one a city rule uses overrides it: that is a use.
    used_names = {p.name for rule in ruleset.rules for p in rule.parameters}
    for file, pack, line, name in _declared_parameters(ruleset.files):
        key = f"{pack}:{name}"
        param = ruleset.parameters.get(key)
        if key not in used and name not in used_names:
            issues.append(LintIssue(file, line, name, "参数没有被任何规则使用"))
        if param is None:
            continue
        # 倍 states a ratio on purpose; a bare "1" is how a forgotten unit usually looks.
        if param.unit == DIMENSIONLESS and param.unit_text != "倍":
            issues.append(
                LintIssue(
                    file, line, name, f"参数没有量纲（单位“{param.unit_text}”）：请确认不是漏写了“元/人/年”之类的单位"
                )
            )
        for message in _period_issues(param):
            issues.append(LintIssue(file, line, name, message))
        if param.source is None:
            issues.append(LintIssue(file, line, name, "参数没有写依据（source）"))
    seen: dict[tuple, str] = {}
    for rule in ruleset.rules:
        for field, label in (
            ("description", "为什么检查（description）"),
            ("fix", "如何改正（fix）"),
            ("example", "不合规示例（example）"),
        ):
            if not getattr(rule, field):
                issues.append(LintIssue(rule.file, rule.line, rule.id, f"缺少{label}"))
        if not rule.source.clause:
            issues.append(LintIssue(rule.file, rule.line, rule.id, "政策依据没有写条款（source.clause）"))
        for message in rule.check.lint(rule):
            issues.append(LintIssue(rule.file, rule.line, rule.id, message))
        signature = (
            rule.subject,
            rule.where,
            rule.check.signature(),
            tuple((i.name, i.kind, i.field, i.of, i.over, i.fields, i.scope) for i in rule.inputs),
        )
        if signature in seen:
            issues.append(LintIssue(rule.file, rule.line, rule.id, f"检查条件与 {seen[signature]} 完全相同"))
        else:
            seen[signature] = rule.id
    return sorted(issues, key=lambda i: (i.file, i.line, i.subject, i.message))
