"""Check filings against a compiled rule set and turn engine answers into findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from hegui.engine.checks.inputs import SumInput
from hegui.engine.checks.stated import rate_amount, rate_suffix
from hegui.engine.compiler import EVALUATED, OUTCOME, OUTCOME_ARITY, Compiled, compile_rules, presence_facts
from hegui.engine.explain import explain_finding
from hegui.engine.findings import STATUS_CANNOT_VERIFY, STATUS_FAIL, Evidence, Finding, finding_id
from hegui.engine.registry import Registry
from hegui.engine.rules import BUDGET, Input, Parameter, Rule, RuleLoadError, RuleProblem, RuleSet, describe_input
from hegui.facts.model import Filing
from hegui.facts.units import DIMENSIONLESS, Unit, format_decimal, format_money
from hegui.facts.vocabulary import FILING, FactSet, filing_facts

CANNOT_VERIFY_SEVERITY = "warning"

T = TypeVar("T")

# Compiled programs of this process, by the content of the rules they were compiled from. The
# program depends on the rules alone (parameters and reference data are facts of each check),
# and compiling is most of a cold start: the workbench's impact preview, the CLI run in-process
# by a pipeline or a test, and a service that rebuilds its checker would otherwise compile the
# same rules again each time. Bounded, so a long-running process that previews many changed
# rule packs keeps only the latest few.
_COMPILED_LIMIT = 8
_compiled: OrderedDict[bytes, Compiled] = OrderedDict()
_compiled_lock = threading.Lock()


class _Unkeyable(Exception):
    """A value whose content cannot be written down (so two rule sets cannot be compared)."""


def _content(value: Any) -> Any:
    """``value`` written down by content and type: equal rules give equal forms whatever the
    object sharing (a rule set from the cache shares strings a fresh load does not, so their
    pickles differ), and two classes of the same name from different modules differ."""
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if value is None or kind in (str, int, bool, Decimal, dt.date):
        return (name, repr(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (name, tuple((f.name, _content(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, enum.Enum):
        return (name, value.name)
    if kind in (list, tuple):
        return (name, tuple(_content(item) for item in value))
    if kind in (set, frozenset):
        return (name, tuple(sorted(repr(_content(item)) for item in value)))
    if kind is dict:
        return (name, tuple(sorted((repr(_content(k)), _content(v)) for k, v in value.items())))
    if isinstance(value, re.Pattern):
        return (name, value.pattern, value.flags)
    raise _Unkeyable(name)


def _rules_digest(ruleset: RuleSet) -> bytes | None:
    """A digest of everything the compiler reads, or None when some part of a rule cannot be
    written down by content (such a rule set is compiled every time)."""
    try:
        form = _content(ruleset.rules)
    except _Unkeyable:
        return None
    return hashlib.sha256(repr(form).encode("utf-8")).digest()


def compiled_rules(ruleset: RuleSet, *, reuse: bool = True) -> Compiled:
    """``ruleset`` compiled, reusing this process's compilation of the same rules if any.

    ``reuse=False`` always compiles (``bench/`` times the compilation itself).
    """
    digest = _rules_digest(ruleset) if reuse else None
    if digest is None:
        return compile_rules(ruleset)
    with _compiled_lock:
        found = _compiled.get(digest)
        if found is not None:
            _compiled.move_to_end(digest)
            return found
    compiled = compile_rules(ruleset)
    with _compiled_lock:
        _compiled[digest] = compiled
        while len(_compiled) > _COMPILED_LIMIT:
            _compiled.popitem(last=False)
    return compiled


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
    ``reuse_compiled=False`` compiles even when this process already compiled the same rules
    (see :func:`compiled_rules`).
    """

    def __init__(
        self, ruleset: RuleSet, registry: Registry, *, reuse_compiled: bool = True, compile_now: bool = True
    ) -> None:
        """``compile_now=False`` compiles on the first use of :attr:`compiled` instead (a process that
        only hands filings to workers never needs the program)."""
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
        self._reuse_compiled = reuse_compiled
        self._compiled = compiled_rules(ruleset, reuse=reuse_compiled) if compile_now else None
        # What findings need from a compiled rule alone (FindingBuilder.prepared), kept as long
        # as the rules: worked out again for every finding, it was most of what one cost.
        self._prepared: dict[Hashable, Any] = {}

    @property
    def compiled(self) -> Compiled:
        """The rule set compiled (once, at the first use when the evaluator was made without)."""
        if self._compiled is None:
            self._compiled = compiled_rules(self.ruleset, reuse=self._reuse_compiled)
        return self._compiled

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
        facts: list[tuple] = [("in_jurisdiction", name) for name in chain]
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
            factset.raw
            + self.param_facts(filing.year, chain)
            + self.jurisdiction_facts(chain)
            + self.match_facts(factset.raw)
            + presence_facts(factset.raw, self.compiled.precomputed)
        )
        queries = {OUTCOME: OUTCOME_ARITY}
        if explain:
            queries[EVALUATED] = OUTCOME_ARITY - 1
        answered = self.compiled.program.evaluate(facts, queries)
        findings = _FindingBuilder(self, filing, factset, chain).build(answered[OUTCOME])
        result = CheckResult(filing, findings, factset, chain)
        if explain:
            result.evaluations = answered[EVALUATED]
            result.findings = [replace(f, explanation=explain_finding(self, result, f)) for f in findings]
        return result


