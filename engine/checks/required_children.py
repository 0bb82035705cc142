"""Children the subject must have: ``check: {required_children: {kind: 指标, field: 指标类别, values: [...]}}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.findings import Finding
    from hegui.engine.rules import Rule

_SPEC_KEYS = {"kind": "下级对象类别", "field": "下级对象字段", "values": "必须出现的取值"}


@dataclass(frozen=True)
class RequiredChildrenCheck(CheckKind):
    """The subject must have, for each listed value, a child of the given kind whose text
    field has that value (e.g. a 数量指标, a 质量指标… among a project's indicators).

    YAML: ``check: {required_children: {kind: 指标, field: 指标类别, values: [数量指标, 质量指标]}}``.
    One finding per subject and missing value.
    """

    keyword = "required_children"
    name = "required_children"
    keys: ClassVar[dict[str, str]] = {"required_children": "必须具备的下级对象", **_SPEC_KEYS}

    kind: str
    field: str
    values: tuple[str, ...]

    @classmethod
    def parse(cls, section: CheckSection) -> RequiredChildrenCheck:
        reader, check = section.reader, section.value
        path = "check.required_children"
        spec = reader.mapping(check["required_children"], check.value_marks.get("required_children"), path)
        if spec is None:
            return cls("", "", ())
        reader.check_keys(spec, _SPEC_KEYS, path)
        child_kind = reader.text(spec, "kind", path)
        child_field = reader.text(spec, "field", path)
        if child_kind and child_field:
            reader.field_ok(child_kind, child_field, "text", spec.value_marks.get("field"), f"{path}.field")
        values = reader.text_list(spec.get("values"), spec.value_marks.get("values", spec.mark), f"{path}.values")
        return cls(child_kind, child_field, values)

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p = rc.p
        for index, value in enumerate(self.values):
            subject = p.var()
            # The few subjects lacking the value, found once with the subject free (a precomputed
            # fact), then tested for the rule's subject and conditions: the negation of the child's
            # text after the subject was a subgoal per subject and value.
            absent = [rc.lacks_child(subject, self.kind, self.field, value), *rc.subject_body(subject)]
            # A table cut off part-way may hold the child in the part that is not in the file.
            partial = p.lit("unreadable_field", subject, p.const(self.kind))
            rc.violation(rc.head(subject, index, p.const(value), p.const(""), []), [*absent, p.neg(partial)])
            # A cut-off table is rare: asked first, with the subject free, one lookup shared by
            # every value ends the clause for a filing that has none.
            rc.cannot(subject, value, [partial, *absent])
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
        label = fb.prov.item_of.get(subject, subject)
        message = (
            fb.fill(rule, {"对象": label, "实际": "缺少", "期望": actual})
            or f"缺少{self.field}为“{actual}”的{self.kind}"
        )
        return fb.fail(
            rule,
            subject,
            leg,
            message=message,
            expected=f"有“{actual}”",
            actual="缺少",
            evidence=(fb.evidence(self.field, f"无“{actual}”", fb.location(subject)[0], ""),),
        )

    def cannot_message(self, fb: FindingBuilder, rule: Rule, subject: str, what: str) -> str | None:
        table = fb.prov.table_of.get(str(subject), "")
        note = fb.prov.cut_off.get(str(subject)) or fb.prov.cut_off.get(table) or "表格没有读全"
        return f"无法核实“{rule.title}”：未见“{what}”，但{note}"

    def describe(self) -> str:
        return f"必须具备{self.field}为以下各项的{self.kind}：" + "、".join(self.values)
