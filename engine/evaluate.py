"""Check filings against a compiled rule set and turn engine answers into findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from hegui.engine import expr as ex
from hegui.engine.compiler import EVALUATED, OUTCOME, OUTCOME_ARITY, CompiledRule, compile_rules
from hegui.engine.explain import explain_finding
from hegui.engine.findings import STATUS_CANNOT_VERIFY, STATUS_FAIL, Evidence, Finding, finding_id
from hegui.engine.registry import Registry
from hegui.engine.rules import BUDGET, Input, Parameter, Rule, RuleLoadError, RuleProblem, RuleSet, describe_input
from hegui.facts.model import Filing
from hegui.facts.units import DIMENSIONLESS, Unit, format_decimal, format_money
from hegui.facts.vocabulary import FILING, FactSet, filing_facts

CANNOT_VERIFY_SEVERITY = "warning"
_OP_WORDS = {"=": "应等于", "≠": "应不等于", "≤": "应不超过", "≥": "应不少于", "<": "应小于", ">": "应大于"}


@dataclass
class CheckResult:
    filing: Filing
    findings: list[Finding]
    facts: FactSet
    jurisdiction: list[str] = field(default_factory=list)  # the filing's chain, nearest first
    #: every (rule, subject, leg, actual, expected, witness) a compare rule computed, pass or fail;
    #: filled only when the check was asked to explain
    evaluations: list[tuple] | None = None


class Evaluator:
    """A rule set compiled once; :meth:`check` runs it on one filing at a time.

    ``registry`` gives the jurisdictions (chains, reference data) rules may apply to; the
    engine receives it and never builds one (see :mod:`hegui.plugins.manager`).
    """

    def __init__(self, ruleset: RuleSet, registry: Registry) -> None:
        self.ruleset = ruleset
        self.registry = registry
        unknown = [r for r in ruleset.rules if r.jurisdiction not in self.registry.jurisdictions]
        if unknown:
            # A rule of an unregistered jurisdiction would apply to no filing: refuse it.
            raise RuleLoadError(
                [
                    RuleProblem(
                        r.file,
                        r.line,
                        1,
                        r.id,
                        "pack.jurisdiction",
                        f"未知的适用地区“{r.jurisdiction}”：规则将不适用于任何申报",
                        "已注册的地区（见 hegui plugins）",
                    )
                    for r in unknown
                ]
            )
        self.compiled = compile_rules(ruleset)

    def resolve(self, param: Parameter, year: int | None, chain: list[str]) -> tuple[Parameter, Any]:
        """The parameter that decides for a filing: the nearest jurisdiction defining the name
        with a value for the budget year, else the rule's own pack's."""
        by_layer = {
            self.ruleset.jurisdiction_of_pack.get(p.key.split(":", 1)[0], "全国"): p
            for p in self.ruleset.parameters_named(param.name)
        }
        for layer in chain:
            candidate = by_layer.get(layer)
            if candidate is not None and candidate.value_for(year) is not None:
                return candidate, candidate.value_for(year)
        return param, param.value_for(year)

    def param_facts(self, year: int | None, chain: list[str]) -> list[tuple]:
        facts = []
        for key, param in sorted(self.ruleset.parameters.items()):
            _, chosen = self.resolve(param, year, chain)
            if chosen is not None:
                facts.append(("param", key, chosen.value))
        return facts

    def jurisdiction_facts(self, chain: list[str]) -> list[tuple]:
        facts = [("in_jurisdiction", name) for name in chain]
        seen: set[str] = set()
        for name in chain:  # nearest first: a district's figure hides the city's
            jurisdiction = self.registry.jurisdictions.get(name)
            for key, (value, _unit) in sorted((jurisdiction.facts if jurisdiction else {}).items()):
                if key not in seen:
                    seen.add(key)
                    facts.append(("reference", key, value))
        return facts

    def match_facts(self, facts: list[tuple]) -> list[tuple]:
        """``matches`` facts for the words rules look for; substring tests, no regular expressions."""
        needles = self.compiled.needles
        out = []
        for fact in facts:
            if fact[0] == "text" and fact[2] in needles:
                for needle in sorted(needles[fact[2]]):
                    if needle in fact[3]:
                        out.append(("matches", fact[1], fact[2], needle))
        return out

    def check(self, filing: Filing, *, explain: bool = False, district: str | None = None) -> CheckResult:
        """Findings for ``filing``; with ``explain``, also every evaluation and a derivation per finding.

        The filing's jurisdiction chain comes from ``district`` or its department name; only
        rule packs of that chain apply, and the nearest jurisdiction's parameters win.
        """
        chain = self.registry.chain_for(filing.department, district)
        factset = filing_facts(filing)
        facts = (
            factset.facts
            + self.param_facts(filing.year, chain)
            + self.jurisdiction_facts(chain)
            + self.match_facts(factset.facts)
        )
        queries = {OUTCOME: OUTCOME_ARITY}
        if explain:
            queries[EVALUATED] = OUTCOME_ARITY - 1
        answered = self.compiled.program.evaluate(facts, queries)
        answers = answered[OUTCOME]
        builder = _FindingBuilder(self, filing, factset, chain)
        findings = [builder.violation(row[1:]) for row in answers if row[0] == "fail"]
        findings += [builder.cannot((row[1], row[2], row[4])) for row in answers if row[0] == "cannot"]
        findings = _dedupe(findings)
        prov = factset.provenance
        findings.sort(key=lambda f: (_table_order(f.table), prov.position(f.location), f.line, f.rule_id, f.id))
        result = CheckResult(filing, findings, factset, chain)
        if explain:
            result.evaluations = answered[EVALUATED]
            result.findings = [replace(f, explanation=explain_finding(self, result, f)) for f in findings]
        return result


def _table_order(label: str) -> tuple:
    numbers = [int(n) for n in re.findall(r"\d+", label)]
    return (0 if label else 1, numbers, label)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    out = []
    for finding in findings:
        if finding.id in seen:
            continue
        seen.add(finding.id)
        out.append(finding)
    return out


class _FindingBuilder:
    def __init__(self, checker: Evaluator, filing: Filing, factset: FactSet, chain: list[str]) -> None:
        self.checker = checker
        self.chain = chain
        self.filing = filing
        self.prov = factset.provenance
        self.unit = filing.overview.unit if filing.overview else "万元"

    # -- formatting ---------------------------------------------------------------------------------
    def show(self, value: Any, unit: Unit | None) -> str:
        if isinstance(value, Decimal):
            if unit is not None and unit.money == 1:
                return format_money(value, self.unit) + ("" if unit in (BUDGET,) or unit.dims == () else f"（{unit}）")
            if unit is None or unit == DIMENSIONLESS:
                return format_decimal(value)
            return f"{format_decimal(value)}{unit}"
        return str(value)

    def place(self, entity: str) -> str:
        src = self.prov.source(entity)
        return src.place if src is not None else ""

    def location(self, entity: str, field_name: str | None = None) -> tuple[str, int]:
        src = self.prov.source(entity, field_name)
        return (str(src), src.line) if src is not None else (self.filing.path, 0)

    def _base(self, rule: Rule, subject: str, leg: int, status: str, **kw: Any) -> Finding:
        table = self.prov.table_of.get(subject, "")
        item = kw.pop("item_override", None) or self.prov.item_of.get(subject, subject)
        location, line = kw.pop("where", None) or self.location(subject)
        return Finding(
            id=finding_id(rule.id, subject, leg, status),
            rule_id=rule.id,
            rule_title=rule.title,
            status=status,
            severity=rule.severity if status == STATUS_FAIL else CANNOT_VERIFY_SEVERITY,
            table=table,
            item=item,
            location=location,
            line=line,
            citation=rule.source,
            pack=rule.pack,
            subject=subject,
            leg=leg,
            **kw,
        )

    # -- violations ---------------------------------------------------------------------------------
    def violation(self, row: tuple) -> Finding:
        rule_id, subject, leg, actual, expected, witness = row
        compiled = self.checker.compiled.rules[rule_id]
        rule = compiled.rule
        if rule.check_kind == "compare":
            return self.compare(compiled, subject, leg, actual, expected, witness)
        if rule.check_kind == "required":
            where = self.location(subject, actual)
            label = self.prov.item_of.get(subject, subject)
            message = self.fill(rule, {"对象": label, "实际": "未填写", "期望": actual}) or f"{actual}未填写"
            return self._base(
                rule,
                subject,
                leg,
                STATUS_FAIL,
                where=where,
                message=message,
                expected=f"填写{actual}",
                actual="未填写",
                evidence=(Evidence(actual, "（空白）", where[0], self.prov.raw_text.get((subject, actual), "")),),
            )
        if rule.check_kind == "readable":
            message = (
                self.fill(rule, {"对象": self.prov.item_of.get(subject, ""), "实际": actual, "期望": "可读的值"})
                or f"读不出值：{actual}"
            )
            return self._base(
                rule,
                subject,
                leg,
                STATUS_FAIL,
                message=message,
                expected="可读的值",
                actual=actual,
                evidence=(Evidence("单元格", actual, subject, ""),),
            )
        if rule.check_kind == "required_children":
            child_kind, child_field = rule.required[0], rule.required[1]
            label = self.prov.item_of.get(subject, subject)
            message = (
                self.fill(rule, {"对象": label, "实际": "缺少", "期望": actual})
                or f"缺少{child_field}为“{actual}”的{child_kind}"
            )
            return self._base(
                rule,
                subject,
                leg,
                STATUS_FAIL,
                message=message,
                expected=f"有“{actual}”",
                actual="缺少",
                evidence=(Evidence(child_field, f"无“{actual}”", self.location(subject)[0], ""),),
            )
        if rule.check_kind == "agree":
            first, second = witness
            ev = tuple(
                Evidence(
                    f"{self.prov.table_of.get(c, '')}",
                    self.prov.item_of.get(c, ""),
                    self.location(c)[0],
                    self.prov.item_of.get(c, ""),
                )
                for c in (first, second)
            )
            where = self.location(first)
            shown_a, shown_b = format_decimal(actual), format_decimal(expected)
            message = self.fill(rule, {"对象": subject, "实际": shown_a, "期望": shown_b}) or (
                f"{subject}的数量前后不一致：{ev[0].name}（{self.place(first)}）写作“{ev[0].value}”，{ev[1].name}（{self.place(second)}）写作“{ev[1].value}”"
            )
            base = self._base(
                rule,
                first,
                0,
                STATUS_FAIL,
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
            # One finding per entity kind and pair of values, whichever sentences stated them.
            return _replace_id(base, finding_id(rule.id, f"{subject}:{shown_a}:{shown_b}", 0, STATUS_FAIL))
        # text_absent
        field_name = witness[0]
        where = self.location(subject, field_name)
        raw = self.prov.raw_text.get((subject, field_name), "")
        message = (
            self.fill(rule, {"对象": self.prov.item_of.get(subject, subject), "实际": actual, "期望": ""})
            or f"{field_name}中出现“{actual}”"
        )
        return self._base(
            rule,
            subject,
            leg,
            STATUS_FAIL,
            where=where,
            message=message,
            expected=f"不含“{actual}”",
            actual=actual,
            evidence=(Evidence(field_name, actual, where[0], raw),),
        )

    def compare(
        self, compiled: CompiledRule, subject: str, leg: int, actual: Any, expected: Any, witness: tuple
    ) -> Finding:
        rule = compiled.rule
        comparison = rule.comparisons[leg]
        values: dict[str, str] = {}
        evidence: list[Evidence] = []
        origins: dict[str, str] = {}
        units = {i.name: i.unit for i in rule.inputs} | {p.name: p.unit for p in rule.parameters}
        position = 0
        for slot in compiled.witness:
            value = witness[position]
            position += 1
            if slot.role == "input":
                values[slot.name] = self.show(value, slot.input.unit if slot.input else None)
            elif slot.role == "origin":
                origins[slot.name] = value
                evidence.append(self.input_evidence(slot.input, values[slot.name], value))
            else:
                own = next(p for p in rule.parameters if p.name == slot.name)
                param, chosen = self.checker.resolve(own, self.filing.year, self.chain)
                shown = f"{format_decimal(chosen.written)}{param.unit_text}" if chosen else self.show(value, param.unit)
                values[slot.name] = shown
                period = _period(chosen)
                evidence.append(
                    Evidence(
                        slot.name,
                        shown,
                        f"规则包 {param.key.split(':', 1)[0]}，{period}",
                        str(param.source) if param.source else "",
                    )
                )
        try:
            unit = ex.infer_unit(comparison.left, units)
        except (ex.ExpressionError, KeyError):
            unit = None
        shown_actual, shown_expected = self.show(actual, unit), self.show(expected, unit)
        values.update(
            {
                "实际": shown_actual,
                "期望": shown_expected,
                "对象": self.prov.item_of.get(subject, subject),
                "表": self.prov.table_of.get(subject, ""),
            }
        )
        left_names = [n for n in ex.names(comparison.left) if n in origins]
        where = None
        if left_names:
            inp = next(i for i in rule.inputs if i.name == left_names[0])
            where = self.location(origins[inp.name], _field_of(inp))
        message = (
            self.fill(rule, values)
            or f"{rule.title}：{ex.render(comparison.left)}为{shown_actual}，{_OP_WORDS[comparison.op]}{ex.render(comparison.right)}（{shown_expected}）"
        )
        return self._base(
            rule,
            subject,
            leg,
            STATUS_FAIL,
            where=where,
            message=message,
            expected=f"{comparison.op} {shown_expected}",
            actual=shown_actual,
            evidence=tuple(evidence),
            witness=witness,
            raw_actual=actual,
            raw_expected=expected,
        )

    def input_evidence(self, inp: Input | None, shown: str, origin: Any) -> Evidence:
        assert inp is not None
        field_name = _field_of(inp)
        where, _ = self.location(str(origin), field_name)
        text = self.prov.raw_text.get((str(origin), field_name), "")
        if inp.kind == "count":
            text = self.prov.item_of.get(str(origin), "")
        return Evidence(inp.name, shown, where, text.strip())

    # -- cannot verify ------------------------------------------------------------------------------
    def cannot(self, row: tuple) -> Finding:
        rule_id, subject, what = row
        rule = self.checker.compiled.rules[rule_id].rule
        inp = next((i for i in rule.inputs if i.name == what), None)
        where = None
        if inp is not None and inp.kind in ("amount", "number", "text"):
            target = self.prov.follow(subject, inp.of)
            if target is not None and (target, inp.field) in self.prov.value_source:
                where = self.location(target, inp.field)
        if inp is not None:
            if where is not None:
                target = self.prov.follow(subject, inp.of) or subject
                looked = f"{self.prov.table_of.get(target, target)}的“{inp.field}”栏未填写"
            else:
                looked = f"查找范围：{describe_input(inp)}"
            message = f"无法核实“{rule.title}”：缺少{what}（{looked}）"
        else:
            message = f"无法核实“{rule.title}”：参数“{what}”在{self.filing.year or '未知'}年度没有有效取值"
        return self._base(
            rule,
            subject,
            0,
            STATUS_CANNOT_VERIFY,
            where=where,
            message=message,
            expected=f"需要{what}",
            actual="缺失",
            evidence=(Evidence(what, "缺失", "", describe_input(inp) if inp else "规则包参数"),),
        )

    @staticmethod
    def fill(rule: Rule, values: dict[str, str]) -> str:
        """Fill ``{名称}`` placeholders by plain substitution: no format-string machinery."""
        if not rule.message:
            return ""
        return re.sub(r"\{([^{}]*)\}", lambda m: values.get(m.group(1), m.group(0)), rule.message)


def _replace_id(finding: Finding, new_id: str) -> Finding:
    return replace(finding, id=new_id)


def _field_of(inp: Input) -> str | None:
    if inp.kind in ("amount", "number", "text"):
        return inp.field
    if inp.kind == "count":
        return "原文"
    if inp.kind == "sum":
        return None
    return "年度"


def _period(chosen: Any) -> str:
    if chosen is None:
        return "无有效期"
    start = f"{chosen.start_year}年起" if chosen.start_year else "不限起始"
    end = f"至{chosen.end_year}年" if chosen.end_year else ""
    return f"有效期{start}{end}"


__all__ = ["FILING", "CheckResult", "Evaluator"]
