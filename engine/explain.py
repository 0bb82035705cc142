"""Explanations in budget terms: why a line fails, why it passes, why a rule did not apply.

Every tree is built from the rule's structure (its parsed check, inputs and parameters) and
the witness values the engine returned with the finding, never from an engine log: the
arithmetic is recomputed step by step from those values, so sums and counts stay exact,
and every input points at the line or cell it was read from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hegui.engine.checks.stated import show_rate
from hegui.engine.findings import STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import BUDGET, Input, Parameter, Rule
from hegui.facts.units import DIMENSIONLESS, Unit, format_decimal, format_money
from hegui.facts.vocabulary import FactSet


class _Facts:
    """Indexes over a filing's facts for enumerating the parts of a sum."""

    def __init__(self, facts: FactSet) -> None:
        self.prov = facts.provenance
        self.amount: dict[tuple[str, str], Decimal] = {}
        self.number: dict[tuple[str, str], Decimal] = {}
        self.text: dict[tuple[str, str], str] = {}
        self.kind: dict[str, str] = {}
        self.children: dict[str, list[str]] = {}
        self.unreadable: set[tuple[str, str]] = set()
        for fact in facts.facts:
            head = fact[0]
            if head in ("amount", "number", "text"):
                getattr(self, head)[(fact[1], fact[2])] = fact[3]
            elif head == "entity":
                self.kind[fact[1]] = fact[2]
            elif head == "rel" and fact[2] == "所属":
                self.children.setdefault(fact[3], []).append(fact[1])
            elif head == "unreadable_field":
                self.unreadable.add((fact[1], fact[2]))

    def where(self, entity: str, field: str | None = None) -> str:
        src = self.prov.source(entity, field)
        return str(src) if src else ""

    def raw(self, entity: str, field: str) -> str:
        return self.prov.raw_text.get((entity, field), "").strip()


class _Show:
    """Values as a reviewer reads them: money in the filing's unit, counts with their unit."""

    def __init__(self, filing_unit: str) -> None:
        self.unit = filing_unit

    def value(self, value: Decimal, unit: Unit | None) -> str:
        rate = show_rate(value, unit, self.unit) if unit is not None else None
        if rate is not None:
            return rate
        if unit is not None and unit.money == 1:
            shown = format_money(value, self.unit)
            return shown if unit.dims in ((), BUDGET.dims) else f"{shown}（{unit}）"
        if unit is None or unit == DIMENSIONLESS:
            return format_decimal(value)
        return f"{format_decimal(value)}{unit}"

    def money_steps(self, value: Decimal, unit: Unit | None) -> str:
        """``144000元 = 14.40万元`` when a result in 元 is shown in 万元: the conversion is written out."""
        shown = self.value(value, unit)
        if unit is not None and unit.money == 1 and self.unit != "元" and value == value.to_integral_value():
            return f"{format_decimal(value)}元 = {shown}"
        return shown


def _period(param: Parameter, year: int | None) -> dict[str, Any]:
    """A parameter as it decided: value, the pack (jurisdiction layer) it came from, and its period."""
    chosen = param.value_for(year)
    out: dict[str, Any] = {"name": param.name, "unit": param.unit_text, "pack": param.key.split(":", 1)[0]}
    if chosen is None:
        out.update(value=None, why=f"预算年度{year or '未知'}年不在任何有效期内")
        return out
    start = f"{chosen.start_year}年起" if chosen.start_year else "不限起始"
    end = f"至{chosen.end_year}年" if chosen.end_year else ""
    out.update(
        value=f"{format_decimal(chosen.written)}{param.unit_text}",
        period=f"{start}{end}",
        why=f"预算年度{year}年在有效期（{start}{end}）内",
    )
    if param.source is not None:
        out["source"] = str(param.source)
    return out


def _rule_part(rule: Rule) -> dict[str, Any]:
    citation = {
        k: v
        for k, v in {
            "document": rule.source.document,
            "title": rule.source.title,
            "clause": rule.source.clause,
            "quote": rule.source.quote,
            "url": rule.source.url,
        }.items()
        if v
    }
    return {
        "id": rule.id,
        "title": rule.title,
        "pack": rule.pack,
        "severity": rule.severity,
        "citation": citation,
        "check": rule.check.label(),
    }