def _table_order(label: str) -> tuple:
    # Numbers compared as (length, digits) without leading zeros: the order of int() without
    # its cost or its 4,300-digit limit on a label a filing wrote.
    numbers = [(len(n.lstrip("0")), n.lstrip("0")) for n in re.findall(r"\d+", label)]
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


def _in_report_order(findings: list[Finding], prov: Any) -> None:
    """Sort ``findings`` by table, reading position, line, rule and id."""
    # A filing has a handful of tables: each label's order is worked out once, not per finding.
    orders: dict[str, tuple] = {}

    def key(f: Finding) -> tuple:
        order = orders.get(f.table)
        if order is None:
            order = orders[f.table] = _table_order(f.table)
        return (order, prov.position(f.location), f.line, f.rule_id, f.id)

    findings.sort(key=key)


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@functools.lru_cache(maxsize=1024)
def _template(message: str) -> tuple[str, ...]:
    """``message`` split at its ``{名称}`` placeholders: text, name, text, … name, text."""
    return tuple(_PLACEHOLDER.split(message))


# How a Decimal of a unit is shown (FindingBuilder.show): as a rate, as money, or as a number,
# followed by a suffix that depends on the unit alone.
_RATE, _MONEY, _NUMBER = "rate", "money", "number"


@functools.lru_cache(maxsize=256)
def _display(unit: Unit | None) -> tuple[str, str]:
    if unit is None:
        return _NUMBER, ""
    per = rate_suffix(unit)
    if per is not None:
        return _RATE, per
    if unit.money == 1:
        return _MONEY, "" if unit in (BUDGET,) or unit.dims == () else f"（{unit}）"
    return _NUMBER, "" if unit == DIMENSIONLESS else str(unit)


