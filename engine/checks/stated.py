"""A rate the filing states itself, falling back to the policy rate: ``{stated: 交通费, unit: 元/人/月}``.

Reviewers check an amount against the rate the filing itself declares (rate × count = amount is
provable from the filing alone) and compare that declared rate with the policy separately. A
rule that only knew the policy rate would, for a filing that writes 200元/人/月, silently
compute with 2000元/人/月 and quote the policy as if the filing said it. This input reads the
declared rate; with ``default: 参数名`` it uses the pack parameter only when the filing states
no such rate, and the finding's evidence says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hegui.engine.checks.inputs import INPUT_KINDS, SCOPES, Input, InputKind, InputSpec
from hegui.facts.units import Unit, UnitError, format_decimal, format_money, parse_unit

if TYPE_CHECKING:
    from hegui.engine.compiler import RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.explain import Explainer


@dataclass(frozen=True)
class StatedSpec:
    """What a ``stated`` input looks for, kept apart from :class:`Input` so that class stays unchanged."""

    needles: tuple[str, ...]
    per: str  # the 计量单位 the rate must be written per (人/月), from the unit after the money part
    default: str  # parameter name used when the filing states no such rate ("" = none: not applicable)


class StatedInput(InputKind):
    """A rate the filing states in its text (a 费率 such as “按2000元/人/月落实交通费”):
    ``{stated: 交通费, unit: 元/人/月, scope: 本表, default: 驻村交通费标准}``.

    ``stated`` is a word (or list of words) the rate's 名称 must contain; ``unit`` is required
    and the rate must be written per the same units (元/人/月 takes only rates per 人/月);
    ``scope`` is 本行, 本表 (default) or 全文. With ``default`` the pack parameter of that name is
    used when the filing states no such rate; without it a rule using the input does not apply
    to a filing that states none.
    """

    keyword = "stated"
    missing_is_cannot = False

    def parse(self, spec: InputSpec) -> Input | None:
        reader, node, path = spec.reader, spec.spec, spec.path
        needles = tuple(
            re.sub(r"\s+", "", n)
            for n in reader.text_list(node["stated"], node.value_marks.get("stated"), f"{path}.stated")
        )
        scope = reader.text(node, "scope", path, required=False) or "本表"
        if scope not in SCOPES:
            reader.problem(node.value_marks.get("scope"), f"{path}.scope", f"未知的范围“{scope}”", "、".join(SCOPES))
        if not spec.unit_text:
            reader.problem(node.mark, f"{path}.unit", "写明的标准须注明单位", "如 unit: 元/人/月")
            return None
        try:
            _, unit = parse_unit(spec.unit_text)
        except UnitError as exc:
            reader.problem(node.value_marks.get("unit"), f"{path}.unit", str(exc))
            return None
        if not spec.unit_text.partition("/")[2]:
            reader.problem(node.value_marks.get("unit"), f"{path}.unit", "标准的单位应带“/”，如 元/人/月")
            return None
        default = reader.text(node, "default", path, required=False)
        return Input(
            spec.name,
            "stated",
            field="|".join(needles) + ("#" + default if default else ""),
            scope=scope,
            unit=unit,
            unit_text=spec.unit_text,
        )

    @staticmethod
    def spec(inp: Input) -> StatedSpec:
        words, _, default = inp.field.partition("#")
        return StatedSpec(tuple(words.split("|")), inp.unit_text.partition("/")[2], default)

    def fallback_parameter(self, inp: Input) -> str:
        return self.spec(inp).default

    def describe(self, inp: Input) -> str:
        s = self.spec(inp)
        text = f"{inp.scope}中写明的“{'、'.join(s.needles)}”标准（{inp.unit_text}）"
        return text + (f"；未写明时按参数“{s.default}”" if s.default else "")

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        p = rc.p
        s = self.spec(inp)
        stated = p.predicate("stated")
        chosen = p.predicate("chosen")
        subj, claim, value = p.var(), p.var(), p.var()
        # A rate for an annual budget may omit the year: “每个村3万元” is 万元/村 for 万元/村/年.
        pers = tuple(per for per in dict.fromkeys((s.per, s.per.removesuffix("/年"))) if per)
        # The rates named so, of the unit, with a price, are joined with the scopes they are
        # stated within beside the facts, once per filing (hegui.engine.compiler.claim_facts):
        # the engine found them and tested each for the subject's scope, per subject.
        p.clause(
            stated,
            [subj, claim, value],
            [
                *rc.stated_of(subj, s.needles, pers, inp.scope, value, claim),
                p.lit("entity", subj, rc.rule.subject),
            ],
        )
        p.clause(chosen, [subj, value, claim], [p.lit(stated, subj, claim, value)])
        if s.default:
            any_stated = p.predicate("any_stated")
            p.clause(any_stated, [subj], [p.lit(stated, subj, claim, value)])
            key = f"{rc.rule.pack}:{s.default}"
            p.clause(
                chosen,
                [subj, value, p.const(key)],
                [p.lit("entity", subj, rc.rule.subject), p.neg(p.lit(any_stated, subj)), p.lit("param", key, value)],
            )
        out_value, origin = p.var(), p.var()
        return out_value, origin, [p.lit(chosen, subject, out_value, origin)]

    def evidence_field(self, inp: Input) -> str | None:
        return "原文"

    def evidence_text(self, fb: FindingBuilder, inp: Input, origin: str, field: str | None) -> str:
        param = fb.checker.ruleset.parameters.get(origin)
        if param is not None:
            # The nearest jurisdiction's parameter of that name decided the value: cite that one.
            param, _ = fb.decided(param)
            return f"申报未写明该标准，按政策参数：{param.source or param.name}（规则包 {param.key.split(':', 1)[0]}）"
        return _sentence(fb.prov.raw_text, origin)

    def explain_field(self, inp: Input) -> str | None:
        return "原文"

    def explain(self, ex_: Explainer, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        shown = ex_.show.value(value, inp.unit) if isinstance(value, Decimal) else str(value)
        param = ex_.checker.ruleset.parameters.get(str(origin))
        if param is not None:
            param, _ = ex_.checker.resolve(param, ex_.result.filing.year, ex_.result.jurisdiction)
            return {
                "name": inp.name,
                "value": shown,
                "location": f"规则包参数 {param.key}",
                "text": f"申报未写明该标准，按政策参数：{param.source or param.name}（规则包 {param.key.split(':', 1)[0]}）",
                "how": self.describe(inp),
            }
        return {
            "name": inp.name,
            "value": shown,
            "location": ex_.facts.where(str(origin), "原文"),
            "text": _sentence(ex_.facts.prov.raw_text, str(origin)),
            "how": self.describe(inp),
        }


def show_rate(value: Decimal, unit: Unit, filing_unit: str) -> str | None:
    """A rate as filings write it (2000元/人/月, 3.00万元/村/年), or None when ``unit`` is not a
    rate (no money, or money per year only, which reads best in the filing's unit)."""
    per = rate_suffix(unit)
    return None if per is None else rate_amount(value, filing_unit) + per


def rate_suffix(unit: Unit) -> str | None:
    """What a rate of ``unit`` is written per (``/人/月``), or None when ``unit`` is not a rate
    (see :func:`show_rate`): it depends on the unit alone, so findings work it out once."""
    per = [d for d, e in unit.dims if e < 0]
    if unit.money != 1 or not per or dict(unit.dims) == {"年": -1} or any(e > 0 for _d, e in unit.dims):
        return None
    per.sort(key=lambda d: (d in ("年", "月", "日"), d))
    return "".join(f"/{d}" for d in per)


def rate_amount(value: Decimal, filing_unit: str) -> str:
    """The money part of a rate: in the filing's unit from 1万 up, else in 元."""
    return format_money(value, filing_unit) if abs(value) >= 10000 else f"{format_decimal(value)}元"


def _sentence(raw_text: dict[tuple[str, str], str], claim: str) -> str:
    """The filing's own words around a stated rate: the sentence it was read from."""
    owner, _, rest = claim.rpartition("/")
    text = raw_text.get((owner, rest.split("#")[0]), "") if owner else ""
    rate = raw_text.get((claim, "原文"), "")
    if not text:
        return rate
    for sentence in re.split(r"(?<=[。；;！!？?])", text):
        if rate and rate in sentence:
            return sentence.strip()
    return rate


INPUT_KINDS[StatedInput.keyword] = StatedInput()
