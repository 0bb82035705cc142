"""What a streaming report format reads: the outcomes of a batch, one at a time, in input order.

A format that streams (``Reporter.stream``) is given an :class:`Outcomes` source rather than
a list: it may iterate it more than once (a format whose header states totals or lists
every file reads it again for the body), and each pass yields one
:class:`~hegui.reports.outcome.FilingOutcome` at a time, so a batch spooled on disk
(:mod:`hegui.app.batch`) is rendered without all its findings in memory. The totals a
report states before its filings come with the source (:class:`~hegui.reports.outcome.Totals`).
:class:`OutcomeList` is the source of outcomes already in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any, Protocol

from hegui.reports.json import filing_entry
from hegui.reports.outcome import FilingOutcome, Totals, totals_of


class Outcomes(Protocol):
    """The outcomes of a batch, re-readable in input order without holding them all."""

    @property
    def paths(self) -> Sequence[str]:
        """Each outcome's path, in input order (what a table of contents needs)."""
        ...

    @property
    def totals(self) -> Totals:
        """The batch's totals, known before the first outcome is read."""
        ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[FilingOutcome]:
        """One pass over the outcomes, in input order."""
        ...

    def entries(self) -> Iterator[dict[str, Any]]:
        """One pass over the outcomes as their JSON report entries (:func:`~hegui.reports.json.filing_entry`)."""
        ...

    def encoded_entries(self) -> Iterator[str]:
        """One pass over the entries as JSON text: ``json.dumps(entry, ensure_ascii=False,
        sort_keys=True, indent=2)`` (what a batch spools, so the JSON report copies it)."""
        ...


class OutcomeList:
    """An :class:`Outcomes` source over outcomes already in memory."""

    def __init__(self, outcomes: Sequence[FilingOutcome]) -> None:
        self.outcomes = outcomes

    @property
    def paths(self) -> list[str]:
        return [o.path for o in self.outcomes]

    @cached_property
    def totals(self) -> Totals:
        return totals_of(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[FilingOutcome]:
        return iter(self.outcomes)

    def entries(self) -> Iterator[dict[str, Any]]:
        return (filing_entry(o) for o in self.outcomes)

    def encoded_entries(self) -> Iterator[str]:
        return (json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=2) for entry in self.entries())
