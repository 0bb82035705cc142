"""Words a text field must not contain: ``check: {forbid_text: [...], in: [...]}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.findings import Finding


@dataclass(frozen=True)
class ForbidTextCheck(CheckKind):
    """The listed text fields of the subject must not contain any of the words (a plain
    substring test after removing white space; no regular expressions).

    YAML: ``check: {forbid_text: ["《关于》"], in: [年度绩效目标]}`` — a word or a list of
    words, and the text field(s) to search. One finding per field and word found.
    """

    keyword = "forbid_text"
    name = "text_absent"
    keys: ClassVar[dict[str, str]] = {"forbid_text": "禁止出现的文字", "in": "检查的字段"}

    words: tuple[str, ...]
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, section: CheckSection) -> ForbidTextCheck:
        reader, check, subject = section.reader, section.value, section.subject
        written = reader.text_list(check["forbid_text"], check.value_marks.get("forbid_text"), "check.forbid_text")
        words = tuple(re.sub(r"\s+", "", v) for v in written)
        fields = reader.text_list(check.get("in"), check.value_marks.get("in", check.mark), "check.in")
        for fname in fields:
            if subject and fname not in reader.fields(subject, "text"):
                reader.problem(
                    check.value_marks.get("in"),
                    "check.in",
                    f"“{subject}”没有名为“{fname}”的文字字段",
                    "、".join(reader.fields(subject, "text")),
                    reader.suggest(fname, reader.fields(subject, "text")),
                )
        return cls(words, fields)

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p = rc.p
        # One leg per field and word, so each occurrence is its own finding.
        pairs = [(fname, needle) for fname in self.fields for needle in self.words]
        for leg, (fname, needle) in enumerate(pairs):
            rc.look_for(fname, needle)
            subject = p.var()
            body = [*rc.subject_body(subject), p.lit("matches", subject, fname, needle)]
            rc.violation(rc.head(subject, leg, p.const(needle), p.const(""), [p.const(fname)]), body)
        return [WitnessSlot("字段", "origin")]

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
        field_name = witness[0]
        where = fb.location(subject, field_name)
        raw = fb.prov.raw_text.get((subject, field_name), "")
        message = (
            fb.fill(rule, {"对象": fb.prov.item_of.get(subject, subject), "实际": actual, "期望": ""})
            or f"{field_name}中出现“{actual}”"
        )
        return fb.fail(
            rule,
            subject,
            leg,
            where=where,
            message=message,
            expected=f"不含“{actual}”",
            actual=actual,
            evidence=(fb.evidence(field_name, actual, where[0], raw),),
        )

    def describe(self) -> str:
        return f"{'、'.join(self.fields)}中不得出现：" + "、".join(f"“{t}”" for t in self.words)