class Explainer:
    """Explanations for one checked filing (a :class:`~hegui.engine.evaluate.CheckResult`)."""

    def __init__(self, checker, result) -> None:
        self.checker = checker
        self.result = result
        self.facts = _Facts(result.facts)
        filing = result.filing
        self.show = _Show(filing.overview.unit if filing.overview else "万元")
        self.year = filing.year

    def decided(self, param: Parameter) -> Parameter:
        """The parameter that decided for this filing (the nearest jurisdiction's)."""
        return self.checker.resolve(param, self.year, self.result.jurisdiction)[0]

    # -- inputs -------------------------------------------------------------------------------------
    def _subject(self, entity: str) -> dict[str, str]:
        prov = self.facts.prov
        return {
            "entity": entity,
            "kind": prov.kind_of.get(entity, ""),
            "table": prov.table_of.get(entity, ""),
            "item": prov.item_of.get(entity, entity),
            "location": self.facts.where(entity),
        }

    def input_node(self, inp: Input, value: Decimal | str, origin: str, subject: str) -> dict[str, Any]:
        """An input as its kind explains it: value as shown, where it was read, the original text."""
        return inp.input_kind.explain(self, inp, value, origin, subject)

    def parameter_node(self, param: Parameter) -> dict[str, Any]:
        """A parameter as it decided for this filing: value, pack and period."""
        return _period(self.decided(param), self.year)

    # -- findings ----------------------------------------------------------------------------------------
    def finding(self, finding: Finding) -> dict[str, Any]:
        rule = self.checker.ruleset.by_id(finding.rule_id)
        assert rule is not None
        if finding.status == STATUS_CANNOT_VERIFY:
            return self.cannot_tree(rule, finding)
        tree: dict[str, Any] = {"rule": _rule_part(rule), "verdict": "fail", "subject": self._subject(finding.subject)}
        tree["subject"]["item"] = finding.item
        tree.update(rule.check.explain_finding(self, rule, finding))
        return tree

    def evaluation_tree(self, rule: Rule, subject: str, leg: int, witness: tuple, verdict: str) -> dict[str, Any]:
        """The tree of one evaluation the engine recorded (pass or fail), as the rule's kind explains it."""
        tree: dict[str, Any] = {"rule": _rule_part(rule), "verdict": verdict, "subject": self._subject(subject)}
        tree.update(rule.check.explain_evaluation(self, rule, subject, leg, witness, verdict))
        return tree

    def cannot_tree(self, rule: Rule, finding: Finding) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "rule": _rule_part(rule),
            "verdict": "cannot_verify",
            "subject": self._subject(finding.subject),
        }
        tree["parameters"] = [_period(self.decided(p), self.year) for p in rule.parameters]
        tree["missing"] = [
            {"name": e.name, "looked": e.text or e.location, "location": finding.location} for e in finding.evidence
        ]
        tree["statement"] = finding.message
        return tree

    # -- why-not ---------------------------------------------------------------------------------------
    def subject(self, entity: str) -> dict[str, Any]:
        """Every rule about ``entity``: failed, unverifiable, held (with the identity), or why not applied."""
        kind = self.facts.kind.get(entity, "")
        evaluations: dict[str, list[tuple]] = {}
        for row in self.result.evaluations or []:
            if row[1] == entity:
                evaluations.setdefault(row[0], []).append(row)
        findings: dict[str, list[Finding]] = {}
        for f in self.result.findings:
            if f.subject == entity:
                findings.setdefault(f.rule_id, []).append(f)
        rules: list[dict[str, Any]] = []
        other_kinds = 0
        for rule in self.checker.ruleset.rules:
            if rule.subject != kind:
                other_kinds += 1
                continue
            if rule.id in findings:
                rules.extend(self.finding(f) for f in findings[rule.id])
                continue
            reason = self._not_applied(rule, entity)
            if reason:
                rules.append(
                    {
                        "rule": _rule_part(rule),
                        "verdict": "not_applicable",
                        "subject": self._subject(entity),
                        "reason": reason,
                    }
                )
            elif rule.id in evaluations:
                rules.extend(self.evaluation_tree(rule, entity, row[2], row[5], "pass") for row in evaluations[rule.id])
            else:
                rules.append(
                    {
                        "rule": _rule_part(rule),
                        "verdict": "pass",
                        "subject": self._subject(entity),
                        "statement": rule.check.describe() + "：成立",
                    }
                )
        return {
            "subject": self._subject(entity),
            "rules": rules,
            "other_rules": f"另有{other_kinds}条规则检查的不是“{kind}”类对象，与此项无关",
        }

    def _not_applied(self, rule: Rule, entity: str) -> str:
        """Why ``rule`` does not apply to ``entity`` (a where-condition or the period), or ""."""
        for condition in rule.where:
            text = self.facts.text.get((entity, condition.field), "")
            present = any(
                (entity, condition.field) in t for t in (self.facts.amount, self.facts.number, self.facts.text)
            )
            if condition.op == "equals" and text != condition.values[0]:
                return f"{condition.field}“{text}”不等于“{condition.values[0]}”"
            if condition.op == "contains_any" and not any(v in text for v in condition.values):
                return f"{condition.field}“{text or '（空）'}”不含{'、'.join(condition.values)}中任何一个"
            if condition.op == "contains_all" and not all(v in text for v in condition.values):
                return f"{condition.field}“{text or '（空）'}”不同时含有{'、'.join(condition.values)}"
            if condition.op == "excludes_any" and any(v in text for v in condition.values):
                return f"{condition.field}含有排除词（{'、'.join(v for v in condition.values if v in text)}）"
            if condition.op == "present" and not present:
                return f"{condition.field}未填写"
            if condition.op == "absent" and present:
                return f"{condition.field}已填写"
            if condition.op == "has_children" and not any(
                self.facts.kind.get(c) == condition.values[0] for c in self.facts.children.get(entity, [])
            ):
                return f"没有下级{condition.values[0]}"
            if (
                condition.op == "in_table"
                and self.facts.kind.get(self.facts.prov.related.get((entity, "所属表"), ""), "") != condition.values[0]
            ):
                return f"不在{condition.values[0]}中"
        for param in rule.parameters:
            if self.decided(param).value_for(self.year) is None:
                return f"参数“{param.name}”在预算年度{self.year}年没有有效取值（规则有效期外）"
        for inp in rule.inputs:
            reason = inp.input_kind.not_applied(self, inp)
            if reason:
                return reason
        if rule.jurisdiction not in self.result.jurisdiction:
            return f"规则适用于{rule.jurisdiction}，本申报属于{' → '.join(self.result.jurisdiction)}"
        return ""


