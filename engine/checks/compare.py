"""The expression check: ``check: 金额 = 村级办公经费标准 × 村数``."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from hegui.engine import expr as ex
from hegui.engine.checks.base import CheckKind, CheckSection, WitnessSlot
from hegui.facts.units import Unit, format_decimal

if TYPE_CHECKING:
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.explain import Explainer
    from hegui.engine.findings import Evidence, Finding
    from hegui.engine.rules import Input, Parameter, Rule

_OP_WORDS = {"=": "应等于", "≠": "应不等于", "≤": "应不超过", "≥": "应不少于", "<": "应小于", ">": "应大于"}
_EXACT_OPS = ("<", ">", "≠")  # compared exactly, whatever the tolerance
_HOLDS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "≠": lambda a, b: a != b,
    "≤": lambda a, b: a <= b,
    "≥": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


@dataclass(frozen=True)
class CompareCheck(CheckKind):
    """Compares two sides of an expression written as text.

    YAML: ``check: 金额 ≥ 交通费标准 × 人数 × 12月/年`` — names of inputs and parameters,
    numbers with units (``12月/年``, ``3万元/村/年``, ``100%``), ``+ - × ÷`` (or ``* /``),
    brackets, and one comparison ``= ≠ ≤ ≥ < >``, or a range ``下限 ≤ 金额 ≤ 上限`` (two legs).
    Units are checked when the rule loads; the rule's ``tolerance:`` widens ``= ≤ ≥``. A
    subject whose input is missing (or whose sum has an unreadable addend) is “cannot verify”.
    """

    keyword = ""
    name = "compare"
    identified_by_row: ClassVar[bool] = True

    text: str
    comparisons: tuple[ex.Comparison, ...]
    used: tuple[Parameter, ...]

    # -- loading ------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, section: CheckSection) -> CompareCheck | None:
        reader, check, mark = section.reader, section.value, section.mark
        comparisons: list[ex.Comparison] = []
        used: list[Parameter] = []
        try:
            comparisons = ex.parse_check(check)
        except ex.ExpressionError as exc:
            reader.problem(mark, "check", exc.message, "如“金额 ≥ 交通费标准 × 人数 × 12月/年”")
        params = section.parameters
        units = {i.name: i.unit for i in section.inputs}
        # Names the file declares but that were refused above already have a breadcrumb of
        # their own: do not repeat them as "unknown", and skip unit checks that need them.
        complete = True
        for comparison in comparisons:
            for name in ex.names(comparison.left) + ex.names(comparison.right):
                if name in units:
                    continue
                if name in params:
                    units[name] = params[name].unit
                    if params[name] not in used:
                        used.append(params[name])
                    continue
                complete = False
                if name not in section.declared:
                    reader.problem(
                        mark,
                        "check",
                        f"表达式中的名称“{name}”既不是输入也不是参数",
                        "inputs 或 parameters 中定义的名称",
                        reader.suggest(name, list(units) + list(params)),
                    )
        for comparison in comparisons if complete else ():
            try:
                left = ex.infer_unit(comparison.left, units)
                right = ex.infer_unit(comparison.right, units)
            except ex.ExpressionError as exc:
                reader.problem(mark, "check", exc.message)
                continue
            if left != right:
                reader.problem(
                    mark,
                    "check",
                    f"比较两边单位不一致：{ex.render(comparison.left)} 是“{left}”，{ex.render(comparison.right)} 是“{right}”",
                    "两边单位相同（预算金额按“元/年”计，按月的标准要乘以“12月/年”）",
                )
            if ex.TEXT in (left, right) and comparison.op not in ("=", "≠"):
                reader.problem(mark, "check", "文字只能比较相等（=）或不等（≠）")
        return cls(check, tuple(comparisons), tuple(used))

    def parameters(self) -> tuple[Parameter, ...]:
        return self.used

    def _names(self) -> list[str]:
        names: list[str] = []
        for comparison in self.comparisons:
            for name in ex.names(comparison.left) + ex.names(comparison.right):
                if name not in names:
                    names.append(name)
        return names

    # -- compiling ----------------------------------------------------------------------------------
    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        p, rule = rc.p, rc.rule
        names_used = self._names()
        inputs = [i for i in rule.inputs if i.name in names_used]
        params = [prm for prm in rule.parameters if prm.name in names_used]
        witness_slots: list[WitnessSlot] = []
        for inp in inputs:
            witness_slots.append(WitnessSlot(inp.name, "input", inp))
            witness_slots.append(WitnessSlot(inp.name, "origin", inp))
        for prm in params:
            witness_slots.append(WitnessSlot(prm.name, "param"))

        blocked = [inp for inp in inputs if rc.input_unverifiable(inp, p.var()) is not None]
        text_compare = any(i.input_kind.is_text for i in rule.inputs)
        for leg, comparison in enumerate(self.comparisons):
            subject = p.var()
            # Parameters first: one value each, looked up once per clause rather than once per
            # subject, and a parameter without a value for the year ends the clause at once.
            params_body: list[Any] = []
            param_values: list[Any] = []
            for prm in params:
                value = p.var()
                params_body.append(p.lit("param", prm.key, value))
                param_values.append(value)
            terms, literals = rc.inputs_body(subject, inputs)
            body = params_body + literals
            # Unreadable addends are tested last: the violation clause tests them only for a
            # subject that fails, instead of for every subject up front.
            unblocked = [p.neg(rc.input_unverifiable(inp, subject)) for inp in blocked]
            bound: dict[str, Any] = {}
            witness: list[Any] = []
            for inp, (value, origin) in zip(inputs, terms, strict=True):
                bound[inp.name] = value
                witness += [value, origin]
            for prm, value in zip(params, param_values, strict=True):
                bound[prm.name] = value
                witness.append(value)
            actual = self._side(rc, comparison.left, bound, body)
            expected = self._side(rc, comparison.right, bound, body)
            head = rc.head(subject, leg, actual, expected, witness)
            rc.evaluated(head, body + unblocked)
            for failing in self._failing(rc, actual, comparison.op, expected, text_compare):
                rc.violation(head, body + failing + unblocked)

        # cannot verify: the subject qualifies but an input or parameter is absent.
        in_period = [p.lit("hegui_param_defined", prm.key) for prm in params]
        # Like a parameter, data an input kind needs for the rule to apply at all (reference
        # data of the filing's jurisdiction) makes the rule not apply there (hegui why says so).
        for inp in inputs:
            in_period += inp.input_kind.defined(rc, inp)
        # The period literals name no subject: first, they are one lookup per clause.
        for inp in [i for i in inputs if i.input_kind.missing_is_cannot]:
            rc.cannot_absent(inp, in_period)
            rc.cannot_unverifiable(inp, in_period)
        # A parameter with no value in the filing's year puts the filing outside the rule's
        # period: the rule does not apply (hegui why says so), it is not "cannot verify".
        return witness_slots

    def _side(self, rc: RuleCompiler, node: ex.Node, bound: dict[str, Any], body: list[Any]) -> Any:
        """The term for one side of a comparison; arithmetic is computed into a fresh variable
        by a literal added to ``body``, a bare name or number is used as it is (an ``X == V``
        literal per subject only copied the value)."""
        if isinstance(node, ex.Name):
            return bound[node.name]
        if isinstance(node, ex.Num):
            return rc.p.const(node.value)
        side = rc.p.var()
        body.append(rc.p.cmp(side, "==", self._term(rc, node, bound)))
        return side

    def _term(self, rc: RuleCompiler, node: ex.Node, bound: dict[str, Any]) -> Any:
        p = rc.p
        if isinstance(node, ex.Num):
            return p.const(node.value)
        if isinstance(node, ex.Name):
            return bound[node.name]
        if isinstance(node, ex.Neg):
            return p.arith("-", Decimal(0), self._term(rc, node.operand, bound))
        assert isinstance(node, ex.BinOp)
        return p.arith(node.op, self._term(rc, node.left, bound), self._term(rc, node.right, bound))

    @staticmethod
    def _failing(rc: RuleCompiler, actual: Any, op: str, expected: Any, text_compare: bool) -> list[list[Any]]:
        """Bodies that hold exactly when ``actual op expected`` fails (beyond the tolerance)."""
        p = rc.p
        tol = rc.rule.tolerance
        diff = p.var()
        if not tol and op in ("=", "≤", "≥"):
            # Exact Decimal comparison needs no difference term, and "=" needs one clause, not two.
            return [[p.cmp(actual, {"=": "!=", "≤": ">", "≥": "<"}[op], expected)]]
        if op == "=":
            other = p.var()
            if text_compare:
                return [[p.cmp(actual, "!=", expected)]]
            return [
                [p.cmp(diff, "==", p.arith("-", actual, expected)), p.cmp(diff, ">", tol)],
                [p.cmp(other, "==", p.arith("-", expected, actual)), p.cmp(other, ">", tol)],
            ]
        if op == "≠":
            return [[p.cmp(actual, "==", expected)]]
        if op == "≤":
            return [[p.cmp(diff, "==", p.arith("-", actual, expected)), p.cmp(diff, ">", tol)]]
        if op == "≥":
            return [[p.cmp(diff, "==", p.arith("-", expected, actual)), p.cmp(diff, ">", tol)]]
        if op == "<":
            return [[p.cmp(actual, ">=", expected)]]
        if op == ">":
            return [[p.cmp(actual, "<=", expected)]]
        raise AssertionError(op)

    # -- findings -----------------------------------------------------------------------------------
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
        plan = fb.prepared((rule.id, "compare", leg), lambda: _LegPlan.of(self, compiled, leg))
        values: dict[str, str] = {}
        evidence: list[Evidence] = []
        for position, role, name, inp, own in plan.slots:
            value = witness[position]
            if role == "input":
                values[name] = fb.show(value, inp.unit if inp else None)
            elif role == "origin":
                evidence.append(fb.input_evidence(inp, values[name], value))
            else:
                assert own is not None
                param, chosen = fb.decided(own)
                shown = f"{format_decimal(chosen.written)}{param.unit_text}" if chosen else fb.show(value, param.unit)
                values[name] = shown
                evidence.append(
                    fb.evidence(
                        name,
                        shown,
                        f"规则包 {param.key.split(':', 1)[0]}，{_period_words(chosen)}",
                        str(param.source) if param.source else "",
                    )
                )
        shown_actual, shown_expected = fb.show(actual, plan.unit), fb.show(expected, plan.unit)
        message = ""
        if rule.message:
            values["实际"] = shown_actual
            values["期望"] = shown_expected
            values["对象"] = fb.prov.item_of.get(subject, subject)
            values["表"] = fb.prov.table_of.get(subject, "")
            message = fb.fill(rule, values)
        where = None
        if plan.where is not None:
            position, field_name = plan.where
            where = fb.location(witness[position], field_name)
        return fb.fail(
            rule,
            subject,
            leg,
            where=where,
            message=message or f"{plan.said}{shown_actual}{plan.required}{shown_expected}）",
            expected=f"{plan.op} {shown_expected}",
            actual=shown_actual,
            evidence=tuple(evidence),
            witness=witness,
            raw_actual=actual,
            raw_expected=expected,
        )

    # -- explanations -------------------------------------------------------------------------------
    def explain_finding(self, ex_: Explainer, rule: Rule, finding: Finding) -> dict[str, Any]:
        return self.explain_evaluation(ex_, rule, finding.subject, finding.leg, finding.witness, "fail")

    def explain_evaluation(
        self, ex_: Explainer, rule: Rule, subject: str, leg: int, witness: tuple, verdict: str
    ) -> dict[str, Any]:
        """The arithmetic of one leg, recomputed from the witness values, and whether it holds."""
        compiled = ex_.checker.compiled.rules[rule.id]
        comparison = self.comparisons[leg]
        values: dict[str, Any] = {}
        shown: dict[str, str] = {}
        units = {i.name: i.unit for i in rule.inputs} | {p.name: p.unit for p in rule.parameters}
        inputs: list[dict[str, Any]] = []
        pending: dict[str, Any] = {}
        for position, slot in enumerate(compiled.witness):
            value = witness[position]
            if slot.role == "input":
                pending[slot.name] = value
            elif slot.role == "origin":
                inp = slot.input
                assert inp is not None
                node = ex_.input_node(inp, pending[slot.name], value, subject)
                inputs.append(node)
                values[inp.name] = pending[slot.name]
                shown[inp.name] = node["value"]
            else:
                param = ex_.decided(next(p for p in rule.parameters if p.name == slot.name))
                values[param.name] = value
                chosen = param.value_for(ex_.year)
                shown[param.name] = (
                    f"{format_decimal(chosen.written)}{param.unit_text}"
                    if chosen
                    else ex_.show.value(value, param.unit)
                )
        derivation = _Derivation(values, shown, units, ex_.show)
        left_steps, actual, shown_actual = derivation.steps(comparison.left)
        right_steps, expected, shown_expected = derivation.steps(comparison.right)
        if rule.tolerance and comparison.op == "=":
            holds = abs(actual - expected) <= rule.tolerance
        else:
            holds = _HOLDS[comparison.op](actual, expected)
        return {
            "parameters": [ex_.parameter_node(p) for p in rule.parameters],
            "inputs": inputs,
            "steps": left_steps + right_steps,
            "comparison": {
                "expression": f"{ex.render(comparison.left)} {comparison.op} {ex.render(comparison.right)}",
                "actual": shown_actual,
                "op": comparison.op,
                "expected": shown_expected,
                "holds": holds,
                "statement": f"{shown_actual} {comparison.op} {shown_expected}：{'成立' if holds else '不成立'}",
            },
        }

    # -- catalogue and lint ---------------------------------------------------------------------------
    def describe(self) -> str:
        return self.text

    def label(self) -> str:
        return self.text

    def signature(self) -> Hashable:
        return (self.name, self.text)

    def lint(self, rule: Rule) -> list[str]:
        # The tolerance widens = ≤ ≥ only: a strict or "not equal" comparison is exact.
        ops = {c.op for c in self.comparisons}
        if rule.tolerance and ops and ops <= set(_EXACT_OPS):
            return [f"写了容差（tolerance），但比较符 {' '.join(sorted(ops))} 不使用容差，只有 = ≤ ≥ 使用"]
        return []


@dataclass(frozen=True)
class _LegPlan:
    """What a finding of one leg of a compare rule needs from the compiled rule alone, worked
    out once per rule (see FindingBuilder.prepared) instead of once per finding."""

    #: per witness position: (position, role, name, the input, the rule's own parameter)
    slots: tuple[tuple[int, str, str, Input | None, Parameter | None], ...]
    unit: Unit | None  # of the left side: both sides are shown in it
    where: tuple[int, str | None] | None  # witness position and field of the left side's input
    op: str
    said: str  # the default message up to the actual value
    required: str  # … between the actual and the expected value

    @classmethod
    def of(cls, check: CompareCheck, compiled: CompiledRule, leg: int) -> _LegPlan:
        rule = compiled.rule
        comparison = check.comparisons[leg]
        slots: list[tuple[int, str, str, Input | None, Parameter | None]] = []
        origins: dict[str, int] = {}
        for position, slot in enumerate(compiled.witness):
            own = None
            if slot.role == "origin":
                origins[slot.name] = position
            elif slot.role != "input":
                own = next(p for p in rule.parameters if p.name == slot.name)
            slots.append((position, slot.role, slot.name, slot.input, own))
        units = {i.name: i.unit for i in rule.inputs} | {p.name: p.unit for p in rule.parameters}
        unit: Unit | None
        try:
            unit = ex.infer_unit(comparison.left, units)
        except (ex.ExpressionError, KeyError):
            unit = None
        # The finding is where the left side's first input was read.
        where = None
        left_names = [n for n in ex.names(comparison.left) if n in origins]
        if left_names:
            inp = next(i for i in rule.inputs if i.name == left_names[0])
            where = (origins[inp.name], inp.input_kind.evidence_field(inp))
        return cls(
            tuple(slots),
            unit,
            where,
            comparison.op,
            f"{rule.title}：{ex.render(comparison.left)}为",
            f"，{_OP_WORDS[comparison.op]}{ex.render(comparison.right)}（",
        )


def _period_words(chosen: Any) -> str:
    if chosen is None:
        return "无有效期"
    start = f"{chosen.start_year}年起" if chosen.start_year else "不限起始"
    end = f"至{chosen.end_year}年" if chosen.end_year else ""
    return f"有效期{start}{end}"


def _terms(node: ex.Node) -> list[tuple[str, ex.Node]]:
    """The node as a signed list of addends (a + b - c → [(+,a), (+,b), (-,c)])."""
    if isinstance(node, ex.BinOp) and node.op in "+-":
        left = _terms(node.left)
        right = _terms(node.right)
        if node.op == "-":
            right = [("-" if sign == "+" else "+", term) for sign, term in right]
        return left + right
    return [("+", node)]


class _Derivation:
    """One side of a comparison written out term by term, from the witness values."""

    def __init__(self, values: dict[str, Any], shown: dict[str, str], units: dict[str, Unit], show: Any) -> None:
        self.values = values
        self.shown = shown
        self.units = units
        self.show = show

    def leaf(self, node: ex.Node) -> str:
        if isinstance(node, ex.Name):
            return self.shown[node.name]
        assert isinstance(node, ex.Num)
        return node.text

    def steps(self, node: ex.Node) -> tuple[list[str], Any, str]:
        """Arithmetic of one side of a comparison, written out term by term."""
        if isinstance(node, ex.Name) and not isinstance(self.values[node.name], Decimal):
            return [], self.values[node.name], self.shown[node.name]  # text: nothing to compute
        steps: list[str] = []
        shown_terms: list[tuple[str, str]] = []
        for sign, term in _terms(node):
            if isinstance(term, (ex.Name, ex.Num)):
                shown_terms.append((sign, self.leaf(term)))
                continue
            value = ex.evaluate(term, self.values)
            unit = ex.infer_unit(term, self.units)
            steps.append(f"{ex.render(term, self.leaf)} = {self.show.money_steps(value, unit)}")
            shown_terms.append((sign, self.show.value(value, unit)))
        total = ex.evaluate(node, self.values)
        unit = ex.infer_unit(node, self.units)
        shown_total = self.show.value(total, unit)
        if len(shown_terms) > 1:
            text = shown_terms[0][1] + "".join(f" {sign} {value}" for sign, value in shown_terms[1:])
            steps.append(f"{text} = {shown_total}")
        return steps, total, shown_total
