"""Compile validated rules into Datalog clauses.

Every rule becomes clauses for one head predicate shared by the whole rule set,
``outcome(Status, RuleId, Subject, Leg, Actual, Expected, Witness)``, with two kinds of rows:

* ``fail`` — the check failed; ``Witness`` is a tuple of the values (and the entities they came
  from) of every input and parameter, so findings and explanations carry what the rule saw;
* ``cannot`` — the rule applies but an input it needs is absent: ``Actual`` holds what (Leg is
  0, Expected "" and Witness empty).

The plain check asks this one predicate, so every subgoal the rules share is resolved once; the
why-not evaluations have a head of their own, asked only when explaining.

The compiler builds what every rule shares (its subject and conditions, its inputs); each
rule's check kind (:mod:`hegui.engine.checks`) adds the clauses of its own check. The
Datalog program only sees terms.

What a rule reads of a filing one entity at a time (which entities it is about, the values it
reads of each, which of them lack one) is joined once per filing beside the facts
(:func:`presence_facts`, from what :class:`Precomputed` lists), so the engine resolves what
combines them: asked per subject and rule, those joins were most of the query. Each join has a
test that compares it with the Datalog it replaces (``tests/test_performance_mechanisms.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

from hegui.engine.checks import WitnessSlot
from hegui.engine.datalog import Program, compiling
from hegui.engine.rules import Condition, Input, Rule, RuleSet
from hegui.facts.vocabulary import FILING, TABLE_KINDS, WHOLE

EVALUATED = "hegui_evaluated"  # every evaluation of a compare rule, pass or fail: for why-not
OUTCOME = "hegui_outcome"
OUTCOME_ARITY = 7  # status, then the violation columns; cannot rows put What in Actual
FIELD = "hegui_field"  # (entity, field) for every amount, number and text fact
RELATED = "hegui_related"  # (entity, relation) for every rel fact
HAS_CHILD = "hegui_has_child"  # (entity, kind): the entity has a child (所属) of that kind
CHILD_TEXT = "hegui_child_text"  # (entity, kind, field, text): a child of that kind has that text
SUBJECT = "hegui_subject"  # (entity, selection key): the entity is of a rule's kind and meets its conditions
TEXT_NUMBER = "hegui_text_number"  # (entity, text field, text, number field, number)
CHILD_OF = "hegui_child_of"  # (entity, kind, child): the child (所属 the entity) is of that kind
SUM = "hegui_sum"  # (entity, sum key, total): a sum input's value for the entity (see SumSpec)
COUNT = "hegui_count"  # (scope, count key, number, claim): a count claim stated within the scope
STATED = "hegui_stated"  # (scope, rate key, rate, claim): a stated rate within the scope (RateSpec)
DISAGREE = "hegui_disagree"  # (text field, number field, text, smaller, larger): rows with that text differ
LACKS_CHILD = "hegui_lacks_child"  # (entity, kind, field, text): no child of that kind has that text
# (entity, selection key, predicate, key): a subject without a usable value of that read: no such
# fact, or for hegui_blocked, such a fact (an addend that could not be read)
LACKS_VALUE = "hegui_lacks_value"
BLOCKED = "hegui_blocked"  # (entity, sum key): one of the parts the sum adds up could not be read (SumSpec)
VIA = "hegui_via"  # (entity, via key, value, target): a field of the entity a relation leads to (ViaSpec)
# (selection key, predicate, key, status, rule, leg, actual, jurisdiction, gate): a rule's row for a
# subject without that value (RuleCompiler.report_lacking); facts of the compiled program
LACKING_ROW = "hegui_lacking_row"
READY = "hegui_ready"  # (gate): the periods and reference data a lacking row needs are there
# hegui_row_N(entity, row key, value₁, origin₁, …, value_N, origin_N): a subject of a rule with a
# value of each of the N reads it makes of the subject as one fact (RowSpec)
ROW = "hegui_row"
# (entity, selection key, field, code, seen, want): an observation of a rule's subject (observed facts)
OBSERVED_ROW = "hegui_observed_row"
_VALUE_PREDICATES = ("amount", "number", "text")
# What an input reads straight from its subject, as one fact: no input predicate around it.
_DIRECT_READS = (*_VALUE_PREDICATES, SUM, VIA, COUNT)


@dataclass(frozen=True)
class SumSpec:
    """What one sum input adds up (:class:`~hegui.engine.checks.inputs.SumInput`): ``fields`` of
    the subject itself (no ``over``), of its children of kind ``over``, or of every entity of the
    table kind ``over`` (for each subject of ``kind``); ``numeric`` adds number facts instead of
    amounts; ``name_contains`` keeps the parts whose 名称 contains one of the words."""

    key: str
    kind: str
    over: str
    fields: tuple[str, ...]
    numeric: bool
    name_contains: tuple[str, ...]


@dataclass
class FactIndex:
    """A filing's facts arranged for the joins computed beside them, in one pass over the facts."""

    kinds: dict[str, list[str]] = field(default_factory=dict)  # entity → its kinds
    of_kind: dict[str, list[str]] = field(default_factory=dict)  # kind → its entities
    #: (predicate, entity, field) → values, for the three value predicates
    values: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    filled: dict[tuple[str, str], None] = field(default_factory=dict)  # (entity, field) with a value
    related: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (entity, relation) → targets
    parents: dict[str, list[str]] = field(default_factory=dict)  # child → what it is 所属
    children: dict[str, list[str]] = field(default_factory=dict)  # owner → its 所属 children
    child_kinds: set[tuple[str, str]] = field(default_factory=set)  # (entity, kind of one of its children)
    #: kind → owner → its 所属 children of that kind
    children_by_kind: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    within: dict[str, list[str]] = field(default_factory=dict)  # claim → the scopes it is stated within
    counts: list[tuple] = field(default_factory=list)  # the count facts
    unreadable: set[tuple[str, str]] = field(default_factory=set)  # (entity, field) that could not be read
    observed: dict[str, list[tuple]] = field(default_factory=dict)  # entity → (field, code, seen, want)

    @classmethod
    def of(cls, facts: list[tuple]) -> FactIndex:
        index = cls()
        values, filled, kinds, related = index.values, index.filled, index.kinds, index.related
        for fact in facts:
            name = fact[0]
            if name in _VALUE_PREDICATES:
                values.setdefault((name, fact[1], fact[2]), []).append(fact[3])
                filled[(fact[1], fact[2])] = None
            elif name == "rel":
                related.setdefault((fact[1], fact[2]), []).append(fact[3])
                if fact[2] == "所属":
                    index.parents.setdefault(fact[1], []).append(fact[3])
                    index.children.setdefault(fact[3], []).append(fact[1])
            elif name == "entity":
                kinds.setdefault(fact[1], []).append(fact[2])
            elif name == "within":
                index.within.setdefault(fact[1], []).append(fact[2])
            elif name == "count":
                index.counts.append(fact)
            elif name == "unreadable_field":
                index.unreadable.add((fact[1], fact[2]))
            elif name == "observed":
                index.observed.setdefault(fact[1], []).append(fact[2:])
        for entity, entity_kinds in kinds.items():
            for kind in dict.fromkeys(entity_kinds):
                index.of_kind.setdefault(kind, []).append(entity)
        for owner, children in index.children.items():
            for child in children:
                for kind in kinds.get(child, ()):
                    index.child_kinds.add((owner, kind))
                    index.children_by_kind.setdefault(kind, {}).setdefault(owner, []).append(child)
        return index

    def texts(self, entity: str, name: str) -> list[str]:
        """The texts of ``entity``'s field ``name``."""
        return self.values.get(("text", entity, name), [])


