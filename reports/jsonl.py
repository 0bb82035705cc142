"""The JSON Lines report: one filing per line, as a batch streams them to ``--results``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hegui.engine.rules import RuleSet
from hegui.reports.json import SCHEMA_VERSION, filing_entry, to_json
from hegui.reports.outcome import FilingOutcome
from hegui.reports.registry import ReportContext, Reporter


def to_jsonl(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """JSON Lines: one filing per line, each exactly a ``#/$defs/filing`` object of the report
    schema (the same lines ``--results`` streams), then one ``{"summary": …}`` line."""
    lines = [json.dumps(filing_entry(o), ensure_ascii=False, sort_keys=True) for o in outcomes]
    document = json.loads(to_json(outcomes, ruleset))
    closing = {
        "summary": {
            "schema_version": SCHEMA_VERSION,
            "counts": document["counts"],
            "rules": document["rules"],
            "tool": document["tool"],
        }
    }
    lines.append(json.dumps(closing, ensure_ascii=False, sort_keys=True))
    return "\n".join(lines) + "\n"


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """JSON Lines: one ``#/$defs/filing`` object of the JSON report's schema per filing, in
    input order, then one ``{"summary": …}`` line with the totals, rule packs and tool.
    """
    return to_jsonl(list(outcomes), context.ruleset)


REPORTER = Reporter("jsonl", "application/jsonl", ".jsonl", False, render)
