"""Compile validated rules into Datalog clauses.

Every rule becomes clauses for two head predicates shared by the whole rule set:

* ``violation(RuleId, Subject, Leg, Actual, Expected, Witness)`` — the check failed;
  ``Witness`` is a tuple of the values (and the entities they came from) of every input and
  parameter, so findings and explanations carry what the rule saw.
* ``cannot(RuleId, Subject, What)`` — the rule applies but an input it needs is absent.

The compiler builds what every rule shares (its subject and conditions, its inputs); each
rule's check kind (:mod:`hegui.engine.checks`) adds the clauses of its own check. The
Datalog program only sees terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hegui.engine.checks import WitnessSlot
from hegui.engine.datalog import Program, freeze_compiled_state
from hegui.engine.rules import Input, Rule, RuleSet
from hegui.facts.vocabulary import FILING, TABLE_KINDS

VIOLATION = "hegui_violation"
CANNOT = "hegui_cannot"
VIOLATION_ARITY = 6
CANNOT_ARITY = 3
EVALUATED = "hegui_evaluated"  # every evaluation of a compare rule, pass or fail: for why-not
OUTCOME = "hegui_outcome"
OUTCOME_ARITY = 7  # status, then the violation columns; cannot rows put What in Actual

__all__ = [
    "CANNOT",
    "EVALUATED",
    "OUTCOME",
    "OUTCOME_ARITY",
    "VIOLATION",
    "Compiled",
    "CompiledRule",
    "RuleCompiler",
    "WitnessSlot",
    "compile_rules",
]


@dataclass
class CompiledRule:
    rule: Rule
    witness: list[WitnessSlot] = field(default_factory=list)


@dataclass
class Compiled:
    program: Program
    rules: dict[str, CompiledRule]
    needles: dict[str, set[str]]  # text field → words some rule looks for


class RuleCompiler:
    """Compiles one rule: the pieces every check kind shares, and the heads it writes to.

    A check kind's :meth:`~hegui.engine.checks.CheckKind.compile` builds its clauses with
    ``p`` (the :class:`Program`), :meth:`subject_body`, :meth:`input_body` and
    :meth:`look_for`, and adds them with :meth:`violation`, :meth:`cannot` and
    :meth:`evaluated`, whose rows carry this rule's id.
    """

    has_field = "hegui_has_field"  # (entity, field): the field has a value
    has_rel = "hegui_has_rel"  # (entity, relation): the relation leads somewhere

    def __init__(self, program: Program, rule: Rule, needles: dict[str, set[str]]) -> None:
        self.p = program
        self.rule = rule
        self.needles = needles
        self._applies: str | None = None

    # -- shared pieces ------------------------------------------------------------------------------
    def subject_body(self, subject: Any) -> list[Any]:
        """The subject and where-conditions, as one tabled predicate per rule.

        Every clause of a rule (each leg, each cannot-verify, the why-not evaluation) starts
        with the same prefix; naming it once lets pyDatalog resolve it once per filing.
        """
        p = self.p
        if self._applies is None:
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
                    self.look_for(condition.field, needle)
                    body.append(p.lit("matches", subject, condition.field, needle))
            elif condition.op in ("contains_any", "excludes_any"):
                helper = p.predicate("cond")
                s = p.var()
                for needle in condition.values:
                    self.look_for(condition.field, needle)
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

    def look_for(self, field_name: str, needle: str) -> None:
        """Ask for ``matches(entity, field_name, needle)`` facts: ``needle`` occurs in the field."""
        self.needles.setdefault(field_name, set()).add(needle)

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
        """(value term, origin term, literals) for one input, as its input kind reads it."""
        return inp.input_kind.body(self, inp, subject)

    # -- heads --------------------------------------------------------------------------------------
    def head(self, subject: Any, leg: int, actual: Any, expected: Any, witness: list[Any]) -> list[Any]:
        """The arguments of a violation (or evaluation) row of this rule."""
        p = self.p
        return [p.const(self.rule.id), subject, p.const(leg), actual, expected, p.tuple_of(witness)]

    def violation(self, head: list[Any], body: list[Any]) -> None:
        """The check fails for the row ``head`` (from :meth:`head`) whenever ``body`` holds."""
        self.p.clause(VIOLATION, head, body)

    def evaluated(self, head: list[Any], body: list[Any]) -> None:
        """Record every evaluation, pass or fail, so why-not can show the ones that held."""
        self.p.clause(EVALUATED, head, body)

    def cannot(self, subject: Any, what: str, body: list[Any]) -> None:
        """The rule applies to ``subject`` but cannot be verified: ``what`` is missing."""
        p = self.p
        p.clause(CANNOT, [p.const(self.rule.id), subject, p.const(what)], body)

    def compile(self) -> CompiledRule:
        return CompiledRule(self.rule, self.rule.check.compile(self))


def _builtins(program: Program) -> None:
    p = program
    e, f, v, r, t, k = (p.var() for _ in range(6))
    for predicate in ("amount", "number", "text"):
        p.clause("hegui_has_field", [e, f], [p.lit(predicate, e, f, v)])
    p.clause("hegui_has_rel", [e, r], [p.lit("rel", e, r, t)])
    p.clause("hegui_param_defined", [k], [p.lit("param", k, v)])
    p.clause("hegui_reference_defined", [k], [p.lit("reference", k, v)])
    # One query answers both heads, so their shared subgoals are resolved once.
    r, s_, leg, a, x, w, what = (p.var() for _ in range(7))
    p.clause(OUTCOME, [p.const("fail"), r, s_, leg, a, x, w], [p.lit(VIOLATION, r, s_, leg, a, x, w)])
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
    compiled = {rule.id: RuleCompiler(program, rule, needles).compile() for rule in ruleset.rules}
    freeze_compiled_state()
    return Compiled(program, compiled, needles)
