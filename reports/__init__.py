"""Reports: the findings of a batch of filings in every format hegui writes, one module per format.

:func:`reporters_for` gives the registry of a run: the built-in formats (:data:`BUILTIN_REPORTERS`)
and the formats plugins registered, added the same way, so ``hegui check --format``, its help
and the service all read one list. Each format is a :class:`Reporter` whose
``render(outcomes, context)`` turns the :class:`FilingOutcome` of each input into the whole
report::

    reporters = reporters_for(plugin_registry)
    text = reporters.render("json", outcomes, ReportContext(ruleset, plugin_registry))

A format that can be written while its outcomes are read one at a time also has
``stream(outcomes, context)`` (:attr:`Reporter.streams`): given an :class:`Outcomes` source
(a batch spooled on disk, or :class:`OutcomeList`), it yields the same text in pieces, so a
batch of thousands of filings is reported without holding them all::

    for piece in reporters.stream("json", batch.outcomes(), ReportContext(ruleset)):
        out.write(piece)

Every built-in format streams except ``xlsx`` (openpyxl builds the whole workbook in memory);
plugin formats never stream (their hook takes a list).

Layering: this package is an application of the engine; it imports :mod:`hegui.engine`,
:mod:`hegui.facts` and :mod:`hegui.plugins`, and none of those imports it.
"""

from __future__ import annotations

from hegui.plugins.manager import Registry
from hegui.reports import html, json, jsonl, junit, sarif, text, xlsx
from hegui.reports.json import SCHEMA_ID, SCHEMA_VERSION, filing_entry, report_schema, to_json
from hegui.reports.jsonl import to_jsonl
from hegui.reports.outcome import FilingOutcome, Totals, counts, exit_code, totals_of
from hegui.reports.registry import (
    FormatNameTaken,
    ReportContext,
    Reporter,
    Reporters,
    register_plugin_reporters,
)
from hegui.reports.source import OutcomeList, Outcomes
from hegui.reports.text import to_text

#: The formats hegui ships, in the order ``--format`` lists them.
BUILTIN_REPORTERS: tuple[Reporter, ...] = (
    text.REPORTER,
    json.REPORTER,
    jsonl.REPORTER,
    sarif.REPORTER,
    junit.REPORTER,
    html.REPORTER,
    xlsx.REPORTER,
)


def reporters_for(registry: Registry | None = None) -> Reporters:
    """The report formats of a run: the built-in ones, then those the plugins of ``registry``
    registered, each added with the same :meth:`Reporters.register`.

    A plugin format whose name is taken (by a built-in format or another plugin's) raises
    :class:`~hegui.plugins.manager.PluginError` naming the plugin: the run stops.
    """
    reporters = Reporters()
    for reporter in BUILTIN_REPORTERS:
        reporters.register(reporter)
    if registry is not None:
        register_plugin_reporters(reporters, registry)
    return reporters


__all__ = [
    "BUILTIN_REPORTERS",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "FilingOutcome",
    "FormatNameTaken",
    "OutcomeList",
    "Outcomes",
    "ReportContext",
    "Reporter",
    "Reporters",
    "Totals",
    "counts",
    "exit_code",
    "filing_entry",
    "report_schema",
    "reporters_for",
    "to_json",
    "to_jsonl",
    "to_text",
    "totals_of",
]
