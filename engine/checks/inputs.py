"""Input kinds: where a rule's named input is read from, one class per way of reading.

A rule's ``inputs:`` names values its check uses: a field of the subject (``{amount: 金额}``),
a sum over child rows (``{sum: 金额, over: 明细}``), a count stated in the text
(``{count: 行政村, scope: 全文}``), the budget year, or a jurisdiction's reference data. Each way
is an :class:`InputKind`; an :class:`Input` names its kind by the YAML keyword
(``Input.kind``) and reaches the behaviour through :attr:`Input.input_kind`, so the
compiler, the findings and the explanations call methods instead of comparing keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hegui.engine import expr as ex
from hegui.facts.claims import load_lexicon
from hegui.facts.units import DIMENSIONLESS, KNOWN_DIMENSIONS, Unit, UnitError, parse_unit
from hegui.facts.vocabulary import ENTITY_KINDS, FILING, TABLE_KINDS, WHOLE

if TYPE_CHECKING:
    from hegui.engine.checks.base import Reader
    from hegui.engine.compiler import RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.explain import Explainer
    from hegui.engine.strictyaml import Located

# Units the facts carry. Amounts read from a filing are budgets for its year: 元/年.
BUDGET = Unit(1, (("年", -1),))
#: Where a count input looks for the stated number: the subject's line, its table, the whole filing.
SCOPES = ("本行", "本表", WHOLE)


@dataclass(frozen=True)
class Input:
    """A named value the check uses, read from the facts."""

    name: str
    kind: str  # the YAML keyword of its input kind: amount | number | text | sum | count | year | reference
    field: str = ""
    of: str = ""  # relation to follow from the subject ("" = the subject itself)
    over: str = ""  # for sums over entities: their kind
    fields: tuple[str, ...] = ()  # for sums of several fields of one entity
    scope: str = ""  # for counts
    unit: Unit = DIMENSIONLESS
    unit_text: str = ""
    numeric: bool = False  # sums of number fields (人数) rather than amounts
    name_contains: tuple[str, ...] = ()  # sums only over entities whose 名称 contains one of these

    @property
    def input_kind(self) -> InputKind:
        """The behaviour of this input's kind."""
        return INPUT_KINDS[self.kind]


@dataclass(frozen=True)
class InputSpec:
    """One ``inputs:`` entry being loaded, with what the loader already resolved."""

    reader: Reader
    name: str
    spec: Located
    path: str  # key path, e.g. ``inputs.金额``
    subject: str
    of: str  # the ``of:`` relation as written ("" if none)
    target: str | None  # the entity kind ``of`` leads to (None: unknown or resolved at run time)
    unit_text: str

    def unit_or(self, default: Unit) -> Unit:
        """The written ``unit:`` parsed, or ``default`` (with a problem when it does not parse)."""
        if not self.unit_text:
            return default
        try:
            return parse_unit(self.unit_text)[1]
        except UnitError as exc:
            self.reader.problem(self.spec.value_marks.get("unit"), f"{self.path}.unit", str(exc))
            return default


