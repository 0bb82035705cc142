"""The only module that talks to pyDatalog.

Clauses are built from pyDatalog ``Term`` objects, never from strings: ``pyDatalog.load``,
``ask`` and ``create_terms`` are not used anywhere in hegui because each of them evaluates
Python. Predicate and variable names are generated here from counters; text that comes
from a rule or a cell only ever enters as a constant (``Expression._pyD_for`` forces the
constant type, so a cell reading ``X`` or ``os.system`` is data, not a variable or a call).

A :class:`Program` holds one compiled rule set in its own pyDatalog ``Logic``; checking a
filing asserts its facts, runs one query per head predicate and retracts the facts, so no
state leaks from one filing to the next.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from pyDatalog import pyEngine
from pyDatalog.Logic import Logic
from pyDatalog.pyParser import Body, Expression, Term

_COMPARATORS = {"==", "!=", "<", "<=", ">", ">="}
_ARITH = {"+", "-", "*", "/"}
_ANY = object()  # any value, in a recorded literal pattern


class _Var(NamedTuple):
    """A variable of a recorded clause (by its generated name)."""

    name: str


class DatalogFailure(RuntimeError):
    """pyDatalog rejected a clause or a query (a compiler bug, never a user error)."""


class Program:
    """A compiled rule set in a private pyDatalog logic.

    The compiler builds clauses through :meth:`var`, :meth:`const`, :meth:`lit`,
    :meth:`neg`, :meth:`cmp`, :meth:`arith`, :meth:`sum_into` and :meth:`clause`; the
    evaluator calls :meth:`evaluate`. pyDatalog keeps its logic per thread, so a program is
    used by the thread that built it; :meth:`evaluate` re-installs the program's logic if
    another program ran in between.
    """

    # Which program's logic each thread has installed. A threading.local, not a dict keyed by
    # thread id: ids are reused after a thread ends, and a new thread must not inherit the
    # belief that a dead thread's logic is installed in it.
    _active = threading.local()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        Logic()  # a fresh, empty logic for this thread
        self._logic = Logic(True)
        Program._active.program = self
        self._heads: dict[str, int] = {}
        # What each defined predicate reads: head → [(predicate, (constant or _ANY, …)), …].
        # From it, evaluate() asserts only the facts some clause reachable from the query can
        # match; a filing has ~1,600 facts and a rule set reads a fraction of them.
        self._reads: dict[str, list[tuple[tuple, list[tuple[str, tuple]]]]] = {}
        self._fact_filters: dict[frozenset[str], dict[str, tuple[int, frozenset] | None]] = {}
        # The engine's predicate object of each fact predicate: a literal built from a name
        # looks it up in a weak registry, a third of the cost of turning a fact into a clause.
        self._fact_preds: dict[tuple[str, int], Any] = {}

    # -- building ---------------------------------------------------------------------------------
    def _ensure_active(self) -> None:
        if getattr(Program._active, "program", None) is not self:
            Logic(self._logic)
            self._logic = Logic(True)
            Program._active.program = self

    def var(self) -> Term:
        """A fresh variable (generated name, never user text)."""
        return Term(f"V{next(self._counter)}")

    def predicate(self, prefix: str) -> str:
        """A fresh predicate name; ``prefix`` must be an identifier chosen by the compiler."""
        if not prefix.isidentifier() or not prefix.isascii():
            raise DatalogFailure(f"invalid predicate prefix {prefix!r}")
        return f"{prefix}_{next(self._counter)}"

    @staticmethod
    def const(value: Any) -> Any:
        """A constant term. Strings, Decimals, ints and tuples of those only."""
        if isinstance(value, float):
            raise DatalogFailure("floats are not allowed in facts or clauses; use Decimal")
        return Expression._pyD_for(value)

    @staticmethod
    def constant(term: Any) -> Any:
        """The value of a constant term (as :meth:`const` made it); a variable is an error."""
        value = _pattern_term(term)
        if isinstance(value, _Var) or value is _ANY:
            raise DatalogFailure(f"{term} is not a constant")
        return value

    @staticmethod
    def lit(predicate: str, *args: Any) -> Any:
        """A positive literal ``predicate(args…)``; non-term arguments become constants."""
        terms = [a if isinstance(a, Expression) else Program.const(a) for a in args]
        return Term(predicate)(*terms)

    @staticmethod
    def neg(literal: Any) -> Any:
        """Negation as failure; every variable of ``literal`` must be bound before it."""
        return ~literal

    @staticmethod
    def cmp(left: Any, op: str, right: Any) -> Any:
        if op not in _COMPARATORS:
            raise DatalogFailure(f"unknown comparator {op!r}")
        left = left if isinstance(left, Expression) else Program.const(left)
        right = right if isinstance(right, Expression) else Program.const(right)
        return {
            "==": left.__eq__,
            "!=": left.__ne__,
            "<": left.__lt__,
            "<=": left.__le__,
            ">": left.__gt__,
            ">=": left.__ge__,
        }[op](right)

    @staticmethod
    def arith(op: str, left: Any, right: Any) -> Any:
        if op not in _ARITH:
            raise DatalogFailure(f"unknown operator {op!r}")
        if not isinstance(left, Expression) and not isinstance(right, Expression):
            left = Program.const(left)
        if not isinstance(left, Expression):
            left = Program.const(left)
        return {"+": left.__add__, "-": left.__sub__, "*": left.__mul__, "/": left.__truediv__}[op](right)

    @staticmethod
    def tuple_of(items: Iterable[Any]) -> Term:
        return Term([i if isinstance(i, Expression) else Program.const(i) for i in items])

    def clause(self, head: str, head_args: list[Any], body: list[Any]) -> None:
        """Add ``head(head_args) <= body₁ & body₂ …``."""
        if not body:
            raise DatalogFailure("a clause needs a body")
        self._ensure_active()
        conj = _conjunction(body)
        head_literal = Program.lit(head, *head_args)
        try:
            head_literal <= conj  # noqa: B015 - pyDatalog adds the clause in __le__
        except Exception as exc:  # pyDatalog raises bare Exceptions for malformed clauses
            raise DatalogFailure(f"clause for {head} rejected: {exc}") from exc
        self._heads[head] = len(head_args)
        self._record_reads(head, head_args, conj)

    def fact(self, predicate: str, *values: Any) -> None:
        """Add the fact ``predicate(values…)`` to the program itself (a table the rule set's
        clauses read), not to one filing's facts: it stays across checks."""
        self._ensure_active()
        for clause in _fact_clauses([(predicate, *values)], self._fact_preds):
            pyEngine.assert_(clause)

    def declare(self, predicate: str, arity: int) -> None:
        """Make ``predicate`` known as a fact predicate, so a filing without such facts answers
        no (or, negated, yes) instead of "predicate without definition"."""
        self._ensure_active()
        literal = pyEngine.Literal(predicate, [pyEngine.Var(f"D{i}") for i in range(arity)])
        pyEngine.insert(literal.pred)

    def sum_into(self, function: str, key: Any, value: Any, for_each: list[Any], body: list[Any]) -> None:
        """Define ``function[key] == sum(value for each distinct for_each)`` over ``body``."""
        self._ensure_active()
        conj = _conjunction(body)
        aggregate = Term("sum_")(value, for_each=for_each)
        try:
            (Term(function)[key] == aggregate) <= conj  # noqa: B015 - adds the clause
        except Exception as exc:
            raise DatalogFailure(f"aggregate {function} rejected: {exc}") from exc
        self._record_reads(function, [key], conj)

    def _record_reads(self, head: str, head_args: list[Any], conj: Any) -> None:
        body = []
        for literal in getattr(conj, "literals", [conj]):
            # "~p" is a negated literal, "f[1]==" a function (aggregate) value whose terms are
            # a class prefix, the keys and the value; bare operators ("==", ">") are
            # comparisons and read nothing.
            name = literal.predicate_name.lstrip("~")
            terms = literal.terms
            if "[" in name:
                name, terms = name.split("[", 1)[0], terms[1:-1]
            if name.isidentifier():
                body.append((name, tuple(_pattern_term(t) for t in terms)))
        self._reads.setdefault(head, []).append((tuple(_pattern_term(a) for a in head_args), body))

    def fact_filter(self, roots: Iterable[str]) -> dict[str, tuple[int, frozenset] | None]:
        """Which facts a query for ``roots`` can use: predicate → None (every fact of it) or
        (argument position, the constants some literal reads there).

        Computed from the clauses reachable from ``roots``, with the constants of each call
        carried into the clauses it calls (``hegui_has_field(S, "金额")`` reads only ``金额``
        facts). A fact of a predicate no such clause reads, or whose constant at the chosen
        position no literal names, cannot take part in any derivation: leaving it out changes
        no answer.
        """
        key = frozenset(roots)
        cached = self._fact_filters.get(key)
        if cached is not None:
            return cached
        seen: set[tuple[str, tuple]] = set()
        todo = [(r, (_ANY,) * self._arity(r)) for r in key if r in self._reads]
        patterns: dict[str, set[tuple]] = {}
        while todo:
            head, call = todo.pop()
            if (head, call) in seen:
                continue
            seen.add((head, call))
            for head_args, body in self._reads[head]:
                binding: dict[str, Any] = {}
                if not _bind(head_args, call, binding):
                    continue  # this clause cannot answer the call
                for name, pattern in body:
                    bound = tuple(binding.get(t.name, _ANY) if isinstance(t, _Var) else t for t in pattern)
                    if name in self._reads:
                        todo.append((name, bound))
                    else:
                        patterns.setdefault(name, set()).add(bound)
        result: dict[str, tuple[int, frozenset] | None] = {}
        for name, pats in patterns.items():
            result[name] = None
            arity = min(len(p) for p in pats)
            # Prefer the second argument (the field, kind or relation name), then any other.
            for position in sorted(range(arity), key=lambda i: (i != 1, i)):
                if all(p[position] is not _ANY for p in pats):
                    result[name] = (position, frozenset(p[position] for p in pats))
                    break
        self._fact_filters[key] = result
        return result

    def _arity(self, head: str) -> int:
        return len(self._reads[head][0][0])

    @staticmethod
    def mentions(literals: Iterable[Any], variable: Term) -> bool:
        """Whether ``variable`` is an argument of one of ``literals``."""
        name = variable._pyD_name
        return any(
            isinstance(t, Term) and t.is_variable() and t._pyD_name == name
            for literal in literals
            for t in literal.terms
        )

    @staticmethod
    def function_value(function: str, key: Any, value: Any) -> Any:
        """The literal ``function[key] == value`` for use in a clause body."""
        return Term(function)[key] == value

    # -- evaluating ---------------------------------------------------------------------------------
    def ask(self, predicate: str, arity: int) -> list[tuple]:
        """Every row of ``predicate`` (its facts asserted, the program's logic active), unsorted.

        Asked of the engine directly: the parser-level query wraps the literal in a clause of
        its own (asserted, resolved as one more layer per answer, retracted) and transposes
        the answers into variables, none of which a check needs.
        """
        variables = [pyEngine.Var(f"Q{i}") for i in range(arity)]
        rows = pyEngine.Literal(predicate, variables).ask()
        return [tuple(row) for row in rows] if isinstance(rows, list) else []

    def fact_clauses(self, facts: Iterable[tuple], wanted: dict[str, tuple[int, frozenset] | None]) -> list[Any]:
        """The engine clauses of the ``facts`` that pass ``wanted`` (see :meth:`fact_filter`)."""
        return _fact_clauses(_kept(facts, wanted), self._fact_preds)

    def evaluate(self, facts: Iterable[tuple], queries: dict[str, int]) -> dict[str, list[tuple]]:
        """Assert ``facts``, answer each ``{predicate: arity}`` query, retract, return rows.

        Rows are sorted so results never depend on pyDatalog's internal order.
        """
        with self._lock, _collector_paused():
            self._ensure_active()
            # Facts go straight to the engine: building parser-level literals for each of a
            # filing's ~1500 facts cost more than evaluating the rules.
            wanted = self.fact_filter(queries)
            clauses = assert_facts(self.fact_clauses(facts, wanted))
            try:
                results: dict[str, list[tuple]] = {}
                for predicate, arity in queries.items():
                    if predicate not in self._heads:
                        results[predicate] = []
                        continue
                    results[predicate] = sorted(self.ask(predicate, arity), key=_row_key)
                return results
            finally:
                retract_facts(clauses)


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while pyDatalog resolves a query.

    Resolution allocates tens of thousands of short-lived objects; with the collector on,
    a check spent a third of its time in full collections of objects that the compiled
    program keeps alive anyway. Reference counting still frees everything; the collector
    resumes right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def compiling():
    """Build a program with the collector paused, then move what survives out of its sight.

    With the collector off, everything compiling allocates stays in the youngest generation,
    so one young collection frees the parser's garbage without walking the whole heap (a
    full collection after compiling cost as much as a tenth of a cold start); freezing keeps
    later collections during checks from walking the compiled rules again.
    """
    with _collector_paused():
        yield
    gc.collect(0)
    gc.freeze()


