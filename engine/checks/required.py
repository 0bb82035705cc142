"""Fields (or relations) the subject must have: ``check: {required: [资金总额, 部门名称]}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot
from hegui.facts.vocabulary import RELATIONS

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.findings import Finding


@dataclass(frozen=True)
class RequiredCheck(CheckKind):
    """Each named field of the subject must be filled (a blank cell is not zero), and each
    named relation (``对应附件3``, ``对应汇总行``…) must lead somewhere.

    YAML: ``check: {required: [名称, 项目金额]}`` — a field or relation name, or a list of them.
    One finding per subject and missing name, at the blank cell.
    """

    keyword = "required"
    name = "required"
    keys: ClassVar[dict[str, str]] = {"required": "必填字段"}

    fields: tuple[str, ...]

    @classmethod
    def parse(cls, section: CheckSection) -> RequiredCheck:
        reader, check, subject = section.reader, section.value, section.subject
        required = reader.text_list(check["required"], check.value_marks.get("required"), "check.required")
        for fname in required:
            if subject and fname not in reader.all_fields(subject) and fname not in RELATIONS:
                known = reader.all_fields(subject) + RELATIONS
                reader.problem(
                    check.value_marks.get("required"),
                    "check.required",
                    f"“{subject}”没有名为“{fname}”的字段或关系",
                    "、".join(known),
                    reader.suggest(fname, known),
                )
        return cls(required)

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        for index, name in enumerate(self.fields):
            rc.report_lacking("fail", index, name, rc.has_rel if name in RELATIONS else rc.has_field, name, [])
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
        where = fb.location(subject, actual)
        label = fb.prov.item_of.get(subject, subject)
        message = fb.fill(rule, {"对象": label, "实际": "未填写", "期望": actual}) or f"{actual}未填写"
        return fb.fail(
            rule,
            subject,
            leg,
            where=where,
            message=message,
            expected=f"填写{actual}",
            actual="未填写",
            evidence=(fb.evidence(actual, "（空白）", where[0], fb.prov.raw_text.get((subject, actual), "")),),
        )

    def describe(self) -> str:
        return "必须填写：" + "、".join(self.fields)