@dataclass(frozen=True)
class ViaSpec:
    """A field read through a relation (:meth:`RuleCompiler.field_read`): for each entity of
    ``kind`` (the reading rule's subject), the ``predicate`` value of ``field`` of each entity its
    relation ``relation`` leads to."""

    kind: str
    relation: str
    predicate: str
    field: str

    @cached_property
    def key(self) -> str:
        """The constant that names the read in ``hegui_via`` and ``hegui_lacks_value`` facts."""
        return "\x1f".join([self.kind, self.relation, self.predicate, self.field])


def via_facts(index: FactIndex, reads: Collection[ViaSpec]) -> list[tuple]:
    """``hegui_via(E, key, V, T)`` for each read of ``reads``: ``E`` of the read's kind,
    ``rel(E, relation, T)`` and ``predicate(T, field, V)``, joined here once per filing where the
    engine joined them per subject and rule (a subgoal for the relation, one for the field, one
    for the input)."""
    out: list[tuple] = []
    for spec in sorted(reads, key=lambda r: r.key):
        for (entity, relation), targets in index.related.items():
            if relation == spec.relation and spec.kind in index.kinds.get(entity, ()):
                for target in targets:
                    for value in index.values.get((spec.predicate, target, spec.field), ()):
                        out.append((VIA, entity, spec.key, value, target))
    return out


def sum_facts(facts: list[tuple], sums: Collection[SumSpec], index: FactIndex | None = None) -> list[tuple]:
    """``hegui_sum(E, key, total)`` for each spec of ``sums`` and each entity with a part
    (``index``: :class:`FactIndex` of ``facts``, when the caller has it).

    The engine's sum aggregate added the distinct (part, field, value) rows of each subject,
    asked per subject: a subgoal for the sum, one for its parts and one per child lookup, for
    every subject of every rule reading a sum. The same rows are added here once per filing.
    """
    if not sums:
        return []
    index = index or FactIndex.of(facts)
    values, of_kind = index.values, index.of_kind
    out: list[tuple] = []
    for spec in sorted(sums, key=lambda s: s.key):
        predicate = "number" if spec.numeric else "amount"

        def named(entity: str, spec: SumSpec = spec) -> bool:
            return not spec.name_contains or any(
                needle in text for text in index.texts(entity, "名称") for needle in spec.name_contains
            )

        def total(owner_parts: list[str], predicate: str = predicate, spec: SumSpec = spec) -> Any:
            rows: dict[tuple[str, str, Any], None] = {}
            for part in owner_parts:
                for fname in spec.fields:
                    for value in values.get((predicate, part, fname), ()):
                        rows[(part, fname, value)] = None
            if not rows:
                return None
            result: Any = 0
            for _, _, value in rows:
                result += value
            return result

        if not spec.over:
            owners = {e for (pred, e, fname) in values if pred == predicate and fname in spec.fields}
            for owner in sorted(owners):
                if named(owner):
                    value = total([owner])
                    if value is not None:
                        out.append((SUM, owner, spec.key, value))
        elif spec.over in TABLE_KINDS:
            value = total([e for e in of_kind.get(spec.over, ()) if named(e)])
            if value is not None:
                for owner in of_kind.get(spec.kind, ()):
                    out.append((SUM, owner, spec.key, value))
        else:
            for owner, kids in index.children_by_kind.get(spec.over, {}).items():
                value = total([c for c in kids if named(c)])
                if value is not None:
                    out.append((SUM, owner, spec.key, value))
    return out


@dataclass(frozen=True)
class BlockSpec:
    """Where a sum input's parts are (:class:`SumSpec`, names aside), for the subjects of kind
    ``subject`` one of whose parts may hold a cell that could not be read."""

    subject: str
    over: str
    fields: tuple[str, ...]

    @cached_property
    def key(self) -> str:
        """The constant that names the sum's parts in ``hegui_blocked`` facts."""
        return "\x1f".join([self.subject, self.over, "\x1e".join(self.fields)])


@dataclass(frozen=True)
class RowSpec:
    """The reads a rule makes of its subject as one fact each (``reads``: (predicate, key) pairs of
    a value predicate and field, ``hegui_sum`` and sum key, or ``hegui_via`` and via key), for the
    subjects of ``selection``: one ``hegui_row_N`` fact per subject and combination of values."""

    selection: Selection
    reads: tuple[tuple[str, str], ...]

    @cached_property
    def key(self) -> str:
        """The constant that names the row in ``hegui_row_N`` facts."""
        return "\x1d\x1d".join([self.selection.key, *("\x1c\x1c".join(read) for read in self.reads)])

    @property
    def predicate(self) -> str:
        """The row predicate of this many reads."""
        return f"{ROW}_{len(self.reads)}"


