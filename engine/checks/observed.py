"""What a reviewer sees in the words: ``check: {observed: 口号式取值}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot
from hegui.facts.vocabulary import FILING

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.findings import Finding

#: Every code :mod:`hegui.facts.review` reports, so a misspelt code is a load error, not a
#: rule that silently never fires.
CODES = (
    "指标值空白",
    "口号式取值",
    "无数字",
    "绩效标准不在允许范围",
    "数量写成百分比",
    "百分比指标名称不是比率",
    "百分百下限",
    "比率方向写反",
    "单位不符",
    "投入作产出",
    "成本比较符",
    "一格多值",
    "按月发放只写年末",
    "不适用作指标",
    "单位笔误",
    "量词笔误",
    "占位符",
    "句首标点",
    "重复短语",
    "多项费用一个金额",
    "引用标题残缺",
    "文号无标题",
    "标题无文号",
    "同一文件两种引法",
    "负责人未签字",
    "金额栏空白",
    "效益指标雷同",
    "目标数量无指标",
    "实施期与年度目标相同",
    "目标无数字",
    "重点工作未覆盖",
    "支出无目标指标",
)


@dataclass(frozen=True)
class ObservedCheck(CheckKind):
    """The subject must not show a pattern a reviewer marks in the text (``observed`` facts,
    read from the filing by :mod:`hegui.facts.review` with the word lists of
    ``facts/review-terms.yaml``): a slogan value, a unit typo, a citation with no 文号 ….

    YAML: ``check: {observed: 口号式取值}``, optionally ``in: [指标值]`` to keep only some
    fields. One finding per subject, field and quoted text; ``{实际}`` in the message is the
    filing's own words, ``{期望}`` what would satisfy the rule.
    """

    keyword = "observed"
    name = "observed"
    keys: ClassVar[dict[str, str]] = {"observed": "审核用语检查的问题类别", "in": "检查的字段"}

    code: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, section: CheckSection) -> ObservedCheck:
        reader, check = section.reader, section.value
        code = reader.text(check, "observed", "check.observed")
        if code and code not in CODES:
            reader.problem(
                check.value_marks.get("observed"),
                "check.observed",
                f"未知的问题类别“{code}”",
                "、".join(CODES),
                reader.suggest(code, CODES),
            )
        fields = reader.text_list(check["in"], check.value_marks.get("in"), "check.in") if "in" in check else ()
        return cls(code, fields)

    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p = rc.p
        subject, fname, seen, want = p.var(), p.var(), p.var(), p.var()
        # A rule on the whole filing (subject 申报) reports the pattern wherever it is, in any
        # table kind; otherwise only on the subject itself, so where-conditions apply.
        entity = p.var() if rc.rule.subject == FILING else subject
        if entity is subject:
            body = rc.observed(subject, fname, self.code, seen, want)
        else:
            body = [*rc.subject_body(subject), p.lit("observed", entity, fname, self.code, seen, want)]
        if self.fields:
            allowed = p.predicate("field")
            f = p.var()
            for name in self.fields:
                p.clause(allowed, [f], [p.cmp(f, "==", p.const(name))])
            body.append(p.lit(allowed, fname))
        rc.violation(rc.head(subject, 0, seen, want, [fname, entity]), body)
        return [WitnessSlot("字段", "origin"), WitnessSlot("对象", "origin")]

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
        field_name = str(witness[0])
        subject = str(witness[1])
        where = fb.location(subject, field_name)
        seen, want = str(actual), str(expected)
        message = ""
        if rule.message:
            label = fb.prov.item_of.get(subject, subject)
            message = fb.fill(
                rule, {"对象": label, "实际": seen, "期望": want, "表": fb.prov.table_of.get(subject, "")}
            )
        # One finding per quoted text: a cell with two typos gets two findings, a re-run the same ids.
        return fb.fail(
            rule,
            subject,
            0,
            key=f"{subject}|{field_name}|{seen}",
            where=where,
            message=message or f"{field_name}：{seen}（应：{want}）",
            expected=want,
            actual=seen,
            evidence=(
                fb.evidence(field_name, seen, where[0], fb.prov.raw_text.get((subject, field_name), "").strip()),
            ),
        )

    def describe(self) -> str:
        where = f"（字段：{'、'.join(self.fields)}）" if self.fields else ""
        return f"不得出现审核用语检查“{self.code}”所指的问题{where}；词表见 facts/review-terms.yaml"
