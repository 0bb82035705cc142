"""The JSON report for pipelines: versioned and described by a JSON Schema.

The JSON form is versioned (:data:`SCHEMA_ID`) and described by ``report.schema.json`` in
this package; it contains no timestamps or absolute paths the caller did not give, so the
same input always gives byte-identical output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from hegui import __version__
from hegui.engine.rules import RuleSet
from hegui.reports.jsonstream import Encoded, LazyArray, iter_json, materialize
from hegui.reports.outcome import FilingOutcome, Totals, counts, totals_of
from hegui.reports.registry import ReportContext, Reporter

if TYPE_CHECKING:
    from hegui.reports.source import Outcomes

SCHEMA_ID = "https://hegui.invalid/schema/report/1"
SCHEMA_VERSION = "1"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report (draft 2020-12)."""
    return json.loads(resources.files("hegui.reports").joinpath("report.schema.json").read_text(encoding="utf-8"))


def summary_fields(totals: Totals, ruleset: RuleSet) -> dict[str, Any]:
    """The report's ``tool``, ``rules`` and ``counts`` (also the JSON Lines report's summary)."""
    return {
        "tool": {"name": "hegui", "version": __version__},
        "rules": {"packs": list(ruleset.packs), "count": len(ruleset.rules)},
        "counts": {**totals.counts, "files": totals.files, "input_errors": totals.input_errors},
    }


def _document(entries: Iterable[dict[str, Any] | Encoded], totals: Totals, ruleset: RuleSet) -> dict[str, Any]:
    """The report's skeleton: the filings' entries as a :class:`LazyArray` (read as it is written)."""
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        **summary_fields(totals, ruleset),
        "filings": LazyArray(entries),
    }


def to_json(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The report as JSON text (sorted keys, UTF-8 characters kept, trailing newline)."""
    document = materialize(_document(map(filing_entry, outcomes), totals_of(outcomes), ruleset))
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s text in pieces, one filing's entry at a time (copied as encoded)."""
    entries = map(Encoded, outcomes.encoded_entries())
    yield from iter_json(_document(entries, outcomes.totals, context.ruleset))
    yield "\n"


def filing_entry(outcome: FilingOutcome) -> dict[str, Any]:
    """One filing's part of the JSON report (also one line of the JSON Lines form)."""
    entry: dict[str, Any] = {"file": outcome.path}
    if outcome.error is not None:
        entry["status"] = "error"
        entry["error"] = {"message": outcome.error.message, "location": outcome.error.location}
        return entry
    assert outcome.filing is not None
    entry["status"] = "checked"
    entry["department"] = outcome.filing.department
    entry["year"] = outcome.filing.year
    entry["encoding"] = outcome.filing.encoding
    entry["jurisdiction"] = list(outcome.jurisdiction)
    entry["counts"] = counts(outcome.findings)
    entry["findings"] = [f.to_json() for f in outcome.findings]
    return entry


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """One JSON document (schema ``report.schema.json``, ``schema_version`` "1"): the tool and
    rule packs, one object per filing with its findings (or its error), and the totals.

    Keys are sorted, non-ASCII characters kept, two-space indent, trailing newline: the same
    input gives byte-identical JSON.
    """
    return to_json(list(outcomes), context.ruleset)


REPORTER = Reporter("json", "application/json", ".json", False, render, stream=stream)
