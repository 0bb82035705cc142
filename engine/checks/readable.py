"""Every cell must be readable: ``check: {readable: true}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot
from hegui.facts.vocabulary import FILING

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.findings import Finding


@dataclass(frozen=True)
class ReadableCheck(CheckKind):
    """Every cell of the filing must have a value the reader can read (a spreadsheet
    formula saved without its computed value cannot be checked).

    YAML: ``check: {readable: true}``, with ``subject: 申报``. One finding per unreadable cell.
    """

    keyword = "readable"
    name = "readable"
    keys: ClassVar[dict[str, str]] = {"readable": "单元格可读"}

    @classmethod
    def parse(cls, section: CheckSection) -> ReadableCheck:
        reader, check = section.reader, section.value
        if check["readable"] is not True:
            reader.problem(check.value_marks.get("readable"), "check.readable", "应写 true", "true")
        if section.subject and section.subject != FILING:
            reader.problem(section.rule_node.value_marks.get("subject"), "subject", "readable 检查针对整份申报", FILING)
        return cls()

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p = rc.p
        where, why = p.var(), p.var()
        rc.violation(
            rc.head(where, 0, why, p.const(""), []),
            [p.lit("in_jurisdiction", rc.rule.jurisdiction), p.lit("unreadable", where, why)],
        )
        return []

    def finding(
        self,
        fb: FindingBuilder,
        compiled: CompiledRule,
        subject: str,
        leg: int,
        actual: Any,
        expected: Any,
        witness: tuple,
    ) -> Finding:
        rule = compiled.rule
        message = (
            fb.fill(rule, {"对象": fb.prov.item_of.get(subject, ""), "实际": actual, "期望": "可读的值"})
            or f"读不出值：{actual}"
        )
        return fb.fail(
            rule,
            subject,
            leg,
            message=message,
            expected="可读的值",
            actual=actual,
            evidence=(fb.evidence("单元格", actual, subject, ""),),
        )

    def describe(self) -> str:
        return "每个单元格的值都必须可读"
