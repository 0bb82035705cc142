"""Compile validated rules into Datalog clauses.

Every rule becomes clauses for two head predicates shared by the whole rule set:

* ``violation(RuleId, Subject, Leg, Actual, Expected, Witness)`` — the check failed;
  ``Witness`` is a tuple of the values (and the entities they came from) of every input and
  parameter, so findings and explanations carry what the rule saw.
* ``cannot(RuleId, Subject, What)`` — the rule applies but an input it needs is absent.

The compiler knows the rule structure; the Datalog program only sees terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hegui.engine import expr as ex
from hegui.engine.datalog import Program, freeze_compiled_state
from hegui.engine.rules import Input, Rule, RuleSet
from hegui.facts.vocabulary import FILING, TABLE_KINDS, WHOLE

VIOLATION = "hegui_violation"
CANNOT = "hegui_cannot"
VIOLATION_ARITY = 6
CANNOT_ARITY = 3
EVALUATED = "hegui_evaluated"  # every evaluation of a compare rule, pass or fail: for why-not
OUTCOME = "hegui_outcome"
OUTCOME_ARITY = 7  # status, then the violation columns; cannot rows put What in Actual

_OPS = {"≤": "<=", "≥": ">=", "<": "<", ">": ">", "=": "==", "≠": "!="}


@dataclass
class WitnessSlot:
    """What position ``index`` of a rule's witness tuple holds."""

    name: str
    role: str  # input | origin | param
    input: Input | None = None


@dataclass
class CompiledRule:
    rule: Rule
    witness: list[WitnessSlot] = field(default_factory=list)


@dataclass
class Compiled:
    program: Program
    rules: dict[str, CompiledRule]
    needles: dict[str, set[str]]  # text field → words some rule looks for


