"""The contract every check kind fulfils, and the registry that maps YAML to kinds.

A rule's ``check:`` section says *how* the rule checks its subject: an expression to compare
(``金额 = 标准 × 村数``), fields that must be filled (``{required: [...]}``), words that must
not appear (``{forbid_text: [...]}``) and so on. Each of these ways is one
:class:`CheckKind` subclass, and everything the engine does with a rule that depends on how
it checks is a method of that class:

=====================  ===========================================================================
``parse``              read the YAML section, report problems with file, line and key (Chinese)
``compile``            emit the Datalog clauses that find violations (through :class:`RuleCompiler`)
``finding``            turn one violation row into a :class:`~hegui.engine.findings.Finding`
``explain_finding``    the derivation tree of a failing finding (``--explain``, ``hegui why``)
``explain_evaluation`` the tree of an evaluation that held (only kinds that record evaluations)
``describe``           one sentence for the catalogue (``hegui rule ID``, ``rules doc``, the service)
``label``              how explanations name the check (``rule.check`` in the derivation JSON)
``signature``          what makes two rules' checks the same (``hegui rules lint`` duplicates)
``lint``               kind-specific lint messages
=====================  ===========================================================================

A rule holds an instance of its kind (:attr:`hegui.engine.rules.Rule.check`); callers call
these methods and never compare kind names. Adding a kind is one subclass decorated with
:func:`register_check_kind` (and its tests): loading, compiling, findings, explanations,
lint and the catalogue then work for it.

This module imports nothing from the rest of the engine at run time: the loader, compiler,
evaluator and explainer hand each method the object it needs, so the kinds sit below them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from hegui.engine.checks.inputs import Input
    from hegui.engine.compiler import CompiledRule, RuleCompiler
    from hegui.engine.evaluate import FindingBuilder
    from hegui.engine.explain import Explainer
    from hegui.engine.findings import Finding
    from hegui.engine.rules import Parameter, Rule
    from hegui.engine.strictyaml import Located, Mark


class Reader(Protocol):
    """What a kind's :meth:`CheckKind.parse` may use to read YAML and report problems.

    Every problem is recorded with the file, the rule id and the key path (the loader's
    breadcrumb) and loading stops after all files are read; a kind never raises for bad input.
    """

    def problem(self, mark: Mark | None, path: str, message: str, expected: str = "", suggestion: str = "") -> None:
        """Record one problem at ``mark`` (line and column) under key path ``path``."""

    def text(self, node: Located, key: str, path: str, *, required: bool = True, limit: int = 2000) -> str:
        """``node[key]`` as text, or "" with a problem (missing when required, not text, too long)."""

    def text_list(self, value: Any, mark: Mark | None, path: str) -> tuple[str, ...]:
        """A text or a non-empty list of texts, or () with a problem."""

    def mapping(self, value: Any, mark: Mark | None, path: str) -> Located | None:
        """``value`` if it is a mapping, else None with a problem."""

    def check_keys(self, node: Located, allowed: dict[str, str], path: str) -> None:
        """A problem (with did-you-mean) for every key of ``node`` not in ``allowed`` (key → Chinese name)."""

    def field_ok(self, kind: str | None, name: str, ftype: str, mark: Mark | None, path: str) -> bool:
        """Whether entity kind ``kind`` has a field ``name`` of type amount/number/text; a problem if not."""

    def fields(self, kind: str, ftype: str) -> tuple[str, ...]:
        """The fields of type ``ftype`` (amount, number, text) of entity kind ``kind``."""

    def all_fields(self, kind: str) -> tuple[str, ...]:
        """Every field of entity kind ``kind``."""

    def suggest(self, word: str, choices: Iterable[str]) -> str:
        """The closest of ``choices`` to a misspelt ``word``, or ""."""

    def describe(self, value: Any) -> str:
        """A YAML value as a reviewer would name it in an error (``数字 3``, ``列表``…)."""


@dataclass(frozen=True)
class CheckSection:
    """A rule's ``check:`` value with what the kind needs to validate it."""

    reader: Reader
    value: Any  # the YAML value of ``check:``: text, or a mapping
    mark: Mark | None  # where ``check:`` is written
    rule_node: Located  # the whole rule, for problems that belong to another key (e.g. subject)
    subject: str  # the rule's subject kind ("" when it was refused)
    inputs: tuple[Input, ...]  # the rule's inputs, already validated
    parameters: dict[str, Parameter]  # the pack's parameters by name
    declared: frozenset[str]  # every name the file declares, including refused ones


@dataclass(frozen=True)
class WitnessSlot:
    """What position ``index`` of a rule's witness tuple holds."""

    name: str
    role: str  # input | origin | param
    input: Input | None = None


