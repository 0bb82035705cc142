"""The JSON Lines report: one filing per line, as a batch streams them to ``--results``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from hegui.engine.rules import RuleSet
from hegui.reports.json import SCHEMA_VERSION, summary_fields
from hegui.reports.outcome import FilingOutcome
from hegui.reports.registry import ReportContext, Reporter
from hegui.reports.source import OutcomeList, Outcomes


def to_jsonl(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """JSON Lines: one filing per line, each exactly a ``#/$defs/filing`` object of the report
    schema (the same lines ``--results`` streams), then one ``{"summary": …}`` line."""
    return "".join(stream(OutcomeList(outcomes), ReportContext(ruleset)))


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s text, one line at a time."""
    for entry in outcomes.entries():
        yield json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    closing = {"summary": {"schema_version": SCHEMA_VERSION, **summary_fields(outcomes.totals, context.ruleset)}}
    yield json.dumps(closing, ensure_ascii=False, sort_keys=True) + "\n"


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """JSON Lines: one ``#/$defs/filing`` object of the JSON report's schema per filing, in
    input order, then one ``{"summary": …}`` line with the totals, rule packs and tool.
    """
    return to_jsonl(list(outcomes), context.ruleset)


REPORTER = Reporter("jsonl", "application/jsonl", ".jsonl", False, render, stream=stream)