class InputKind:
    """One way of reading an input. Subclasses override what differs; the defaults read nothing."""

    keyword: str = ""
    #: whether the value is text (compared only with = and ≠, never within a tolerance)
    is_text: bool = False
    #: whether a subject without this input is reported as "cannot verify" (else the rule does
    #: not apply there, as with a parameter outside its period)
    missing_is_cannot: bool = True

    def parse(self, spec: InputSpec) -> Input | None:
        """The input for ``spec``, or None after reporting its problems."""
        raise NotImplementedError

    def describe(self, inp: Input) -> str:
        """Where the input is read from, in words (catalogue, cannot-verify messages, explanations)."""
        raise NotImplementedError

    # -- compiling ----------------------------------------------------------------------------------
    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        """(value term, origin term, literals) that read ``inp`` for ``subject``."""
        raise NotImplementedError

    def unverifiable(self, rc: RuleCompiler, inp: Input, subject: Any) -> Any | None:
        """A literal true for ``subject`` when the value exists but cannot be trusted (asked with the
        subject bound or free), or None when values of this kind always can."""
        return None

    def defined(self, rc: RuleCompiler, inp: Input) -> list[Any]:
        """Literals that must hold for the rule to apply at all (e.g. reference data exists)."""
        return []

    # -- findings -----------------------------------------------------------------------------------
    def evidence_field(self, inp: Input) -> str | None:
        """The field whose source location a finding cites for this input's value."""
        return "年度"

    def evidence_text(self, fb: FindingBuilder, inp: Input, origin: str, field: str | None) -> str:
        """The original text the value was read from."""
        return fb.prov.raw_text.get((origin, field), "") if field is not None else ""

    def blank_cell(self, fb: FindingBuilder, inp: Input, subject: str) -> str | None:
        """The entity whose cell for this input exists but is blank, when that is why it is missing."""
        return None

    # -- explanations -------------------------------------------------------------------------------
    def explain_field(self, inp: Input) -> str | None:
        """The field an explanation cites for the value (None: the entity itself)."""
        return None

    def explain(self, ex_: Explainer, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        """The explanation node of the input: value as shown, location, original text."""
        shown = ex_.show.value(value, inp.unit) if isinstance(value, Decimal) else str(value)
        field = self.explain_field(inp)
        node: dict[str, Any] = {"name": inp.name, "value": shown, "location": ex_.facts.where(str(origin), field)}
        text = ex_.facts.raw(str(origin), field) if field else ""
        if text:
            node["text"] = text
        return node

    def fallback_parameter(self, inp: Input) -> str:
        """The pack parameter the input falls back to when the filing states no value ("" = none)."""
        return ""

    def not_applied(self, ex_: Explainer, inp: Input) -> str:
        """Why a rule using this input does not apply to the filing, or ""."""
        return ""


class FieldInput(InputKind):
    """A field of the subject or of a related entity: ``{amount: 金额}``, ``{number: 指标数值,
    unit: "%"}``, ``{text: 名称}``, each with an optional ``of: 所属表`` relation."""

    def __init__(self, keyword: str, unit: Unit, *, unit_written: bool = False, is_text: bool = False) -> None:
        self.keyword = keyword  # also the fact predicate the value is read from
        self.unit = unit  # the unit values of this kind carry
        self.unit_written = unit_written  # the rule states the unit (``unit: "%"``)
        self.is_text = is_text

    def parse(self, spec: InputSpec) -> Input | None:
        reader, kind = spec.reader, self.keyword
        fname = reader.text(spec.spec, kind, spec.path)
        reader.field_ok(spec.target, fname, kind, spec.spec.value_marks.get(kind), f"{spec.path}.{kind}")
        unit = spec.unit_or(self.unit) if self.unit_written else self.unit
        return Input(spec.name, kind, field=fname, of=spec.of, unit=unit, unit_text=spec.unit_text)

    def describe(self, inp: Input) -> str:
        return inp.field + (f"（{inp.of}）" if inp.of else "")

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        value = rc.p.var()
        origin, literals = rc.field_read(subject, inp.of, self.keyword, inp.field, value)
        return value, origin, literals

    def evidence_field(self, inp: Input) -> str | None:
        return inp.field

    def blank_cell(self, fb: FindingBuilder, inp: Input, subject: str) -> str | None:
        target = fb.prov.follow(subject, inp.of)
        if target is not None and (target, inp.field) in fb.prov.value_source:
            return target
        return None

    def explain_field(self, inp: Input) -> str | None:
        return inp.field


class SumInput(InputKind):
    """The sum of amount (or number) fields: ``{sum: 金额, over: 明细}`` adds a field over the
    subject's children of a kind (or every entity of a table kind); ``{sum: [字段1, 字段2]}``
    adds fields of the subject itself; ``name_contains: [...]`` keeps only children whose 名称
    contains one of the words. A sum with an unreadable addend cannot be verified."""

    keyword = "sum"

    def parse(self, spec: InputSpec) -> Input | None:
        reader, node, path = spec.reader, spec.spec, spec.path
        over = reader.text(node, "over", path, required=False)
        fields = reader.text_list(node["sum"], node.value_marks.get("sum"), f"{path}.sum")
        if over and over not in ENTITY_KINDS:
            reader.problem(
                node.value_marks.get("over"),
                f"{path}.over",
                f"未知的对象类别“{over}”",
                "、".join(ENTITY_KINDS),
                reader.suggest(over, ENTITY_KINDS),
            )
            return None
        if spec.of:
            reader.problem(node.key_marks.get("of"), f"{path}.of", "求和输入不能与 of 同用：用 over 指明对哪类对象求和")
        owner = over or spec.subject
        numeric = bool(fields) and all(f in reader.fields(owner, "number") for f in fields)
        for fname in fields:
            reader.field_ok(owner, fname, "number" if numeric else "amount", node.value_marks.get("sum"), f"{path}.sum")
        name_contains = (
            reader.text_list(node["name_contains"], node.value_marks.get("name_contains"), f"{path}.name_contains")
            if "name_contains" in node
            else ()
        )
        if name_contains and "名称" not in reader.fields(owner, "text"):
            reader.problem(
                node.key_marks.get("name_contains"),
                f"{path}.name_contains",
                f"“{owner}”没有“名称”字段，不能按名称筛选",
            )
        unit = spec.unit_or(Unit()) if numeric else BUDGET
        return Input(
            spec.name,
            "sum",
            over=over,
            fields=fields,
            unit=unit,
            unit_text=spec.unit_text,
            numeric=numeric,
            name_contains=tuple(re.sub(r"\s+", "", n) for n in name_contains),
        )

    def describe(self, inp: Input) -> str:
        return f"{'、'.join(inp.fields)}之和" + (f"（各{inp.over}）" if inp.over else "")

    def unverifiable(self, rc: RuleCompiler, inp: Input, subject: Any) -> Any | None:
        """True for subjects where one addend could not be read: adding only the readable parts
        would read the unreadable one as zero."""
        return rc.blocked(subject, inp)

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        # Added up beside the facts, once per filing (hegui.engine.compiler.sum_facts): the
        # engine's aggregate was a subgoal for the sum, its parts and each child lookup, asked
        # per subject.
        value = rc.p.var()
        return value, subject, [rc.sum_of(subject, inp, value)]

    def evidence_field(self, inp: Input) -> str | None:
        return None

    def explain(self, ex_: Explainer, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        node = super().explain(ex_, inp, value, origin, subject)
        node["parts"] = self._parts(ex_, inp, subject)
        node["how"] = self.describe(inp)
        node["location"] = ex_.facts.where(subject)
        return node

    @staticmethod
    def _parts(ex_: Explainer, inp: Input, subject: str) -> list[dict[str, str]]:
        """Every addend with its value and cell, unreadable ones included."""
        facts = ex_.facts
        if inp.over in TABLE_KINDS:
            owners = sorted(e for e, k in facts.kind.items() if k == inp.over)
        elif inp.over:
            owners = [e for e in facts.children.get(subject, []) if facts.kind.get(e) == inp.over]
        else:
            owners = [subject]
        parts = []
        table = facts.amount if not inp.numeric else facts.number
        for owner in owners:
            if inp.name_contains and not any(n in facts.text.get((owner, "名称"), "") for n in inp.name_contains):
                continue
            for field in inp.fields:
                if (owner, field) in table:
                    parts.append(
                        {
                            "name": f"{facts.prov.item_of.get(owner, owner)}·{field}",
                            "value": ex_.show.value(table[(owner, field)], inp.unit),
                            "location": facts.where(owner, field),
                            "text": facts.raw(owner, field),
                        }
                    )
                elif (owner, field) in facts.unreadable:
                    parts.append(
                        {
                            "name": f"{facts.prov.item_of.get(owner, owner)}·{field}",
                            "value": "（读不出）",
                            "location": facts.where(owner, field),
                            "text": "",
                        }
                    )
        return parts


def count_keys() -> dict[str, Unit]:
    """Entity kinds of the lexicon and plain counters, with the unit their counts carry."""
    keys = {d: Unit(0, ((d, 1),)) for d in KNOWN_DIMENSIONS if d != "%"}
    for kind in load_lexicon().kinds.values():
        try:
            keys[kind.name] = parse_unit(kind.unit)[1]
        except UnitError:
            keys[kind.name] = Unit()
    return keys


class CountInput(InputKind):
    """A count stated in the text: ``{count: 行政村, scope: 全文}`` reads “全区共有行政村25个”;
    ``scope`` is 本行, 本表 (default) or 全文; the key is an entity kind of
    ``facts/entities.yaml`` or a plain counter, and gives the count its unit."""

    keyword = "count"

    def parse(self, spec: InputSpec) -> Input | None:
        reader, node, path = spec.reader, spec.spec, spec.path
        lexicon = count_keys()
        key = reader.text(node, "count", path)
        scope = reader.text(node, "scope", path, required=False) or "本表"
        if scope not in SCOPES:
            reader.problem(
                node.value_marks.get("scope"),
                f"{path}.scope",
                f"未知的计数范围“{scope}”",
                "、".join(SCOPES),
                reader.suggest(scope, SCOPES),
            )
        if key and key not in lexicon:
            reader.problem(
                node.value_marks.get("count"),
                f"{path}.count",
                f"未知的计数对象或量词“{key}”",
                "facts/entities.yaml 中的对象类别或量词",
                reader.suggest(key, lexicon),
            )
            return None
        return Input(spec.name, "count", field=key, scope=scope, unit=lexicon.get(key, Unit()))

    def describe(self, inp: Input) -> str:
        return f"{inp.scope}中写明的“{inp.field}”数量"

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        # The counts of the key are joined with the scopes they are stated within beside the
        # facts, once per filing (hegui.engine.compiler.claim_facts): the engine looked up the
        # key's counts and tested each for the scope, per subject.
        value, claim = rc.p.var(), rc.p.var()
        return value, claim, rc.count_of(subject, inp.field, inp.scope, value, claim)

    def evidence_field(self, inp: Input) -> str | None:
        return "原文"

    def evidence_text(self, fb: FindingBuilder, inp: Input, origin: str, field: str | None) -> str:
        return fb.prov.item_of.get(origin, "")

    def explain_field(self, inp: Input) -> str | None:
        return "原文"

    def explain(self, ex_: Explainer, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        shown = ex_.show.value(value, inp.unit) if isinstance(value, Decimal) else str(value)
        node: dict[str, Any] = {"name": inp.name, "value": shown, "location": ex_.facts.where(str(origin), "原文")}
        # claim ids are "<owner>/<field>#n": show the sentence the count was read from
        owner, _, rest = str(origin).rpartition("/")
        sentence = ex_.facts.raw(owner, rest.split("#")[0]) if owner else ""
        node["text"] = sentence if len(sentence) <= 80 else sentence[:77] + "…"
        node["how"] = self.describe(inp)
        return node


class YearInput(InputKind):
    """The filing's budget year: ``{year: 预算年度}``."""

    keyword = "year"

    def parse(self, spec: InputSpec) -> Input | None:
        if spec.spec["year"] not in ("预算年度",):
            spec.reader.problem(
                spec.spec.value_marks.get("year"), f"{spec.path}.year", "year 只能取“预算年度”", "预算年度"
            )
        return Input(spec.name, "year", unit=Unit())

    def describe(self, inp: Input) -> str:
        return "预算年度"

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        value = rc.p.var()
        return value, FILING, [rc.p.lit("number", FILING, "年度", value)]

    def explain_field(self, inp: Input) -> str | None:
        return "年度"


class ReferenceInput(InputKind):
    """Reference data a jurisdiction plugin registers for the filing's district:
    ``{reference: 行政村, unit: 村}`` (the unit is required). Without the data for the
    filing's jurisdiction the rule does not apply, as with a parameter outside its period."""

    keyword = "reference"
    missing_is_cannot = False

    def parse(self, spec: InputSpec) -> Input | None:
        key = spec.reader.text(spec.spec, "reference", spec.path)
        unit = spec.unit_or(Unit())
        if not spec.unit_text:
            spec.reader.problem(spec.spec.mark, f"{spec.path}.unit", "地区参考数据须写明单位", "如 unit: 村")
        return Input(spec.name, "reference", field=key, unit=unit, unit_text=spec.unit_text)

    def describe(self, inp: Input) -> str:
        return f"地区参考数据“{inp.field}”"

    def body(self, rc: RuleCompiler, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        value = rc.p.var()
        return value, FILING, [rc.p.lit("reference", inp.field, value)]

    def defined(self, rc: RuleCompiler, inp: Input) -> list[Any]:
        return [rc.p.lit("hegui_reference_defined", inp.field)]

    def explain(self, ex_: Explainer, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        for name in ex_.result.jurisdiction:
            jurisdiction = ex_.checker.registry.jurisdictions.get(name)
            if jurisdiction is not None and inp.field in jurisdiction.facts:
                return {
                    "name": inp.name,
                    "value": ex_.show.value(value, inp.unit) if isinstance(value, Decimal) else str(value),
                    "location": f"{name}参考数据（插件 {jurisdiction.plugin}）",
                    "text": jurisdiction.source,
                    "how": self.describe(inp),
                }
        return super().explain(ex_, inp, value, origin, subject)

    def not_applied(self, ex_: Explainer, inp: Input) -> str:
        chain = ex_.result.jurisdiction
        if any(inp.field in getattr(ex_.checker.registry.jurisdictions.get(j), "facts", {}) for j in chain):
            return ""
        return f"{'、'.join(chain)}没有登记参考数据“{inp.field}”"


#: Every input kind by its YAML keyword; the order is the order errors list them in.
INPUT_KINDS: dict[str, InputKind] = {
    kind.keyword: kind
    for kind in (
        FieldInput("amount", BUDGET),
        FieldInput("number", DIMENSIONLESS, unit_written=True),
        FieldInput("text", ex.TEXT, is_text=True),
        SumInput(),
        CountInput(),
        YearInput(),
        ReferenceInput(),
    )
}