class _RuleCompiler:
    def __init__(self, program: Program, rule: Rule, needles: dict[str, set[str]]) -> None:
        self.p = program
        self.rule = rule
        self.needles = needles
        self.has_field = "hegui_has_field"
        self.has_rel = "hegui_has_rel"

    # -- shared pieces ------------------------------------------------------------------------------
    def subject_body(self, subject: Any) -> list[Any]:
        """The subject and where-conditions, as one tabled predicate per rule.

        Every clause of a rule (each leg, each cannot-verify, the why-not evaluation) starts
        with the same prefix; naming it once lets pyDatalog resolve it once per filing.
        """
        p = self.p
        if getattr(self, "_applies", None) is None:
            s = p.var()
            self._applies = p.predicate("applies")
            p.clause(self._applies, [s], self._subject_literals(s))
        return [p.lit(self._applies, subject)]

    def _subject_literals(self, subject: Any) -> list[Any]:
        p = self.p
        # A pack's rules apply only to filings of its jurisdiction (or below it).
        body = [p.lit("in_jurisdiction", self.rule.jurisdiction), p.lit("entity", subject, self.rule.subject)]
        for condition in self.rule.where:
            if condition.op == "equals":
                body.append(p.lit("text", subject, condition.field, condition.values[0]))
            elif condition.op == "contains_all":
                for needle in condition.values:
                    self.needles.setdefault(condition.field, set()).add(needle)
                    body.append(p.lit("matches", subject, condition.field, needle))
            elif condition.op in ("contains_any", "excludes_any"):
                helper = p.predicate("cond")
                s = p.var()
                for needle in condition.values:
                    self.needles.setdefault(condition.field, set()).add(needle)
                    p.clause(helper, [s], [p.lit("matches", s, condition.field, needle)])
                literal = p.lit(helper, subject)
                body.append(literal if condition.op == "contains_any" else p.neg(literal))
            elif condition.op == "present":
                body.append(p.lit(self.has_field, subject, condition.field))
            elif condition.op == "absent":
                body.append(p.neg(p.lit(self.has_field, subject, condition.field)))
            elif condition.op == "has_children":
                body.append(p.lit("hegui_has_child", subject, condition.values[0]))
            elif condition.op == "in_table":
                table = p.var()
                body += [p.lit("rel", subject, "所属表", table), p.lit("entity", table, condition.values[0])]
        return body

    def target(self, subject: Any, of: str) -> tuple[Any, list[Any]]:
        """The entity an input reads from, and the literals that find it."""
        p = self.p
        if not of:
            return subject, []
        if of == FILING:
            return FILING, []
        t = p.var()
        if of in TABLE_KINDS:
            return t, [p.lit("entity", t, of)]
        return t, [p.lit("rel", subject, of, t)]

    def input_body(self, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        """(value term, origin term, literals) for one input."""
        p = self.p
        value = p.var()
        if inp.kind in ("amount", "number", "text"):
            origin, body = self.target(subject, inp.of)
            return value, origin, body + [p.lit(inp.kind, origin, inp.field, value)]
        if inp.kind == "year":
            return value, FILING, [p.lit("number", FILING, "年度", value)]
        if inp.kind == "reference":
            return value, FILING, [p.lit("reference", inp.field, value)]
        if inp.kind == "count":
            claim = p.var()
            if inp.scope == "全文":
                scope_body = [p.lit("within", claim, WHOLE)]
            elif inp.scope == "本行" or self.rule.subject in TABLE_KINDS:
                scope_body = [p.lit("within", claim, subject)]
            else:
                table = p.var()
                scope_body = [p.lit("rel", subject, "所属表", table), p.lit("within", claim, table)]
            return value, claim, scope_body + [p.lit("count", claim, inp.field, value)]
        if inp.kind == "sum":
            return self.sum_body(inp, subject, value)
        raise AssertionError(inp.kind)

    def _part_owner(self, inp: Input, s: Any, e: Any) -> list[Any]:
        """Literals that make ``e`` one of the entities whose fields ``inp`` adds up for ``s``."""
        p = self.p
        body = [p.lit("entity", s, self.rule.subject)]
        if inp.over in TABLE_KINDS:
            body.append(p.lit("entity", e, inp.over))
        elif inp.over:
            body += [p.lit("rel", e, "所属", s), p.lit("entity", e, inp.over)]
        else:
            body.append(p.cmp(e, "==", s))
        return body

    def blocked(self, inp: Input) -> str:
        """A predicate true for subjects where one addend of ``inp`` could not be read.

        Such a sum is unverifiable: adding only the readable parts would read the unreadable
        one as zero.
        """
        p = self.p
        name = p.predicate("blocked")
        for fname in inp.fields:
            s, e = p.var(), p.var()
            p.clause(name, [s], self._part_owner(inp, s, e) + [p.lit("unreadable_field", e, fname)])
        if inp.over and inp.over not in TABLE_KINDS:
            # A table cut off part-way: the subject's list of such children was not read in full.
            s = p.var()
            p.clause(
                name,
                [s],
                [p.lit("entity", s, self.rule.subject), p.lit("unreadable_field", s, p.const(inp.over))],
            )
        return name

    def sum_body(self, inp: Input, subject: Any, value: Any) -> tuple[Any, Any, list[Any]]:
        p = self.p
        parts = p.predicate("part")
        for fname in inp.fields:
            s, e, v = p.var(), p.var(), p.var()
            body = self._part_owner(inp, s, e)
            body.append(p.lit("number" if inp.numeric else "amount", e, fname, v))
            if inp.name_contains:
                for needle in inp.name_contains:
                    self.needles.setdefault("名称", set()).add(needle)
                    p.clause(parts, [s, e, p.const(fname), v], body + [p.lit("matches", e, "名称", needle)])
            else:
                p.clause(parts, [s, e, p.const(fname), v], body)
        total = p.predicate("sum")
        s, e, f, v = p.var(), p.var(), p.var(), p.var()
        p.sum_into(total, s, v, [e, f], [p.lit(parts, s, e, f, v)])
        return value, subject, [p.function_value(total, subject, value)]

    def term_of(self, node: ex.Node, bound: dict[str, Any]) -> Any:
        p = self.p
        if isinstance(node, ex.Num):
            return p.const(node.value)
        if isinstance(node, ex.Name):
            return bound[node.name]
        if isinstance(node, ex.Neg):
            return p.arith("-", Decimal(0), self.term_of(node.operand, bound))
        return p.arith(node.op, self.term_of(node.left, bound), self.term_of(node.right, bound))

    # -- check kinds --------------------------------------------------------------------------------
    def compile(self) -> CompiledRule:
        kind = self.rule.check_kind
        if kind == "compare":
            return self.compare()
        if kind == "required":
            return self.required()
        if kind == "agree":
            return self.agree()
        if kind == "text_absent":
            return self.text_absent()
        if kind == "required_children":
            return self.required_children()
        if kind == "readable":
            return self.readable()
        raise AssertionError(kind)

    def compare(self) -> CompiledRule:
        p, rule = self.p, self.rule
        compiled = CompiledRule(rule)
        names_used: list[str] = []
        for comparison in rule.comparisons:
            for name in ex.names(comparison.left) + ex.names(comparison.right):
                if name not in names_used:
                    names_used.append(name)
        inputs = [i for i in rule.inputs if i.name in names_used]
        params = [prm for prm in rule.parameters if prm.name in names_used]
        for inp in inputs:
            compiled.witness.append(WitnessSlot(inp.name, "input", inp))
            compiled.witness.append(WitnessSlot(inp.name, "origin", inp))
        for prm in params:
            compiled.witness.append(WitnessSlot(prm.name, "param"))

        blocked = {inp.name: self.blocked(inp) for inp in inputs if inp.kind == "sum"}
        for leg, comparison in enumerate(rule.comparisons):
            subject = p.var()
            body = self.subject_body(subject) + [p.neg(p.lit(name, subject)) for name in blocked.values()]
            bound: dict[str, Any] = {}
            witness: list[Any] = []
            for inp in inputs:
                value, origin, literals = self.input_body(inp, subject)
                body += literals
                bound[inp.name] = value
                witness += [value, origin]
            for prm in params:
                value = p.var()
                body.append(p.lit("param", prm.key, value))
                bound[prm.name] = value
                witness.append(value)
            actual, expected = p.var(), p.var()
            body += [
                p.cmp(actual, "==", self.term_of(comparison.left, bound)),
                p.cmp(expected, "==", self.term_of(comparison.right, bound)),
            ]
            head = [p.const(rule.id), subject, p.const(leg), actual, expected, p.tuple_of(witness)]
            p.clause(EVALUATED, head, body)
            for failing in self.failing(actual, comparison.op, expected):
                p.clause(VIOLATION, head, body + failing)

        # cannot verify: the subject qualifies but an input or parameter is absent.
        in_period = [p.lit("hegui_param_defined", prm.key) for prm in params]
        # Like a parameter, reference data absent for the filing's jurisdiction means the rule
        # has nothing to compare with there: it does not apply (hegui why says so).
        in_period += [p.lit("hegui_reference_defined", inp.field) for inp in inputs if inp.kind == "reference"]
        for inp in [i for i in inputs if i.kind != "reference"]:
            subject = p.var()
            has = p.predicate("has")
            s = p.var()
            _, _, literals = self.input_body(inp, s)
            p.clause(has, [s], [p.lit("entity", s, rule.subject)] + literals)
            p.clause(
                CANNOT,
                [p.const(rule.id), subject, p.const(inp.name)],
                self.subject_body(subject) + in_period + [p.neg(p.lit(has, subject))],
            )
            if inp.kind == "sum":
                subject = p.var()
                p.clause(
                    CANNOT,
                    [p.const(rule.id), subject, p.const(inp.name)],
                    self.subject_body(subject) + in_period + [p.lit(blocked[inp.name], subject)],
                )
        # A parameter with no value in the filing's year puts the filing outside the rule's
        # period: the rule does not apply (hegui why says so), it is not "cannot verify".
        return compiled

    def failing(self, actual: Any, op: str, expected: Any) -> list[list[Any]]:
        """Bodies that hold exactly when ``actual op expected`` fails (beyond the tolerance)."""
        p = self.p
        tol = self.rule.tolerance
        diff = p.var()
        if not tol and op in ("=", "≤", "≥"):
            # Exact Decimal comparison needs no difference term, and "=" needs one clause, not two.
            return [[p.cmp(actual, {"=": "!=", "≤": ">", "≥": "<"}[op], expected)]]
        if op == "=":
            other = p.var()
            if self._is_text_compare():
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

    def _is_text_compare(self) -> bool:
        return any(i.kind == "text" for i in self.rule.inputs)

    def required(self) -> CompiledRule:
        p, rule = self.p, self.rule
        from hegui.facts.vocabulary import RELATIONS

        for index, name in enumerate(rule.required):
            subject = p.var()
            has = self.has_rel if name in RELATIONS else self.has_field
            body = self.subject_body(subject) + [p.neg(p.lit(has, subject, name))]
            p.clause(
                VIOLATION, [p.const(rule.id), subject, p.const(index), p.const(name), p.const(""), p.tuple_of([])], body
            )
        return CompiledRule(rule)

    def required_children(self) -> CompiledRule:
        p, rule = self.p, self.rule
        child_kind, child_field, *values = rule.required
        for index, value in enumerate(values):
            subject = p.var()
            absent = self.subject_body(subject) + [
                p.neg(p.lit("hegui_child_text", subject, child_kind, child_field, value))
            ]
            # A table cut off part-way may hold the child in the part that is not in the file.
            partial = p.lit("unreadable_field", subject, p.const(child_kind))
            p.clause(
                VIOLATION,
                [p.const(rule.id), subject, p.const(index), p.const(value), p.const(""), p.tuple_of([])],
                [*absent, p.neg(partial)],
            )
            p.clause(CANNOT, [p.const(rule.id), subject, p.const(value)], [*absent, partial])
        return CompiledRule(rule)

    def readable(self) -> CompiledRule:
        p, rule = self.p, self.rule
        where, why = p.var(), p.var()
        p.clause(
            VIOLATION,
            [p.const(rule.id), where, p.const(0), why, p.const(""), p.tuple_of([])],
            [p.lit("in_jurisdiction", rule.jurisdiction), p.lit("unreadable", where, why)],
        )
        return CompiledRule(rule)

    def agree(self) -> CompiledRule:
        p, rule = self.p, self.rule
        c1, c2, kind, n1, n2 = p.var(), p.var(), p.var(), p.var(), p.var()
        body = [
            p.lit("in_jurisdiction", rule.jurisdiction),
            p.lit("text", c1, "对象", kind),
            p.lit("text", c2, "对象", kind),
            p.lit("number", c1, "数量", n1),
            p.lit("number", c2, "数量", n2),
            p.cmp(n1, "<", n2),
        ]
        p.clause(VIOLATION, [p.const(rule.id), kind, p.const(0), n1, n2, p.tuple_of([c1, c2])], body)
        return CompiledRule(rule, [WitnessSlot("较少", "origin"), WitnessSlot("较多", "origin")])

    def text_absent(self) -> CompiledRule:
        p, rule = self.p, self.rule
        # One leg per field and word, so each occurrence is its own finding.
        pairs = [(fname, needle) for fname in rule.forbidden_fields for needle in rule.forbidden]
        for leg, (fname, needle) in enumerate(pairs):
            self.needles.setdefault(fname, set()).add(needle)
            subject = p.var()
            body = self.subject_body(subject) + [p.lit("matches", subject, fname, needle)]
            p.clause(
                VIOLATION,
                [p.const(rule.id), subject, p.const(leg), p.const(needle), p.const(""), p.tuple_of([p.const(fname)])],
                body,
            )
        return CompiledRule(rule, [WitnessSlot("字段", "origin")])


def _builtins(program: Program) -> None:
    p = program
    e, f, v, r, t, k = (p.var() for _ in range(6))
    for predicate in ("amount", "number", "text"):
        p.clause("hegui_has_field", [e, f], [p.lit(predicate, e, f, v)])
    p.clause("hegui_has_rel", [e, r], [p.lit("rel", e, r, t)])
    p.clause("hegui_param_defined", [k], [p.lit("param", k, v)])
    p.clause("hegui_reference_defined", [k], [p.lit("reference", k, v)])
    # One query answers both heads, so their shared subgoals are resolved once.
    r, s_, l, a, x, w, what = (p.var() for _ in range(7))
    p.clause(OUTCOME, [p.const("fail"), r, s_, l, a, x, w], [p.lit(VIOLATION, r, s_, l, a, x, w)])
    p.clause(
        OUTCOME, [p.const("cannot"), r, s_, p.const(0), what, p.const(""), p.tuple_of([])], [p.lit(CANNOT, r, s_, what)]
    )
    c = p.var()
    p.clause("hegui_has_child", [e, k], [p.lit("rel", c, "所属", e), p.lit("entity", c, k)])
    p.clause(
        "hegui_child_text", [e, k, f, v], [p.lit("rel", c, "所属", e), p.lit("entity", c, k), p.lit("text", c, f, v)]
    )


def compile_rules(ruleset: RuleSet) -> Compiled:
    """Compile every rule of ``ruleset`` into one :class:`Program`."""
    program = Program()
    _builtins(program)
    needles: dict[str, set[str]] = {}
    compiled = {rule.id: _RuleCompiler(program, rule, needles).compile() for rule in ruleset.rules}
    freeze_compiled_state()
    return Compiled(program, compiled, needles)