def blocked_facts(index: FactIndex, specs: Collection[BlockSpec]) -> list[tuple]:
    """``hegui_blocked(E, key)`` for each spec of ``specs`` and each entity of its subject kind one
    of whose parts has a field the sum adds that could not be read (adding the readable parts
    would read it as zero), or whose list of such children was cut off part-way. Found here once
    per filing, where the engine joined each unreadable cell with its owners per rule."""
    out: list[tuple] = []
    for spec in sorted(specs, key=lambda s: s.key):
        if spec.over in TABLE_KINDS:
            parts = index.of_kind.get(spec.over, ())
            if any((part, name) in index.unreadable for part in parts for name in spec.fields):
                out += [(BLOCKED, owner, spec.key) for owner in index.of_kind.get(spec.subject, ())]
            continue
        for owner in index.of_kind.get(spec.subject, ()):
            if spec.over:
                parts = [c for c in index.children.get(owner, ()) if spec.over in index.kinds.get(c, ())]
                cut_off = (owner, spec.over) in index.unreadable
            else:
                parts, cut_off = [owner], False
            if cut_off or any((part, name) in index.unreadable for part in parts for name in spec.fields):
                out.append((BLOCKED, owner, spec.key))
    return out


@dataclass(frozen=True)
class RateSpec:
    """What one stated-rate input looks for (:class:`~hegui.engine.checks.stated.StatedInput`): a
    费率 claim whose 名称 contains one of ``needles``, written per one of the 计量单位 ``pers``,
    with a 单价."""

    key: str
    needles: tuple[str, ...]
    pers: tuple[str, ...]


def claim_facts(
    facts: list[tuple], counts: Collection[str], rates: Collection[RateSpec], index: FactIndex | None = None
) -> list[tuple]:
    """``hegui_count(Scope, key, N, C)`` for the count keys of ``counts`` and
    ``hegui_stated(Scope, key, rate, C)`` for the stated rates of ``rates``: a claim ``C`` for
    each scope it is ``within`` (its owner, its table, the whole text). ``index``: the
    :class:`FactIndex` of ``facts``, when the caller has it.

    The engine joined the claims of a key (or the rates named so, of the unit, with a 单价) with
    the subject's scope, asked per subject and input: the same rows are joined here once per filing,
    so an input reads one literal per subject.
    """
    if not counts and not rates:
        return []
    index = index or FactIndex.of(facts)
    within = index.within
    out: list[tuple] = []
    for _, claim, key, number in index.counts:
        if key in counts:
            for scope in within.get(claim, ()):
                out.append((COUNT, scope, key, number, claim))
    for spec in sorted(rates, key=lambda s: s.key):
        for claim in sorted(index.of_kind.get("费率", ())):
            if not any(unit in spec.pers for unit in index.texts(claim, "计量单位")):
                continue
            if not any(needle in text for text in index.texts(claim, "名称") for needle in spec.needles):
                continue
            for value in index.values.get(("amount", claim, "单价"), ()):
                for scope in within.get(claim, ()):
                    out.append((STATED, scope, spec.key, value, claim))
    return out


@dataclass(frozen=True)
class Selection:
    """The entities a rule is about: of ``kind``, meeting every condition of ``where``.

    Tested beside the facts (:func:`presence_facts`), once per filing for every rule with the same
    subject: asked of the engine, a rule's conditions were a subgoal per condition and subject,
    and a subject bound by another literal asked them all again. The meaning of each ``op`` is
    that of the Datalog the conditions used to compile to, which
    ``tests/test_performance_mechanisms.py`` keeps as the reference.
    """

    kind: str
    where: tuple[Condition, ...] = ()

    @cached_property
    def key(self) -> str:
        """The constant that names the selection in ``hegui_subject`` and ``hegui_lacks_value`` facts."""
        conditions = ("\x1d".join([c.op, c.field, "\x1c".join(c.values)]) for c in self.where)
        return "\x1f".join([self.kind, "\x1e".join(conditions)])

    def holds(self, entity: str, facts: FactIndex) -> bool:
        """Whether ``entity`` is one of the selected (its kind is tested by the caller)."""
        for condition in self.where:
            op, name, values = condition.op, condition.field, condition.values
            if op == "equals":
                ok = values[0] in facts.texts(entity, name)
            elif op in ("contains_all", "contains_any", "excludes_any"):
                texts = facts.texts(entity, name)
                found = [any(needle in text for text in texts) for needle in values]
                ok = all(found) if op == "contains_all" else any(found) if op == "contains_any" else not any(found)
            elif op in ("present", "absent"):
                ok = ((entity, name) in facts.filled) == (op == "present")
            elif op == "has_children":
                ok = (entity, values[0]) in facts.child_kinds
            elif op == "in_table":
                ok = any(values[0] in facts.kinds.get(t, ()) for t in facts.related.get((entity, "所属表"), ()))
            else:  # a condition this version cannot test: never select silently
                raise ValueError(f"unknown where-condition {op!r}")
            if not ok:
                return False
        return True


@dataclass
class Precomputed:
    """What the compiled rules read from joins :func:`presence_facts` computes in Python beside
    a filing's facts, once per filing, instead of asking the engine for each subject."""

    #: (child kind, text field) pairs some rule reads through :meth:`RuleCompiler.child_text`
    child_fields: set[tuple[str, str]] = field(default_factory=set)
    #: the subjects of the rules (:meth:`RuleCompiler.subject_body`)
    subjects: set[Selection] = field(default_factory=set)
    #: (text field, number field) pairs read as one row through :meth:`RuleCompiler.text_number`
    text_numbers: set[tuple[str, str]] = field(default_factory=set)
    #: the sum inputs some rule reads through :meth:`RuleCompiler.sum_of`
    sums: set[SumSpec] = field(default_factory=set)
    #: the count keys some rule reads through :meth:`RuleCompiler.count_of`
    counts: set[str] = field(default_factory=set)
    #: the stated rates some rule reads through :meth:`RuleCompiler.stated_of`
    rates: set[RateSpec] = field(default_factory=set)
    #: (entity kind, child kind, field, text) read through :meth:`RuleCompiler.lacks_child`
    lacking: set[tuple[str, str, str, str]] = field(default_factory=set)
    #: (text field, number field) pairs compared through :meth:`RuleCompiler.disagree`
    disagreements: set[tuple[str, str]] = field(default_factory=set)
    #: (selection, predicate, field or sum key) read through :meth:`RuleCompiler.lacks`
    missing: set[tuple[Selection, str, str]] = field(default_factory=set)
    #: the fields read through a relation (:meth:`RuleCompiler.field_read`)
    via: set[ViaSpec] = field(default_factory=set)
    #: the sums whose unreadable parts some rule tests (:meth:`RuleCompiler.blocked`)
    blocked: set[BlockSpec] = field(default_factory=set)
    #: the rows of values rules read of their subjects (:meth:`RuleCompiler.inputs_body`)
    rows: set[RowSpec] = field(default_factory=set)
    #: (selection, code) of the observations rules report of their subjects (:meth:`RuleCompiler.observed`)
    observations: set[tuple[Selection, str]] = field(default_factory=set)
    #: which of the facts made for every filing (hegui_field, hegui_related, hegui_has_child,
    #: hegui_child_of) some clause reads; None: all of them
    families: frozenset[str] | None = None

    def update(self, other: Precomputed) -> None:
        """Add what ``other`` asks for (one rule's needs into the rule set's)."""
        for spec in fields(self):
            if spec.name != "families":
                getattr(self, spec.name).update(getattr(other, spec.name))


