"""The text report: what a reviewer reads in a terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hegui.engine.explain import render_text
from hegui.engine.findings import STATUS_CANNOT_VERIFY
from hegui.engine.rules import SEVERITY_NAMES, RuleSet
from hegui.reports.outcome import FilingOutcome, counts
from hegui.reports.registry import ReportContext, Reporter
from hegui.reports.source import OutcomeList, Outcomes


def to_text(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """A reviewer's report: findings grouped by file and table, with location and rule."""
    return "".join(stream(OutcomeList(outcomes), ReportContext(ruleset)))


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s text, one file at a time, then the total line."""
    for outcome in outcomes:
        yield "".join(line + "\n" for line in _outcome_lines(outcome))
    totals = outcomes.totals
    yield (
        f"检查文件{totals.files}个（无法读取{totals.input_errors}个），规则{len(context.ruleset.rules)}条，"
        f"发现{totals.findings}项。\n"
    )


def _outcome_lines(outcome: FilingOutcome) -> list[str]:
    """One file's part of the report, ending with a blank line."""
    lines: list[str] = []
    if outcome.error is not None:
        lines.append(f"✗ {outcome.error}")
        lines.append("")
        return lines
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
    tally = counts(outcome.findings)
    lines.append(
        f"  共{tally['total']}项：错误{tally['error']}，警告{tally['warning']}，提示{tally['info']}"
        f"（其中无法核实{tally['cannot_verify']}）；另有已豁免{tally['waived']}项"
    )
    lines.append("")
    return lines


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """Plain text for a reviewer: each file's department, year and jurisdiction, its findings
    grouped by table (location, rule, severity, item, message, citation, and the derivation
    with ``--explain``), then what could not be verified and what is waived, and a total line.

    Lines end in ``\n``; the same input gives the same text.
    """
    return to_text(list(outcomes), context.ruleset)


REPORTER = Reporter("text", "text/plain", ".txt", False, render, stream=stream)