def _fact_storage_known(pred: Any) -> bool:
    """Whether this pyDatalog keeps a predicate's clauses in a dict by id (``db``) and its facts
    in one dict of sets per argument (``index``), as the pyDatalog releases hegui runs on do
    (decided once; tests/test_performance_mechanisms.py compares the result with ``assert_``'s)."""
    global _FAST_FACTS
    if _FAST_FACTS is None:
        _FAST_FACTS = isinstance(getattr(pred, "db", None), dict) and isinstance(getattr(pred, "index", None), list)
    return _FAST_FACTS


_FAST_FACTS: bool | None = None


@dataclass
class AssertedFacts:
    """What :func:`assert_facts` stored, for :func:`retract_facts` to take out again."""

    clauses: list[Any]
    #: predicates that held no clause before: everything they hold now is one of ``clauses``
    fresh: list[Any] = field(default_factory=list)


def assert_facts(clauses: list[Any]) -> AssertedFacts:
    """Assert the fact ``clauses`` (no bodies), for :func:`retract_facts` to retract.

    ``pyEngine.assert_`` retracts an equal clause first and registers the predicate again, for
    every fact: with ~1,150 facts a check, that bookkeeping was a third of asserting. A fact
    whose id is not stored yet (all but duplicates) goes straight into the predicate's ``db``
    and indexes as ``assert_`` puts it there; a duplicate takes the engine's own path, so the
    last of equal facts is the one kept, as before. Each predicate is registered once.
    """
    if not clauses or not _fact_storage_known(clauses[0].head.pred):
        for clause in clauses:
            pyEngine.assert_(clause)
        return AssertedFacts(clauses)
    preds: dict[str, Any] = {}
    fresh = []
    for clause in clauses:
        pred = clause.head.pred
        db = pred.db
        if pred.id not in preds:
            preds[pred.id] = pred
            if not db:
                fresh.append(pred)
        key = clause.get_id()
        if key in db or pred.prim:
            pyEngine.assert_(clause)
            continue
        db[key] = clause
        index = pred.index
        for i, term in enumerate(clause.head.terms):
            index[i].setdefault(term.id, set()).add(clause)
    for pred in preds.values():
        pyEngine.insert(pred)
    return AssertedFacts(clauses, fresh)


