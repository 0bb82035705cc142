"""Reports: findings of a batch of filings as text for people or JSON for pipelines.

The JSON form is versioned (:data:`SCHEMA_ID`) and described by ``report.schema.json`` in
this package; it contains no timestamps or absolute paths the caller did not give, so the
same input always gives byte-identical output.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from hegui import __version__
from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import SEVERITY_NAMES, RuleSet
from hegui.facts.errors import InputError
from hegui.facts.model import Filing

SCHEMA_ID = "https://hegui.invalid/schema/report/1"
SCHEMA_VERSION = "1"


@dataclass
class FilingOutcome:
    """What happened to one input file: checked with findings, or refused with an error."""

    path: str
    filing: Filing | None = None
    findings: list[Finding] = field(default_factory=list)
    error: InputError | None = None
    jurisdiction: list[str] = field(default_factory=list)  # nearest first, ending with 全国


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report (draft 2020-12)."""
    return json.loads(resources.files("hegui.engine").joinpath("report.schema.json").read_text(encoding="utf-8"))


def _counts(findings: list[Finding]) -> dict[str, int]:
    """Counts by severity of the findings not waived; waived ones are counted apart."""
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


def to_json(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The report as JSON text (sorted keys, UTF-8 characters kept, trailing newline)."""
    filings = [filing_entry(outcome) for outcome in outcomes]
    all_findings = [f for o in outcomes for f in o.findings]
    document = {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hegui", "version": __version__},
        "rules": {"packs": list(ruleset.packs), "count": len(ruleset.rules)},
        "filings": filings,
        "counts": {
            **_counts(all_findings),
            "files": len(outcomes),
            "input_errors": sum(1 for o in outcomes if o.error),
        },
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


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
    entry["counts"] = _counts(outcome.findings)
    entry["findings"] = [f.to_json() for f in outcome.findings]
    return entry


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


def to_text(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """A reviewer's report: findings grouped by file and table, with location and finding id.

    The id (``RULE-ID@hash``) is what ``hegui why FILE ID`` takes.
    """
    lines: list[str] = []
    for outcome in outcomes:
        if outcome.error is not None:
            lines.append(f"✗ {outcome.error}")
            lines.append("")
            continue
        filing = outcome.filing
        assert filing is not None
        head = f"{outcome.path}  {filing.department or '（未识别部门）'} {filing.year or '？'}年度"
        lines.append(head)
        if outcome.jurisdiction:
            lines.append(f"  适用地区：{' → '.join(outcome.jurisdiction)}")
            if outcome.jurisdiction == ["全国"]:
                lines.append("  注意：未能从部门名称识别所属地区，只检查了全国通用规则；可用 --district 指定。")
        failures = [f for f in outcome.findings if f.status != STATUS_CANNOT_VERIFY and not f.waived]
        unverifiable = [f for f in outcome.findings if f.status == STATUS_CANNOT_VERIFY and not f.waived]
        waived = [f for f in outcome.findings if f.waived]
        if not outcome.findings:
            lines.append("  未发现问题。")
        table = None
        for finding in failures:
            if finding.table != table:
                table = finding.table
                lines.append(f"  【{table or '全文'}】")
            lines.append(f"    {finding.location}  {finding.id}  {SEVERITY_NAMES[finding.severity]}  {finding.item}")
            lines.append(f"      {finding.message}")
            lines.append(f"      依据：{finding.citation}")
            if finding.explanation is not None:
                from hegui.engine.explain import render_text

                lines.extend("    " + line for line in render_text(finding.explanation).split("\n")[2:])
            if finding.waiver is not None:
                lines.append(f"      豁免已于{finding.waiver.expires}过期，不再适用（{finding.waiver.source}）")
        if unverifiable:
            lines.append("  【无法核实】")
            for finding in unverifiable:
                lines.append(f"    {finding.location}  {finding.id}  {finding.item}")
                lines.append(f"      {finding.message}")
        if waived:
            lines.append("  【已豁免】（仍列出，不计入结果）")
            for finding in waived:
                note = finding.waiver
                lines.append(f"    {finding.location}  {finding.id}  {finding.item}")
                lines.append(f"      {finding.message}")
                lines.append(
                    f"      豁免：{note.reason}；批准：{note.approved_by}；有效期至{note.expires}（{note.source}）"
                )
        counts = _counts(outcome.findings)
        lines.append(
            f"  共{counts['total']}项：错误{counts['error']}，警告{counts['warning']}，提示{counts['info']}"
            f"（其中无法核实{counts['cannot_verify']}）；另有已豁免{counts['waived']}项"
        )
        lines.append("")
    errors = sum(1 for o in outcomes if o.error)
    total = sum(len(o.findings) for o in outcomes)
    lines.append(f"检查文件{len(outcomes)}个（无法读取{errors}个），规则{len(ruleset.rules)}条，发现{total}项。")
    return "\n".join(lines) + "\n"


def exit_code(outcomes: list[FilingOutcome], fail_on: str) -> int:
    """0: nothing at or above ``fail_on``; 1: findings at or above it; 2: an input error."""
    if any(o.error for o in outcomes):
        return 2
    if fail_on == "never":
        return 0
    threshold = SEVERITY_RANK[fail_on]
    worst = max((SEVERITY_RANK[f.severity] for o in outcomes for f in o.findings if not f.waived), default=0)
    return 1 if worst >= threshold else 0