class CheckKind(ABC):
    """One way a rule checks its subject. Subclasses are frozen dataclasses of their YAML.

    Class attributes a subclass sets:

    * ``keyword`` — the key under ``check:`` that selects the kind (``required``); the empty
      string selects the kind for a bare expression (``check: 金额 ≤ 上限``).
    * ``name`` — a stable name, shown as ``rule.check`` in explanations when :meth:`label`
      has nothing better.
    * ``keys`` — every key the section may contain, with its Chinese name (for typo errors).
    * ``identified_by_row`` — True when :meth:`finding` identifies every finding by the row's
      subject and leg (``fb.fail`` without ``key``): of several rows of one subject and leg,
      only the first is then built, the others being the same finding, which the report
      lists once. False (the default) builds every row.

    The class docstring is the kind's documentation: say what it checks and the YAML it takes.
    """

    keyword: ClassVar[str]
    name: ClassVar[str]
    keys: ClassVar[dict[str, str]] = {}
    identified_by_row: ClassVar[bool] = False

    # -- loading ------------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def parse(cls, section: CheckSection) -> CheckKind | None:
        """The kind's instance for ``section``, or None after reporting every problem found."""

    def parameters(self) -> tuple[Parameter, ...]:
        """The pack parameters the check uses, in order of first use (none by default)."""
        return ()

    # -- compiling ----------------------------------------------------------------------------------
    @abstractmethod
    def compile(self, rc: RuleCompiler) -> list[WitnessSlot]:
        """Add the rule's clauses through ``rc``; return what each witness position holds.

        A violation row is (subject, leg, actual, expected, witness); ``rc.violation`` adds
        a clause for it, ``rc.cannot`` one for "cannot verify", ``rc.evaluated`` one for an
        evaluation that the why-not explanation can show when it held. Bodies start from
        ``rc.subject_body`` (the rule's subjects) or ``rc.inputs_body`` (its subjects with the
        values of several inputs, one row each); ``rc.cannot_absent`` and ``rc.report_lacking``
        add the rows for subjects without a value an input reads, found beside the facts.
        """

    # -- findings -----------------------------------------------------------------------------------
    @abstractmethod
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
        """The finding for one violation row of this rule (``fb.fail`` builds the record)."""

    def cannot_message(self, fb: FindingBuilder, rule: Rule, subject: str, what: str) -> str | None:
        """The message of a "cannot verify" row whose ``what`` is neither an input nor a parameter.

        Kinds whose ``compile`` adds such ``rc.cannot`` rows say here what could not be seen;
        ``None`` (the default) means the kind adds none.
        """
        return None

    # -- explanations -------------------------------------------------------------------------------
    def explain_finding(self, ex: Explainer, rule: Rule, finding: Finding) -> dict[str, Any]:
        """The parts of a failing finding's derivation tree after rule, verdict and subject.

        By default: the finding's evidence as inputs, and the check in words.
        """
        return {
            "inputs": [
                {"name": e.name, "value": e.value, "location": e.location, "text": e.text} for e in finding.evidence
            ],
            "comparison": {
                "expression": self.describe(),
                "actual": finding.actual,
                "op": "",
                "expected": finding.expected,
                "holds": False,
                "statement": finding.message,
            },
        }

    def explain_evaluation(
        self, ex: Explainer, rule: Rule, subject: str, leg: int, witness: tuple, verdict: str
    ) -> dict[str, Any]:
        """The tree parts of one recorded evaluation (kinds whose ``compile`` calls ``rc.evaluated``)."""
        raise NotImplementedError(f"{type(self).__name__} records no evaluations")

    # -- catalogue and lint ---------------------------------------------------------------------------
    @abstractmethod
    def describe(self) -> str:
        """What the check requires, in one Chinese sentence (the catalogue's “检查什么”)."""

    def label(self) -> str:
        """How an explanation names the check: the kind's name unless the check has its own text."""
        return self.name

    def signature(self) -> Hashable:
        """Two rules on the same subject and conditions with equal signatures check the same thing."""
        return (self.name, *(getattr(self, f.name) for f in fields(self)))  # type: ignore[arg-type]

    def lint(self, rule: Rule) -> list[str]:
        """Problems that load fine but make the rule worse (``hegui rules lint``).

        By default a tolerance is one: only kinds that compare numbers use it, and an author
        who wrote one expects it to matter.
        """
        if rule.tolerance:
            return ["写了容差（tolerance），但这种检查方式不使用容差"]
        return []


_KINDS: dict[str, type[CheckKind]] = {}


def register_check_kind(cls: type[CheckKind]) -> type[CheckKind]:
    """Register ``cls`` under its ``keyword`` (usable as a class decorator).

    Registration order is the order in which a ``check:`` mapping's keys are tried, and the
    order kinds are listed in errors. A keyword already taken is an error, not a silent
    replacement: two packages must not fight over what a rule means.
    """
    if not isinstance(getattr(cls, "keyword", None), str) or not getattr(cls, "name", ""):
        raise TypeError(f"{cls.__name__} must set the class attributes keyword and name")
    if not (cls.__doc__ or "").strip():
        raise TypeError(f"{cls.__name__} must document what it checks and the YAML it takes")
    taken = _KINDS.get(cls.keyword)
    if taken is not None and taken is not cls:
        raise ValueError(f"check keyword {cls.keyword!r} is already registered by {taken.__name__}")
    _KINDS[cls.keyword] = cls
    return cls


def unregister_check_kind(keyword: str) -> None:
    """Remove the kind registered under ``keyword`` (tests that register a kind of their own)."""
    _KINDS.pop(keyword, None)


def check_kinds() -> tuple[type[CheckKind], ...]:
    """Every registered kind, in registration order."""
    return tuple(_KINDS.values())


def check_kind_for(value: Any) -> type[CheckKind] | None:
    """The kind a ``check:`` value selects: the expression kind for text, else the first
    registered kind whose keyword the mapping contains; None when nothing matches."""
    if isinstance(value, str):
        return _KINDS.get("")
    if isinstance(value, dict):
        return next((cls for keyword, cls in _KINDS.items() if keyword and keyword in value), None)
    return None


def check_section_keys() -> dict[str, str]:
    """Every key any registered kind accepts under ``check:``, with its Chinese name."""
    keys: dict[str, str] = {}
    for cls in _KINDS.values():
        keys.update(cls.keys)
    return keys