def presence_facts(facts: list[tuple], wanted: Precomputed | None = None) -> list[tuple]:
    """The facts computed beside a filing's ``facts`` for what ``wanted`` lists, once each.

    Always (unless ``wanted.families`` leaves them out): ``hegui_field(E, F)`` for each field
    with a value, ``hegui_related(E, R)`` for each relation, ``hegui_has_child(E, K)`` for each
    kind of child an entity has and ``hegui_child_of(E, K, C)`` for each child. Then, for what the
    rules read: texts of children (``hegui_child_text``), an entity's text and number as one row
    (``hegui_text_number``), disagreeing numbers of rows with one text (``hegui_disagree``),
    entities lacking a child with a text (``hegui_lacks_child``), sums (:func:`sum_facts`), fields
    through a relation (:func:`via_facts`), sums with an unreadable part (:func:`blocked_facts`),
    counts and stated rates within their scopes (:func:`claim_facts`), and for the rules' subjects
    (:class:`Selection`) the subjects themselves, those lacking a value they read, the rows of
    the values they read and their observations (``hegui_subject``, ``hegui_lacks_value``,
    ``hegui_row_N``, ``hegui_observed_row``).

    Each is a join the engine did per subject and rule; done here once per filing, the engine
    only combines them.
    """
    wanted = wanted or Precomputed()
    index = FactIndex.of(facts)
    kinds, parents, values = index.kinds, index.parents, index.values
    # Built for every filing, ~1,300 of them: only those some clause of the rule set reads.
    families = wanted.families if wanted.families is not None else frozenset((FIELD, RELATED, HAS_CHILD, CHILD_OF))
    out: dict[tuple, None] = {}
    if FIELD in families:
        out.update(((FIELD, entity, name), None) for entity, name in index.filled)
    if RELATED in families:
        out.update(((RELATED, entity, relation), None) for entity, relation in index.related)
    if HAS_CHILD in families:
        out.update(((HAS_CHILD, owner, kind), None) for owner, kind in index.child_kinds)
    if CHILD_OF in families:
        for child, owners in parents.items():
            for kind in kinds.get(child, ()):
                for owner in owners:
                    out[(CHILD_OF, owner, kind, child)] = None
    # The texts of entities that are some entity's child, for the joins through a child.
    child_texts = (
        [
            (child, kind, name, text)
            for (predicate, child, name), texts in values.items()
            if predicate == "text" and child in parents
            for kind in kinds.get(child, ())
            for text in texts
        ]
        if wanted.child_fields or wanted.lacking
        else []
    )
    if wanted.child_fields:
        for child, kind, name, text in child_texts:
            if (kind, name) in wanted.child_fields:
                for owner in parents[child]:
                    out[(CHILD_TEXT, owner, kind, name, text)] = None
    if wanted.text_numbers or wanted.disagreements:
        for text_field, number_field in sorted(wanted.text_numbers):
            for entity, text, number in _text_number_rows(index, text_field, number_field):
                out[(TEXT_NUMBER, entity, text_field, text, number_field, number)] = None
        for text_field, number_field in sorted(wanted.disagreements):
            stated: dict[str, dict[Any, None]] = {}
            for _, text, number in _text_number_rows(index, text_field, number_field):
                stated.setdefault(text, {})[number] = None
            for text, numbers_of in stated.items():
                for smaller in numbers_of:
                    for larger in numbers_of:
                        if smaller < larger:
                            out[(DISAGREE, text_field, number_field, text, smaller, larger)] = None
    if wanted.lacking:
        pairs = {(kind, field_name) for _, kind, field_name, _ in wanted.lacking}
        have = {
            (owner, kind, name, text)
            for child, kind, name, text in child_texts
            if (kind, name) in pairs
            for owner in parents[child]
        }
        for owner_kind, kind, field_name, value in sorted(wanted.lacking):
            for entity in index.of_kind.get(owner_kind, ()):
                if (entity, kind, field_name, value) not in have:
                    out[(LACKS_CHILD, entity, kind, field_name, value)] = None
    summed = sum_facts(facts, wanted.sums, index)
    out.update(dict.fromkeys(summed))
    through = via_facts(index, wanted.via)
    out.update(dict.fromkeys(through))
    blocked = blocked_facts(index, wanted.blocked)
    out.update(dict.fromkeys(blocked))
    claimed = claim_facts(facts, wanted.counts, wanted.rates, index)
    if wanted.subjects:
        computed = summed + through + blocked + claimed
        facts_of_subjects = _subject_facts(
            index, wanted.subjects, wanted.missing, computed, wanted.rows, wanted.observations
        )
        out.update(dict.fromkeys(facts_of_subjects))
    out.update(dict.fromkeys(claimed))
    return list(out)


def _text_number_rows(index: FactIndex, text_field: str, number_field: str) -> list[tuple[str, str, Any]]:
    """(entity, text, number) for each text of ``text_field`` and number of ``number_field`` of
    one entity."""
    return [
        (entity, text, number)
        for (predicate, entity, name), texts in index.values.items()
        if predicate == "text" and name == text_field
        for text in texts
        for number in index.values.get(("number", entity, number_field), ())
    ]