def retract_facts(asserted: AssertedFacts) -> None:
    """Retract the facts :func:`assert_facts` asserted, as ``pyEngine.retract`` does for a fact.

    A predicate that held nothing before them is emptied at once: its store and indexes hold only
    these facts (resolution keeps what it derives in its subgoals, not there), and taking ~1,000
    facts out one by one was a twentieth of a check.
    """
    if not _FAST_FACTS:
        for clause in asserted.clauses:
            pyEngine.retract(clause)
        return
    emptied = set()
    for pred in asserted.fresh:
        pred.db.clear()
        for column in pred.index:
            column.clear()
        emptied.add(pred.id)
    for clause in asserted.clauses:
        pred = clause.head.pred
        if pred.id in emptied:
            continue
        stored = pred.db.pop(clause.get_id(), None)
        if stored is None:  # an equal fact retracted already
            continue
        index = pred.index
        for i, term in enumerate(stored.head.terms):
            facts = index[i][term.id]
            facts.remove(stored)
            if not facts:
                del index[i][term.id]


_PLAIN = frozenset({str, Decimal, int})  # fact values that are engine constants as they are


def _fact_clauses(facts: list[tuple], preds: dict[tuple[str, int], Any]) -> list[Any]:
    """The engine clauses of ``facts``; ``preds`` caches the predicate objects (per program).

    One loop with the engine's constructors at hand: a filing has ~1,300 facts to turn into
    clauses on every check, and a function call and a generic conversion per value showed.
    """
    const, literal_of, clause_of, plain = pyEngine.Const, pyEngine.Literal, pyEngine.Clause, _PLAIN
    out = []
    for fact in facts:
        terms = [const(v) if type(v) in plain else _term_of(v) for v in fact[1:]]
        key = (fact[0], len(terms))
        pred = preds.get(key)
        if pred is None:
            literal = literal_of(fact[0], terms)
            preds[key] = literal.pred
        else:
            literal = literal_of(pred, terms)
        out.append(clause_of(literal, []))
    return out


