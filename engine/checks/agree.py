"""Counts of the same thing must agree: ``check: {agree: 对象计数}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot
from hegui.facts.units import format_decimal

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.explain import Explainer
    from hegui.engine.findings import Finding
    from hegui.engine.rules import Rule

_AGREEMENTS = ("对象计数",)


@dataclass(frozen=True)
class AgreeCheck(CheckKind):
    """Wherever the filing states how many of one kind of thing there are (行政村, 驻村工作队…),
    the numbers must be the same.

    YAML: ``check: {agree: 对象计数}`` (the only agreement so far). One finding per kind of
    thing and pair of different numbers, citing both sentences.
    """

    keyword = "agree"
    name = "agree"
    keys: ClassVar[dict[str, str]] = {"agree": "一致的计数"}

    on: str

    @classmethod
    def parse(cls, section: CheckSection) -> AgreeCheck:
        reader, check = section.reader, section.value
        agree_on = reader.text(check, "agree", "check")
        if agree_on not in _AGREEMENTS:
            reader.problem(
                check.value_marks.get("agree"), "check.agree", f"未知的一致性检查“{agree_on}”", "、".join(_AGREEMENTS)
            )
        return cls(agree_on)

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p = rc.p

        # The different numbers stated for one object are paired beside the facts, once per
        # filing (one precomputed fact per pair); only a pair that disagrees looks for the
        # sentences that state it. The engine joined each object's numbers with each other and
        # compared them, a subgoal per object.
        c1, c2, kind, n1, n2 = p.var(), p.var(), p.var(), p.var(), p.var()
        body = [
            p.lit("in_jurisdiction", rc.rule.jurisdiction),
            rc.disagree("对象", "数量", kind, n1, n2),
            rc.text_number(c1, "对象", kind, "数量", n1),
            rc.text_number(c2, "对象", kind, "数量", n2),
        ]
        rc.violation(rc.head(kind, 0, n1, n2, [c1, c2]), body)
        return [WitnessSlot("较少", "origin"), WitnessSlot("较多", "origin")]

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
        first, second = witness
        ev = tuple(
            fb.evidence(
                f"{fb.prov.table_of.get(c, '')}",
                fb.prov.item_of.get(c, ""),
                fb.location(c)[0],
                fb.prov.item_of.get(c, ""),
            )
            for c in (first, second)
        )
        where = fb.location(first)
        shown_a, shown_b = format_decimal(actual), format_decimal(expected)
        message = fb.fill(rule, {"对象": subject, "实际": shown_a, "期望": shown_b}) or (
            f"{subject}的数量前后不一致：{ev[0].name}（{fb.place(first)}）写作“{ev[0].value}”，{ev[1].name}（{fb.place(second)}）写作“{ev[1].value}”"
        )
        # One finding per entity kind and pair of values, whichever sentences stated them.
        return fb.fail(
            rule,
            first,
            0,
            key=f"{subject}:{shown_a}:{shown_b}",
            where=where,
            item_override=subject,
            witness=witness,
            raw_actual=actual,
            raw_expected=expected,
            message=message,
            expected=shown_b,
            actual=shown_a,
            evidence=ev,
        )

    def explain_finding(self, ex_: Explainer, rule: Rule, finding: Finding) -> dict[str, Any]:
        return {
            "inputs": [
                {
                    "name": f"{ex_.facts.prov.table_of.get(c, '')}写出的数量",
                    "value": ex_.facts.prov.item_of.get(c, ""),
                    "location": ex_.facts.where(c),
                    "text": ex_.facts.raw(c, "原文"),
                }
                for c in finding.witness
            ],
            "comparison": {
                "expression": "同一对象的数量应处处相同",
                "actual": finding.actual,
                "op": "=",
                "expected": finding.expected.removeprefix("= "),
                "holds": False,
                "statement": f"{finding.actual} ≠ {finding.expected}：不一致",
            },
        }

    def describe(self) -> str:
        return "同一对象在各处写出的数量必须一致"