def _subject_facts(
    index: FactIndex,
    subjects: Collection[Selection],
    missing: Collection[tuple[Selection, str, str]],
    computed: list[tuple],
    rows: Collection[RowSpec] = (),
    observations: Collection[tuple[Selection, str]] = (),
) -> list[tuple]:
    """The ``hegui_subject``, ``hegui_lacks_value``, ``hegui_row_N`` and ``hegui_observed_row`` facts of :func:`presence_facts`
    (``computed``: the ``hegui_sum``, ``hegui_via``, ``hegui_blocked`` and claim facts, which the lacks
    and row facts also read)."""
    selected: dict[Selection, list[str]] = {}
    out: list[tuple] = []
    for selection in sorted(subjects, key=lambda s: s.key):
        chosen = [e for e in index.of_kind.get(selection.kind, ()) if selection.holds(e, index)]
        selected[selection] = chosen
        out += [(SUBJECT, entity, selection.key) for entity in chosen]
    has = {(fact[0], fact[1], fact[2]) for fact in computed}
    for selection, predicate, key in sorted(missing, key=lambda m: (m[0].key, m[1], m[2])):
        for entity in selected.get(selection, ()):
            if predicate == FIELD:
                present = (entity, key) in index.filled
            elif predicate == RELATED:
                present = (entity, key) in index.related
            elif predicate in _VALUE_PREDICATES:
                present = (predicate, entity, key) in index.values
            elif predicate == BLOCKED:  # a value is there, but not one to use
                present = (predicate, entity, key) not in has
            else:
                present = (predicate, entity, key) in has
            if not present:
                out.append((LACKS_VALUE, entity, selection.key, predicate, key))
    read: dict[tuple[str, str, str], list[tuple[Any, str]]] = {}  # (predicate, entity, key) → (value, origin)
    for fact in computed:
        if fact[0] == SUM:
            read.setdefault((SUM, fact[1], fact[2]), []).append((fact[3], fact[1]))
        elif fact[0] == VIA or fact[0] == COUNT:  # (predicate, entity, key, value, origin)
            read.setdefault((fact[0], fact[1], fact[2]), []).append((fact[3], fact[4]))
    for spec in sorted(rows, key=lambda r: r.key):
        for entity in selected.get(spec.selection, ()):
            combinations: list[tuple] = [()]
            for predicate, key in spec.reads:
                if predicate in _VALUE_PREDICATES:
                    pairs = [(value, entity) for value in index.values.get((predicate, entity, key), ())]
                else:
                    pairs = read.get((predicate, entity, key), [])
                combinations = [done + pair for done in combinations for pair in pairs]
            out += [(spec.predicate, entity, spec.key, *values) for values in combinations]
    for selection, code in sorted(observations, key=lambda o: (o[0].key, o[1])):
        for entity in selected.get(selection, ()):
            for name, seen_code, seen, want in index.observed.get(entity, ()):
                if seen_code == code:
                    out.append((OBSERVED_ROW, entity, selection.key, name, code, seen, want))
    return out