def _term_of(value: Any) -> Any:
    if isinstance(value, float):
        raise DatalogFailure("floats are not allowed in facts; use Decimal")
    return pyEngine.Term_of(value)


def _conjunction(body: list[Any]) -> Any:
    """``body₁ & body₂ & …`` built in one step: chaining ``&`` rebuilt the conjunction (and
    its variable index) once per literal, a quadratic share of compiling a rule set."""
    if len(body) == 1:
        return body[0]
    conj = Body(*body)
    return conj if len(conj.literals) != 1 else conj.literals[0]


def _pattern_term(term: Any) -> Any:
    """A recorded argument: a :class:`_Var` for a variable, else the constant's value."""
    if isinstance(term, Term) and term.is_variable():
        return _Var(term._pyD_name)
    if isinstance(term, Expression) and not isinstance(term, Term):
        return _ANY  # an arithmetic expression: any value
    return term._pyD_value if isinstance(term, Term) else term


def _bind(head_args: tuple, call: tuple, binding: dict[str, Any]) -> bool:
    """Bind the head's variables to the call's constants; False if a constant clashes."""
    for head_arg, value in zip(head_args, call, strict=False):
        if isinstance(head_arg, _Var):
            if value is _ANY:
                continue
            known = binding.get(head_arg.name, _ANY)
            if known is not _ANY and known != value:
                return False
            binding[head_arg.name] = value
        elif value is not _ANY and head_arg is not _ANY and head_arg != value:
            return False
    return True


_SKIP: Any = object()  # a predicate no clause reads, in a fact filter


def _kept(facts: Iterable[tuple], wanted: dict[str, tuple[int, frozenset] | None]) -> list[tuple]:
    """The ``facts`` that pass ``wanted`` (:meth:`Program.fact_filter`).

    One loop with the test written out: a filing has ~2,000 facts before filtering, and a call
    per fact was a tenth of asserting them.
    """
    kept = []
    for fact in facts:
        test = wanted.get(fact[0], _SKIP)
        if test is None:
            kept.append(fact)
        elif test is not _SKIP:
            position, values = test
            if position + 1 < len(fact) and fact[position + 1] in values:
                kept.append(fact)
    return kept


def _row_key(row: tuple) -> tuple:
    return tuple((type(v).__name__, str(v)) for v in row)
