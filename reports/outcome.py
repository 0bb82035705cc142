"""What every report format is given: one :class:`FilingOutcome` per input, and the totals.

:func:`counts` and :func:`exit_code` are the figures all formats and the applications agree
on (the CLI's exit status, the batch summary, each format's totals), so they are computed
here once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.facts.errors import InputError
from hegui.facts.model import Filing


@dataclass
class FilingOutcome:
    """What happened to one input file: checked with findings, or refused with an error."""

    path: str
    filing: Filing | None = None
    findings: list[Finding] = field(default_factory=list)
    error: InputError | None = None
    jurisdiction: list[str] = field(default_factory=list)  # nearest first, ending with 全国


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts by severity of the findings not waived; waived ones are counted apart."""
    findings = list(findings)
    waived = sum(1 for f in findings if f.waived)
    findings = [f for f in findings if not f.waived]
    by = Counter(f.severity for f in findings)
    return {
        "waived": waived,
        "error": by.get("error", 0),
        "warning": by.get("warning", 0),
        "info": by.get("info", 0),
        "cannot_verify": sum(1 for f in findings if f.status == STATUS_CANNOT_VERIFY),
        "total": len(findings),
    }


@dataclass(frozen=True)
class Totals:
    """The figures of a whole batch a report states, known without holding its outcomes.

    ``counts``: :func:`counts` of every finding of the batch; ``files``: the inputs;
    ``input_errors``: the inputs that could not be checked. A streamed report states its
    totals before the filings (the JSON report's ``counts`` sorts before ``filings``), so a
    batch adds them up as results arrive.
    """

    counts: dict[str, int]
    files: int
    input_errors: int

    @property
    def findings(self) -> int:
        """Every finding, waived ones included."""
        return self.counts["total"] + self.counts["waived"]

    def exit_code(self, fail_on: str) -> int:
        """What :func:`exit_code` gives for the outcomes these totals are of."""
        if self.input_errors:
            return 2
        if fail_on == "never":
            return 0
        threshold = SEVERITY_RANK[fail_on]
        # counts() counts the findings no waiver covers by severity, whatever their status.
        worst = max((rank for severity, rank in SEVERITY_RANK.items() if self.counts[severity]), default=0)
        return 1 if worst >= threshold else 0


def totals_of(outcomes: Iterable[FilingOutcome]) -> Totals:
    """The :class:`Totals` of ``outcomes``."""
    outcomes = list(outcomes)
    return Totals(
        counts([f for o in outcomes for f in o.findings]),
        files=len(outcomes),
        input_errors=sum(1 for o in outcomes if o.error),
    )


def exit_code(outcomes: Iterable[FilingOutcome], fail_on: str) -> int:
    """0: nothing at or above ``fail_on``; 1: findings at or above it; 2: an input error."""
    return totals_of(outcomes).exit_code(fail_on)