__all__ = [
    "EVALUATED",
    "OUTCOME",
    "OUTCOME_ARITY",
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
    #: the joins computed beside the facts that the rules read
    precomputed: Precomputed = field(default_factory=Precomputed)


class RuleCompiler:
    """Compiles one rule: the pieces every check kind shares, and the heads it writes to.

    A check kind's :meth:`~hegui.engine.checks.CheckKind.compile` builds its clauses with
    ``p`` (the :class:`Program`), :meth:`subject_body`, :meth:`inputs_body`, :meth:`input_body`
    and :meth:`look_for`, and adds them with :meth:`violation`, :meth:`cannot` and
    :meth:`evaluated`, whose rows carry this rule's id; :meth:`cannot_absent`,
    :meth:`cannot_unverifiable` and :meth:`report_lacking` add the rows for subjects without a
    value an input reads.
    """

    # Facts the evaluator asserts beside the filing's (see presence_facts): one lookup where
    # a rule over the three value predicates was four subgoals per entity and field.
    has_field = FIELD  # (entity, field): the field has a value
    has_rel = RELATED  # (entity, relation): the relation leads somewhere

    def __init__(
        self, program: Program, rule: Rule, needles: dict[str, set[str]], shared: dict[Hashable, str] | None = None
    ) -> None:
        self.p = program
        self.rule = rule
        self.needles = needles
        # Predicates that depend only on what defines them (a subject and its conditions, an
        # input read from a subject kind), shared by every rule of the rule set that needs the
        # same one: pyDatalog tables a subgoal once per filing, so a value many rules read is
        # looked up once, and one rule's violation, cannot-verify and evaluation clauses
        # resolve each input once between them.
        self.shared: dict[Hashable, str] = shared if shared is not None else {}
        self._applies: str | None = None
        #: what this rule reads from the joins computed beside the facts
        self.precomputed = Precomputed()

    def _shared(self, key: Hashable, define: Callable[[str], None], prefix: str) -> str:
        name = self.shared.get(key)
        if name is None:
            name = self.p.predicate(prefix)
            define(name)
            self.shared[key] = name
        return name

    # -- shared pieces ------------------------------------------------------------------------------
    def subject_body(self, subject: Any) -> list[Any]:
        """The subject and where-conditions, as one tabled predicate per rule.

        Every clause of a rule (each leg, each cannot-verify, the why-not evaluation) starts
        with the same prefix; naming it once lets pyDatalog resolve it once per filing.
        """
        p = self.p
        if self._applies is None:

            def define(name: str) -> None:
                s = p.var()
                p.clause(name, [s], self._subject_literals(s))

            rule = self.rule
            self._applies = self._shared(
                ("applies", rule.jurisdiction, rule.subject, tuple(rule.where)), define, "applies"
            )
        return [p.lit(self._applies, subject)]

    def _subject_literals(self, subject: Any) -> list[Any]:
        # The kind and where-conditions are tested beside the facts (Selection): asked with the
        # subject free, one lookup for all subjects.
        return self.subject_bound(subject)

    def selection(self) -> Selection:
        """The entities the rule is about (its subject kind and where-conditions), selected
        beside the facts for every rule that names them."""
        selection = Selection(self.rule.subject, tuple(self.rule.where))
        self.precomputed.subjects.add(selection)
        return selection

    def in_jurisdiction(self) -> Any:
        """The literal "the filing is of the rule's jurisdiction (or below it)": a pack's rules
        apply only there."""
        return self.p.lit("in_jurisdiction", self.rule.jurisdiction)

    def child_text(self, subject: Any, kind: str, field_name: str, value: Any) -> Any:
        """The literal "``subject`` has a child (所属) of ``kind`` whose ``field_name`` is ``value``"."""
        self.precomputed.child_fields.add((kind, field_name))
        return self.p.lit(CHILD_TEXT, subject, kind, field_name, value)

    def lacks_child(self, subject: Any, kind: str, field_name: str, value: str) -> Any:
        """The literal "``subject`` (of the rule's kind) has no child (所属) of ``kind`` whose
        ``field_name`` is ``value``": one precomputed fact per such subject, asked with the subject
        free (one lookup finds the few subjects lacking it, where the negation of
        :meth:`child_text` was a subgoal per subject and value)."""
        self.precomputed.lacking.add((self.rule.subject, kind, field_name, value))
        return self.p.lit(LACKS_CHILD, subject, kind, field_name, value)

    def disagree(self, text_field: str, number_field: str, text: Any, smaller: Any, larger: Any) -> Any:
        """The literal "rows whose ``text_field`` is ``text`` state the two numbers ``smaller`` <
        ``larger`` in ``number_field``": one precomputed fact per such pair (the engine joined
        every row's number with every other's of the same text and compared them)."""
        self.precomputed.disagreements.add((text_field, number_field))
        return self.p.lit(DISAGREE, text_field, number_field, text, smaller, larger)

    def child_of(self, subject: Any, kind: str, child: Any) -> Any:
        """The literal "``child`` is a child (所属) of ``subject`` and of ``kind``": one lookup
        per subject that finds only the children of that kind (a 附件3 has its indicators,
        detail lines and claims as children; rel then entity tested every one of them)."""
        return self.p.lit(CHILD_OF, subject, kind, child)

    def text_number(self, entity: Any, text_field: str, text: Any, number_field: str, number: Any) -> Any:
        """The literal "``entity`` has text ``text`` in ``text_field`` and number ``number`` in
        ``number_field``": one precomputed fact, where joining the two facts looked the number
        up once per entity."""
        self.precomputed.text_numbers.add((text_field, number_field))
        return self.p.lit(TEXT_NUMBER, entity, text_field, text, number_field, number)

    def sum_of(self, subject: Any, inp: Input, value: Any) -> Any:
        """The literal "``value`` is the sum ``inp`` adds up for ``subject``": one precomputed
        fact per subject (:func:`sum_facts`), absent when the subject has no part."""
        fields, over, names = tuple(inp.fields), inp.over or "", tuple(inp.name_contains)
        kind = self.rule.subject if over in TABLE_KINDS else ""
        numeric = bool(inp.numeric)
        # The key is built from the spec alone: the same sum read by two rules is one fact.
        key = "\x1f".join([kind, over, "\x1e".join(fields), "n" if numeric else "a", "\x1e".join(names)])
        self.precomputed.sums.add(SumSpec(key, kind, over, fields, numeric, names))
        return self.p.lit(SUM, subject, key, value)

    def _claim_scope(self, subject: Any, scope: str) -> tuple[Any, list[Any]]:
        """The entity a claim must be ``within`` for ``subject`` and ``scope``, and the literals
        that find it: the whole text, the subject itself (本行, or a table subject), its table."""
        p = self.p
        if scope == WHOLE:
            return WHOLE, []
        if scope == "本行" or self.rule.subject in TABLE_KINDS:
            return subject, []
        table = p.var()
        return table, [p.lit("rel", subject, "所属表", table)]

    def count_of(self, subject: Any, key: str, scope: str, value: Any, claim: Any) -> list[Any]:
        """The literals "``claim`` states ``value`` ``key`` within ``subject``'s ``scope``": one
        precomputed fact per (scope, key, value, claim) (:func:`claim_facts`)."""
        self.precomputed.counts.add(key)
        where, literals = self._claim_scope(subject, scope)
        return [*literals, self.p.lit(COUNT, where, key, value, claim)]

    def stated_of(
        self, subject: Any, needles: tuple[str, ...], pers: tuple[str, ...], scope: str, value: Any, claim: Any
    ) -> list[Any]:
        """The literals "``claim`` states the rate ``value`` named one of ``needles``, per one of
        ``pers``, within ``subject``'s ``scope``": one precomputed fact per (scope, key, value,
        claim) (:func:`claim_facts`)."""
        key = "\x1f".join(["\x1e".join(needles), "\x1e".join(pers)])
        self.precomputed.rates.add(RateSpec(key, needles, pers))
        where, literals = self._claim_scope(subject, scope)
        return [*literals, self.p.lit(STATED, where, key, value, claim)]

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

    def field_read(self, subject: Any, of: str, predicate: str, field_name: str, value: Any) -> tuple[Any, list[Any]]:
        """(origin term, literals) reading ``predicate(origin, field_name, value)`` of the entity
        ``of`` leads to from ``subject`` (:meth:`target`). Through a relation it is one fact
        computed beside the facts (``hegui_via``), where the relation and the field were a
        subgoal each per subject and rule."""
        p = self.p
        if of and of != FILING and of not in TABLE_KINDS:
            spec = ViaSpec(self.rule.subject, of, predicate, field_name)
            self.precomputed.via.add(spec)
            origin = p.var()
            return origin, [p.lit(VIA, subject, spec.key, value, origin)]
        origin, literals = self.target(subject, of)
        return origin, [*literals, p.lit(predicate, origin, field_name, value)]

    def _input_key(self, inp: Input) -> Hashable:
        # The name is the rule's own; what is read depends on the rest and the subject kind.
        return (self.rule.subject, replace(inp, name=""))

    def input_body(self, inp: Input, subject: Any) -> tuple[Any, Any, list[Any]]:
        """(value term, origin term, literals) for one input, as its input kind reads it.

        The input kind's literals define one predicate ``input(Subject, Value, Origin)`` per
        subject kind and input, shared by every clause and rule that reads it.
        """
        p = self.p
        key = ("input", self._input_key(inp))
        shape = self.shared.get(("shape", key))
        if shape is None:
            # The input kind's literals are built once per input: a kind may define predicates
            # of its own while building them (a stated rate does), which a second build repeated.
            s = p.var()
            value, origin, literals = inp.input_kind.body(self, inp, s)
            if len(literals) == 1 and literals[0].predicate_name in _DIRECT_READS and p.mentions(literals, s):
                # A field of the subject (itself or through a relation) or a sum is one fact
                # lookup, tabled per subject and so already shared by every rule: a predicate
                # around it was one more subgoal and two more steps per subject and input.
                shape = "direct"
            else:
                # A value that does not depend on the subject (a table's, the year, reference
                # data) is a predicate without it: one subgoal for every subject, where a subject
                # in the head needed a guard and a subgoal per subject.
                shape = "subject" if p.mentions(literals, s) else "free"
                name = p.predicate("input")
                p.clause(name, [s, value, origin] if shape == "subject" else [value, origin], literals)
                self.shared[key] = name
            self.shared[("shape", key)] = shape
        if shape == "direct":
            return inp.input_kind.body(self, inp, subject)
        value, origin = p.var(), p.var()
        args = [subject, value, origin] if shape == "subject" else [value, origin]
        return value, origin, [p.lit(self.shared[key], *args)]

    def inputs_body(self, subject: Any, inputs: list[Input]) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """((value, origin) per input, literals): "the rule applies to ``subject`` and each of
        ``inputs`` has that value", for a check kind that reads several inputs of one subject.

        The inputs read from the subject as one fact each (fields, sums, counts on its line, fields through a
        relation) are one ``hegui_row_N`` fact per subject, joined beside the facts for the
        rule's subjects: asked with the subject free, one lookup finds every subject with its
        values, where the subject's predicate and then a lookup per input and subject were a
        subgoal each. The other inputs follow, as :meth:`input_body` reads them.
        """
        p = self.p
        direct: list[tuple[int, Any]] = []
        others: list[Any] = []
        terms: list[tuple[Any, Any]] = []
        for index, inp in enumerate(inputs):
            value, origin, literals = self.input_body(inp, subject)
            terms.append((value, origin))
            if len(literals) == 1 and literals[0].predicate_name in _DIRECT_READS:
                direct.append((index, literals[0]))
            else:
                others += literals
        if not direct:
            return terms, [*self.subject_body(subject), *others]
        spec = RowSpec(self.selection(), tuple((lit.predicate_name, p.constant(lit.terms[1])) for _, lit in direct))
        self.precomputed.rows.add(spec)
        if ("row", spec.predicate) not in self.shared:
            p.declare(spec.predicate, 2 + 2 * len(direct))
            self.shared[("row", spec.predicate)] = spec.predicate
        values = [term for index, _ in direct for term in terms[index]]
        row = p.lit(spec.predicate, subject, spec.key, *values)
        return terms, [self.in_jurisdiction(), row, *others]

    def observed(self, subject: Any, name: Any, code: str, seen: Any, want: Any) -> list[Any]:
        """The literals "the rule applies to ``subject`` and the review saw ``code`` in its field
        ``name`` (``seen``, where ``want`` was expected)": the observations of the rule's subjects,
        joined beside the facts (``hegui_observed_row``), one lookup for every subject, where each
        observation asked the rule's selection again with its subject bound."""
        selection = self.selection()
        self.precomputed.observations.add((selection, code))
        return [self.in_jurisdiction(), self.p.lit(OBSERVED_ROW, subject, selection.key, name, code, seen, want)]

    def cannot_absent(self, inp: Input, before: list[Any]) -> None:
        """Report "cannot verify" for each subject of the rule without a value for ``inp``, when the
        subject-free literals ``before`` (periods, reference data) hold.

        A value read from the subject as one fact (a field, a sum, a count on its line, a field through a relation)
        is missing where a fact computed beside the facts says so: a row of the rule set's one
        clause for such rows (:meth:`report_lacking`). A value that does not depend on the
        subject is missing for all or none: its negation comes first, one subgoal, and ends the
        clause when the value exists. Others keep the negation after the subject.
        """
        p = self.p
        subject = p.var()
        _, _, literals = self.input_body(inp, subject)
        literal = literals[0]
        if literal.predicate_name in _DIRECT_READS:
            self.report_lacking("cannot", 0, inp.name, literal.predicate_name, p.constant(literal.terms[1]), before)
        elif not p.mentions(literals, subject):
            self.cannot(subject, inp.name, [*before, self.input_absent(inp, subject), *self.subject_body(subject)])
        else:
            self.cannot(subject, inp.name, [*before, *self.subject_body(subject), self.input_absent(inp, subject)])

    def report_lacking(self, status: str, leg: int, actual: str, predicate: str, key: str, before: list[Any]) -> None:
        """Add the outcome row ``(status, rule, subject, leg, actual, "", ())`` for each subject of the
        rule with no ``predicate(subject, key, …)`` fact, when the subject-free literals ``before``
        hold. ``predicate`` is a value predicate, ``hegui_sum``, ``hegui_via``, ``hegui_count``, ``hegui_field`` or
        ``hegui_related``.

        The subjects without it are found beside the facts (``hegui_lacks_value``, among the rule's
        :meth:`selection`), and one clause of the rule set joins them with a table of which rule
        reports what for which missing value (``hegui_lacking_row``, facts of the program): a
        clause of its own per rule and input cost its resolution on every check, and these rows
        are few (a filing usually fills what rules read).
        """
        p = self.p
        selection = self.selection()
        self.precomputed.missing.add((selection, predicate, key))
        gate = ""
        if before:
            gate = self.rule.id
            if self.shared.get(("gate", gate)) is None:
                p.clause(READY, [p.const(gate)], before)
                self.shared[("gate", gate)] = gate
        p.fact(
            LACKING_ROW, selection.key, predicate, key, status, self.rule.id, leg, actual, self.rule.jurisdiction, gate
        )

    def subject_bound(self, subject: Any) -> list[Any]:
        """The literals "the rule applies to ``subject``" for a subject another literal binds: the
        jurisdiction (one lookup) and the selection, without the rule's applies predicate, which
        asked with a bound subject was one more subgoal per subject."""
        return [self.in_jurisdiction(), self.p.lit(SUBJECT, subject, self.selection().key)]

    def input_absent(self, inp: Input, subject: Any) -> Any:
        """A literal that holds when ``inp`` has no value for ``subject``.

        The negation of the shared input predicate with its value and origin left free (no
        value at all): the same subgoal the violation clauses resolve, where a separate
        ``has`` predicate and its negation were two more subgoals per subject.
        """
        _, _, literals = self.input_body(inp, subject)
        return self.p.neg(literals[0])

    def input_unverifiable(self, inp: Input, subject: Any) -> Any | None:
        """The input kind's literal "``inp`` has a value for ``subject`` that cannot be used" (an
        addend that could not be read), or None when values of its kind always can."""
        return inp.input_kind.unverifiable(self, inp, subject)

    def cannot_unverifiable(self, inp: Input, before: list[Any]) -> None:
        """Report "cannot verify" for each subject of the rule whose value of ``inp`` cannot be used
        (:meth:`input_unverifiable`), when the subject-free literals ``before`` hold: a row of the
        rule set's one clause for such rows when the test is a fact computed beside the facts
        (:meth:`report_lacking`), else a clause that asks it first, with the subject free."""
        p = self.p
        subject = p.var()
        literal = self.input_unverifiable(inp, subject)
        if literal is None:
            return
        if literal.predicate_name == BLOCKED:
            self.report_lacking("cannot", 0, inp.name, BLOCKED, p.constant(literal.terms[1]), before)
        else:
            self.cannot(subject, inp.name, [*before, literal, *self.subject_bound(subject)])

    def blocked(self, subject: Any, inp: Input) -> Any:
        """The literal "one of the parts the sum ``inp`` adds up for ``subject`` could not be read":
        one fact per such subject computed beside the facts (:func:`blocked_facts`)."""
        spec = BlockSpec(self.rule.subject, inp.over or "", tuple(inp.fields))
        self.precomputed.blocked.add(spec)
        return self.p.lit(BLOCKED, subject, spec.key)

    # -- heads --------------------------------------------------------------------------------------
    def head(self, subject: Any, leg: int, actual: Any, expected: Any, witness: list[Any]) -> list[Any]:
        """The arguments of a violation (or evaluation) row of this rule."""
        p = self.p
        return [p.const(self.rule.id), subject, p.const(leg), actual, expected, p.tuple_of(witness)]

    def violation(self, head: list[Any], body: list[Any]) -> None:
        """The check fails for the row ``head`` (from :meth:`head`) whenever ``body`` holds."""
        # Straight into the outcome head: a violation predicate in between was one more
        # resolution step per finding.
        self.p.clause(OUTCOME, [self.p.const("fail"), *head], body)

    def evaluated(self, head: list[Any], body: list[Any]) -> None:
        """Record every evaluation, pass or fail, so why-not can show the ones that held."""
        self.p.clause(EVALUATED, head, body)

    def cannot(self, subject: Any, what: str, body: list[Any]) -> None:
        """The rule applies to ``subject`` but cannot be verified: ``what`` is missing."""
        p = self.p
        head = [
            p.const("cannot"),
            p.const(self.rule.id),
            subject,
            p.const(0),
            p.const(what),
            p.const(""),
            p.tuple_of([]),
        ]
        p.clause(OUTCOME, head, body)

    def compile(self) -> CompiledRule:
        return CompiledRule(self.rule, self.rule.check.compile(self))


def _builtins(program: Program) -> None:
    p = program
    e, f, v, r, k = (p.var() for _ in range(5))
    # The rule-level names of the presence facts, for rules written against them.
    p.clause("hegui_has_field", [e, f], [p.lit(FIELD, e, f)])
    p.clause("hegui_has_rel", [e, r], [p.lit(RELATED, e, r)])
    p.clause("hegui_param_defined", [k], [p.lit("param", k, v)])
    p.clause("hegui_reference_defined", [k], [p.lit("reference", k, v)])
    # Computed by presence_facts, not by clauses: a filing may have none of them.
    computed_beside = {
        HAS_CHILD: 2,
        CHILD_TEXT: 4,
        CHILD_OF: 3,
        TEXT_NUMBER: 5,
        SUM: 3,
        COUNT: 4,
        STATED: 4,
        LACKS_CHILD: 4,
        DISAGREE: 5,
        SUBJECT: 2,
        LACKS_VALUE: 4,
        VIA: 4,
        BLOCKED: 2,
        OBSERVED_ROW: 6,
        LACKING_ROW: 9,  # facts of the program, one per rule's row (RuleCompiler.report_lacking)
    }
    for predicate, arity in computed_beside.items():
        p.declare(predicate, arity)
    # The rows of the rules for subjects without a value they read (RuleCompiler.report_lacking).
    s, sel, pr, key, status, rule, leg, actual, juris, gate = (p.var() for _ in range(10))
    p.fact(READY, "")
    p.clause(
        OUTCOME,
        [status, rule, s, leg, actual, p.const(""), p.tuple_of([])],
        [
            p.lit(LACKS_VALUE, s, sel, pr, key),
            p.lit(LACKING_ROW, sel, pr, key, status, rule, leg, actual, juris, gate),
            p.lit("in_jurisdiction", juris),
            p.lit(READY, gate),
        ],
    )


def compile_rules(ruleset: RuleSet) -> Compiled:
    """Compile every rule of ``ruleset`` into one :class:`Program`."""
    with compiling():
        program = Program()
        _builtins(program)
        needles: dict[str, set[str]] = {}
        shared: dict[Hashable, str] = {}
        precomputed = Precomputed()
        compiled = {}
        for rule in ruleset.rules:
            rc = RuleCompiler(program, rule, needles, shared)
            compiled[rule.id] = rc.compile()
            precomputed.update(rc.precomputed)
        precomputed.families = frozenset(program.fact_filter([OUTCOME, EVALUATED]))
    return Compiled(program, compiled, needles, precomputed)
