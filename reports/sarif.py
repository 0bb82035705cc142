"""The SARIF 2.1.0 report, for code-scanning tools.

The log has no timestamps or absolute paths the caller did not give and is written in a
fixed order (sorted keys, rules by id), so the same input always gives byte-identical output.
It is validated against the official schema in ``schemas/`` by the tests.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

from hegui import __version__
from hegui.engine.findings import STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import Rule, RuleSet
from hegui.reports.common import (
    DOCX_CELL,
    LINE_RANGE,
    citation_dict,
    citation_text,
    explanation_text,
    place_in_file,
    rules_by_id,
    xlsx_anchor,
)
from hegui.reports.jsonstream import LazyArray, iter_json, materialize
from hegui.reports.outcome import FilingOutcome, counts
from hegui.reports.registry import ReportContext, Reporter
from hegui.reports.source import OutcomeList, Outcomes

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """The file path as given, as a URI reference: forward slashes, percent-encoded (SARIF §3.10)."""
    return urllib.parse.quote(path.replace("\\", "/"), safe="/")


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    citation = citation_text(rule.source)
    help_lines = []
    if rule.fix:
        help_lines.append(f"如何改正：{rule.fix}")
    help_lines.append(f"依据：{citation}")
    if rule.source.quote:
        help_lines.append(f"原文：“{rule.source.quote}”")
    properties: dict[str, Any] = {
        "citation": citation_dict(rule.source),
        "pack": rule.pack,
        "jurisdiction": rule.jurisdiction,
        "subject": rule.subject,
        "severity": rule.severity,
    }
    if rule.tags:
        properties["tags"] = sorted(set(rule.tags))  # a SARIF property bag's tags are unique strings
    return {
        "id": rule.id,
        # SARIF's name is a machine-readable identifier; the human title is shortDescription.
        "name": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": properties,
    }


def _sarif_location(place: str, uri: str, index: int, line: int = 0) -> dict[str, Any]:
    """A SARIF location for a place in a filing.

    SARIF regions address text (lines, columns, offsets) or binary bytes; there is no region
    for a spreadsheet cell or a Word table cell. A line place (text dump) becomes a region;
    a cell locator becomes a ``logicalLocation`` named by the locator (kind ``cell`` for
    ``Sheet!C12``, ``tableCell`` for a Word table cell), and the locator is repeated in the
    location's ``properties`` so tools that ignore logical locations still show it.
    """
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": index}}
    location: dict[str, Any] = {"physicalLocation": physical}
    lines = LINE_RANGE.match(place)
    if lines:
        start = int(lines.group(1))
        region = {"startLine": start}
        if lines.group(2) and int(lines.group(2)) > start:
            region["endLine"] = int(lines.group(2))
        physical["region"] = region
    elif place:
        kind = "cell" if xlsx_anchor(place) else "tableCell" if DOCX_CELL.match(place) else "text"
        location["logicalLocations"] = [{"fullyQualifiedName": place, "kind": kind, "name": place}]
        location["properties"] = {"cell": place}
    elif line:
        physical["region"] = {"startLine": line}
    return location


def _sarif_result(
    finding: Finding, outcome: FilingOutcome, rule_index: dict[str, int], artifact: int
) -> dict[str, Any]:
    uri = _uri(outcome.path)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "message": {"text": finding.message},
        "locations": [_sarif_location(place_in_file(finding.location, outcome.path), uri, artifact, finding.line)],
        # The finding id is stable across runs (rule, subject, leg, status): code-scanning
        # services use it to recognise the same result in the next run.
        "partialFingerprints": {"heguiFindingId/v1": finding.id},
    }
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    if finding.status == STATUS_CANNOT_VERIFY:
        # SARIF §3.27.9: a result whose kind is not "fail" has level "none". "review" is
        # SARIF's kind for "a person must look at this"; the finding's severity stays in properties.
        result["kind"] = "review"
        result["level"] = "none"
    else:
        result["kind"] = "fail"
        result["level"] = _SARIF_LEVEL[finding.severity]
    related: list[dict[str, Any]] = []
    for evidence in finding.evidence:
        place = place_in_file(evidence.location, outcome.path) if evidence.location else ""
        if not place:
            continue  # a parameter's "规则包 …" or a missing value: not a place in the file
        loc = _sarif_location(place, uri, artifact)
        loc["id"] = len(related)
        loc["message"] = {"text": f"{evidence.name} = {evidence.value}"}
        related.append(loc)
    if related:
        result["relatedLocations"] = related
    properties: dict[str, Any] = {
        "findingId": finding.id,
        "status": finding.status,
        "severity": finding.severity,
        "table": finding.table,
        "item": finding.item,
        "location": finding.location,
        "expected": finding.expected,
        "actual": finding.actual,
        "citation": citation_dict(finding.citation),
        "pack": finding.pack,
    }
    if finding.evidence:
        properties["evidence"] = [
            {k: v for k, v in (("name", e.name), ("value", e.value), ("location", e.location), ("text", e.text)) if v}
            for e in finding.evidence
        ]
    if finding.explanation is not None:
        properties["explanation"] = finding.explanation
        properties["explanationText"] = explanation_text(finding)
    if finding.waiver is not None:
        note = finding.waiver
        properties["waiver"] = {
            "status": note.status,
            "reason": note.reason,
            "approvedBy": note.approved_by,
            "expires": note.expires,
            "source": note.source,
        }
        if finding.waived:
            result["suppressions"] = [
                {
                    "kind": "external",  # the waiver lives in a file of its own, not in the filing
                    "status": "accepted",
                    "justification": note.reason,
                    "properties": {"approvedBy": note.approved_by, "expires": note.expires, "source": note.source},
                }
            ]
    result["properties"] = properties
    return result


def _artifact(outcome: FilingOutcome) -> dict[str, Any]:
    artifact: dict[str, Any] = {"location": {"uri": _uri(outcome.path)}, "roles": ["analysisTarget"]}
    if outcome.filing is not None:
        artifact["encoding"] = outcome.filing.encoding
        artifact["properties"] = {
            "department": outcome.filing.department,
            "year": outcome.filing.year,
            "jurisdiction": list(outcome.jurisdiction),
            "counts": counts(outcome.findings),
        }
    return artifact


def _notification(outcome: FilingOutcome, index: int) -> dict[str, Any]:
    assert outcome.error is not None
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(outcome.path), "index": index}}
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": str(outcome.error)},
        "locations": [{"physicalLocation": physical}],
        "descriptor": {"id": "hegui.input-error"},
    }
    if outcome.error.location:
        notification["properties"] = {"location": outcome.error.location}
    return notification


def _skeleton(outcomes: Outcomes, ruleset: RuleSet) -> dict[str, Any]:
    """The log with its per-file arrays as :class:`LazyArray` objects, each a pass over ``outcomes``.

    A path given twice is one artifact (the first outcome's) that both outcomes point at.
    """
    rules = rules_by_id(ruleset)
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    artifact_of: dict[str, int] = {}
    for path in outcomes.paths:
        artifact_of.setdefault(path, len(artifact_of))
    totals = outcomes.totals

    def artifacts() -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        for outcome in outcomes:
            if outcome.path not in seen:
                seen.add(outcome.path)
                yield _artifact(outcome)

    def notifications() -> Iterator[dict[str, Any]]:
        for outcome in outcomes:
            if outcome.error is not None:
                yield _notification(outcome, artifact_of[outcome.path])

    def results() -> Iterator[dict[str, Any]]:
        for outcome in outcomes:
            if outcome.error is None:
                index = artifact_of[outcome.path]
                yield from (_sarif_result(f, outcome, rule_index, index) for f in outcome.findings)

    # A file that could not be read means the analysis is incomplete: the run reports it as
    # not fully successful (like exit code 2 of ``hegui check``), with one notification per file.
    invocation: dict[str, Any] = {"executionSuccessful": not totals.input_errors}
    if totals.input_errors:
        invocation["toolExecutionNotifications"] = LazyArray(notifications())
    run = {
        "tool": {"driver": {"name": "hegui", "version": __version__, "rules": [_sarif_rule(r) for r in rules]}},
        "artifacts": LazyArray(artifacts()),
        "invocations": [invocation],
        "results": LazyArray(results()),
        "columnKind": "unicodeCodePoints",
        "properties": {
            "packs": list(ruleset.packs),
            "ruleCount": len(rules),
            "files": totals.files,
            "inputErrors": totals.input_errors,
            "counts": totals.counts,
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def sarif_document(outcomes: list[FilingOutcome], ruleset: RuleSet) -> dict[str, Any]:
    """The SARIF 2.1.0 log as a dict (see :func:`to_sarif`)."""
    return materialize(_skeleton(OutcomeList(outcomes), ruleset))


def to_sarif(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The batch as a SARIF 2.1.0 log: one run, every rule in ``tool.driver.rules``, one result per finding.

    Failed checks are results of kind ``fail`` with the rule's level (error, warning, note);
    unverifiable ones have kind ``review``; findings under an active waiver carry an external
    suppression with the waiver's reason. Text-dump lines become regions; cells of a workbook
    or a Word table become logical locations (SARIF has no cell regions). Files that could
    not be read are error notifications of the invocation. Sorted keys, trailing newline.
    """
    return json.dumps(sarif_document(outcomes, ruleset), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s log in pieces: the artifacts, the notifications and the results are
    each one pass over ``outcomes``."""
    yield from iter_json(_skeleton(outcomes, context.ruleset))
    yield "\n"


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """A SARIF 2.1.0 log (JSON) for code-scanning tools: one run, every rule in
    ``tool.driver.rules``, one result per finding (text-dump lines as regions, cells as
    logical locations, waived findings suppressed), unreadable files as error notifications.
    """
    return to_sarif(list(outcomes), context.ruleset)


REPORTER = Reporter("sarif", "application/sarif+json", ".sarif", False, render, stream=stream)