def explain_finding(checker, result, finding: Finding) -> dict[str, Any]:
    """The derivation tree of one finding (JSON-ready)."""
    return Explainer(checker, result).finding(finding)


def render_text(tree: dict[str, Any], indent: str = "") -> str:
    """A tree as indented Chinese text for reviewers."""
    rule = tree["rule"]
    verdict = {"fail": "不合规", "pass": "合规", "cannot_verify": "无法核实", "not_applicable": "不适用"}[
        tree["verdict"]
    ]
    citation = rule["citation"]
    lines = [f"{indent}{rule['id']} {rule['title']}  → {verdict}"]
    cite = (
        citation.get("document", "")
        + (f"《{citation['title']}》" if citation.get("title") else "")
        + (f" {citation['clause']}" if citation.get("clause") else "")
    )
    lines.append(f"{indent}  依据：{cite}（规则包：{rule['pack']}）")
    if citation.get("quote"):
        lines.append(f"{indent}    原文：“{citation['quote']}”")
    subject = tree["subject"]
    lines.append(f"{indent}  对象：{subject['table']} {subject['item']}（{subject['location']}）")
    if tree["verdict"] == "not_applicable":
        lines.append(f"{indent}  原因：{tree['reason']}")
        return "\n".join(lines)
    for param in tree.get("parameters", []):
        if param.get("value"):
            lines.append(f"{indent}  参数：{param['name']} = {param['value']}（{param['pack']}，{param['why']}）")
        else:
            lines.append(f"{indent}  参数：{param['name']}：{param['why']}")
    for node in tree.get("inputs", []):
        where = f"  ← {node['location']}" if node.get("location") else ""
        text = f"  “{node['text']}”" if node.get("text") and node["text"] != node["value"] else ""
        lines.append(f"{indent}  输入：{node['name']} = {node['value']}{where}{text}")
        for part in node.get("parts", []):
            lines.append(f"{indent}      {part['name']} = {part['value']}  ← {part['location']}")
    for missing in tree.get("missing", []):
        lines.append(f"{indent}  缺少：{missing['name']}（{missing['looked']}）")
    for step in tree.get("steps", []):
        lines.append(f"{indent}  计算：{step}")
    if "comparison" in tree:
        lines.append(f"{indent}  检查：{tree['comparison']['expression']}")
        lines.append(f"{indent}  结论：{tree['comparison']['statement']}")
    elif "statement" in tree:
        lines.append(f"{indent}  结论：{tree['statement']}")
    return "\n".join(lines)


__all__ = ["Explainer", "explain_finding", "render_text"]
