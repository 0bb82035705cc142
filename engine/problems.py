"""Rule-file problems and the error that lists them.

Kept apart from :mod:`hegui.engine.rules` (which imports the check kinds, the fact
vocabulary and the YAML reader) so that a command can catch :class:`RuleLoadError`
without paying for loading the rule machinery it may never use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleProblem:
    """One breadcrumb: where a rule file is wrong and what would be right."""

    file: str
    line: int
    column: int
    rule_id: str
    key_path: str
    message: str
    expected: str = ""
    suggestion: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        parts = [where]
        if self.rule_id:
            parts.append(f"规则 {self.rule_id}")
        if self.key_path:
            parts.append(f"键 {self.key_path}")
        text = "：".join([" › ".join(parts), self.message])
        if self.expected:
            text += f"；应为：{self.expected}"
        if self.suggestion:
            text += f"；您是不是想写“{self.suggestion}”？"
        return text


class RuleLoadError(Exception):
    """One or more rule files are invalid; ``problems`` lists every breadcrumb."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