class FindingBuilder:
    """Turns the engine's rows for one filing into findings.

    Check kinds build their findings through it (:meth:`fail`, :meth:`evidence`,
    :meth:`with_id`) with its formatting and provenance helpers; cannot-verify findings
    are the same for every kind and built here.
    """

    def __init__(self, checker: Evaluator, filing: Filing, factset: FactSet, chain: list[str]) -> None:
        self.checker = checker
        self.chain = chain
        self.filing = filing
        self.prov = factset.provenance
        self.unit = filing.display_unit
        # Of this filing only: several findings cite the same cell and the same parameters.
        self._where: dict[tuple[str, str | None], tuple[str, int]] = {}
        self._decided: dict[int, tuple[Parameter, Parameter, Any]] = {}

    def build(self, answers: list[tuple]) -> list[Finding]:
        """The findings of the engine's outcome rows: failures, then "cannot verify", each
        finding once (the first row that gives its id), sorted as the report lists them."""
        rules = self.checker.compiled.rules
        findings: list[Finding] = []
        # Rows that can only repeat a finding already built (same id) are not built at all: a
        # rate stated in several sentences gives one row per sentence for one subject.
        built: set[tuple] = set()
        for row in answers:
            if row[0] != "fail":
                continue
            if rules[row[1]].rule.check.identified_by_row:
                seen = (row[1], row[2], row[3])
                if seen in built:
                    continue
                built.add(seen)
            findings.append(self.violation(row[1:]))
        for row in answers:
            if row[0] != "cannot":
                continue
            seen = ("cannot", row[1], row[2])
            if seen in built:
                continue
            built.add(seen)
            findings.append(self.cannot((row[1], row[2], row[4])))
        findings = _dedupe(findings)
        _in_report_order(findings, self.prov)
        return findings

    def prepared(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, worked out once while the evaluator's rules are the same: for what
        findings need from a compiled rule alone, never from the filing. ``key`` names the
        rule (its id) and what is prepared for it."""
        store = self.checker._prepared
        try:
            return store[key]
        except KeyError:
            made = store[key] = make()
            return made

    def decided(self, param: Parameter) -> tuple[Parameter, Any]:
        """The parameter that decides for the filing in place of ``param``, and its value for
        the filing's year (:meth:`Evaluator.resolve`)."""
        found = self._decided.get(id(param))
        if found is None:
            # ``param`` is kept with its answer so that its id stays its own while this filing is built.
            found = self._decided[id(param)] = (param, *self.checker.resolve(param, self.filing.year, self.chain))
        return found[1], found[2]

    # -- formatting ---------------------------------------------------------------------------------
    def show(self, value: Any, unit: Unit | None) -> str:
        """``value`` as a reviewer reads it: money in the filing's unit, a rate as filings
        write it (2000元/人/月), a count with its unit."""
        if isinstance(value, Decimal):
            how, suffix = _display(unit)
            if how is _RATE:
                return rate_amount(value, self.unit) + suffix
            if how is _MONEY:
                return format_money(value, self.unit) + suffix
            return format_decimal(value) + suffix
        return str(value)

    def place(self, entity: str) -> str:
        src = self.prov.source(entity)
        return src.place if src is not None else ""

    def location(self, entity: str, field_name: str | None = None) -> tuple[str, int]:
        key = (entity, field_name)
        found = self._where.get(key)
        if found is None:
            src = self.prov.source(entity, field_name)
            found = self._where[key] = (str(src), src.line) if src is not None else (self.filing.path, 0)
        return found

    def _base(
        self,
        rule: Rule,
        subject: str,
        leg: int,
        status: str,
        key: str | None,
        where: tuple[str, int] | None,
        item_override: str | None,
        kw: dict[str, Any],
    ) -> Finding:
        table = self.prov.table_of.get(subject, "")
        item = item_override or self.prov.item_of.get(subject, subject)
        location, line = where or self.location(subject)
        return Finding(
            id=finding_id(rule.id, subject, leg, status) if key is None else finding_id(rule.id, key, 0, status),
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

    # -- what check kinds build with ----------------------------------------------------------------
    def fail(
        self,
        rule: Rule,
        subject: str,
        leg: int,
        *,
        key: str | None = None,
        where: tuple[str, int] | None = None,
        item_override: str | None = None,
        **kw: Any,
    ) -> Finding:
        """A failing finding of ``rule`` for ``subject``; ``where`` (location, line) defaults to
        the subject's, ``item_override`` to its item; with ``key``, the finding is identified
        by it as :meth:`with_id` does (without building the record twice); other keywords are
        Finding fields."""
        return self._base(rule, subject, leg, STATUS_FAIL, key, where, item_override, kw)

    @staticmethod
    def evidence(name: str, value: str, location: str = "", text: str = "") -> Evidence:
        """One value the rule used, as shown, where it was read and the text it was read from."""
        return Evidence(name, value, location, text)

    @staticmethod
    def with_id(finding: Finding, key: str) -> Finding:
        """``finding`` identified by ``key`` instead of its subject and leg (one finding per key)."""
        return replace(finding, id=finding_id(finding.rule_id, key, 0, finding.status))

    def input_evidence(self, inp: Input | None, shown: str, origin: Any) -> Evidence:
        assert inp is not None
        kind = inp.input_kind
        field_name = kind.evidence_field(inp)
        where, _ = self.location(str(origin), field_name)
        text = kind.evidence_text(self, inp, str(origin), field_name)
        return Evidence(inp.name, shown, where, text.strip())

    # -- violations ---------------------------------------------------------------------------------
    def violation(self, row: tuple) -> Finding:
        rule_id, subject, leg, actual, expected, witness = row
        compiled = self.checker.compiled.rules[rule_id]
        return compiled.rule.check.finding(self, compiled, subject, leg, actual, expected, witness)

    # -- cannot verify ------------------------------------------------------------------------------
    def cannot(self, row: tuple) -> Finding:
        rule_id, subject, what = row
        rule = self.checker.compiled.rules[rule_id].rule
        inp = next((i for i in rule.inputs if i.name == what), None)
        where = None
        blank = inp.input_kind.blank_cell(self, inp, subject) if inp is not None else None
        if inp is not None and blank is not None:
            where = self.location(blank, inp.field)
        kind_message = rule.check.cannot_message(self, rule, subject, what) if inp is None else None
        described = describe_input(inp) if inp is not None else "规则包参数"
        if inp is not None:
            if blank is not None:
                raw = self.prov.raw_text.get((blank, inp.field), "").strip()
                state = "未填写" if raw in ("", "/", "-", "—") else f"写的是“{raw}”，读不出所需的值"
                looked = f"{self.prov.table_of.get(blank, blank)}的“{inp.field}”栏{state}"
            else:
                looked = f"查找范围：{described}"
            message = f"无法核实“{rule.title}”：缺少{what}（{looked}）"
            # A table cut off in the copy: say which part was not in the file.
            table = self.prov.table_of.get(str(subject), "")
            note = self.prov.cut_off.get(str(subject)) or self.prov.cut_off.get(table)
            if note and (isinstance(inp.input_kind, SumInput) or blank is None):
                message += f"；{note}"
        elif kind_message is not None:
            message = kind_message
        else:
            message = f"无法核实“{rule.title}”：参数“{what}”在{self.filing.year or '未知'}年度没有有效取值"
        return self._base(
            rule,
            subject,
            0,
            STATUS_CANNOT_VERIFY,
            None,
            where,
            None,
            {
                "message": message,
                "expected": f"需要{what}",
                "actual": "缺失",
                "evidence": (Evidence(what, "缺失", "", described),),
            },
        )

    @staticmethod
    def fill(rule: Rule, values: dict[str, str]) -> str:
        """Fill ``{名称}`` placeholders by plain substitution: no format-string machinery."""
        if not rule.message:
            return ""
        parts = _template(rule.message)
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            name = parts[index]
            out.append(values.get(name, "{" + name + "}"))
            out.append(parts[index + 1])
        return "".join(out)


# The name Evaluator.check builds it by.
_FindingBuilder = FindingBuilder


__all__ = ["FILING", "CheckResult", "Evaluator"]
